/**
 * Mutants of the operators' configs (test/fixtures/keepalived-corpus/), each checked by
 * Debian's keepalived -t and by vigil's -t (in-process: the loader plus the host checks the
 * CLI runs, with the namespace's interfaces): vigil never crashes, and on ≥ 99 % of the
 * mutants both are clean or both name the same first line. The disagreements are printed
 * with their seed and edit, so each reproduces: MUTATION_SEED=<seed> MUTANTS=1.
 *
 * "The first line": the smallest line a checker names. keepalived's line-less messages are
 * mapped to the block they name (keepalived-verdict.ts); a `}` line it names also matches the
 * line its block opened on (keepalived checks a block when it reads its `}`). Messages naming
 * nothing (SECURITY VIOLATION) and vigil's matching script-security warning are left out of
 * "first line" on both sides, as are keepalived's messages that depend on the host (DNS).
 */
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfigScripts, stopsBeforeHostChecks } from '../../../src/cli/host-check.ts';
import { loadConfigFull } from '../../../src/config/load.ts';
import type { Diagnostic } from '../../../src/config/model.ts';
import { keepalivedCheck, openerOfClose, type KeepalivedMessage } from '../../helpers/keepalived-verdict.ts';
import { mutate, MUTATION_KINDS, type Mutant } from '../../helpers/mutate.ts';
import { NetnsLab, requireRoot } from '../../helpers/netns.ts';

const CORPUS = 'test/fixtures/keepalived-corpus';
const INTERFACES = ['eth0', 'eth1', 'bond0', 'br-ex', 'ens18', 'ens192', 'ens3', 'ens33', 'vmbr0'];
/** configs left out, and why */
const SKIP: Record<string, string> = {
  'keydb-track-process.conf': 'vrrp_track_process is not built yet (issue 11, VRRP side): vigil warns on lines keepalived accepts',
};
/** keepalived messages that depend on the machine, not the config */
const ENVIRONMENT = [/^Invalid smtp server /];
const COUNT = Number(process.env['MUTANTS'] ?? 1000);
const SEED = Number(process.env['MUTATION_SEED'] ?? 20261206);
const PARALLEL = 4;
/** The agreement this test holds vigil to: the issue's 99 %. */
const FLOOR = 0.99;

interface KLine {
  readonly line: number;
  /** the line its block opened on, when `line` is a `}` */
  readonly alt?: number;
  readonly text: string;
}

/**
 * keepalived's first line, read two ways: the first it prints (parse order; its checks after
 * parsing print later) and the smallest it names. Undefined when it names none.
 */
function keepalivedFirst(text: string, messages: readonly KeepalivedMessage[]): { printed: KLine; smallest: KLine } | undefined {
  let printed: KLine | undefined;
  let smallest: KLine | undefined;
  const lo = (l: KLine): number => Math.min(l.line, l.alt ?? l.line);
  for (const m of messages) {
    if (m.line === undefined || ENVIRONMENT.some((e) => e.test(m.text))) continue;
    const alt = openerOfClose(text, m.line);
    const l: KLine = alt !== undefined ? { line: m.line, alt, text: m.text } : { line: m.line, text: m.text };
    printed ??= l;
    if (smallest === undefined || lo(l) < lo(smallest)) smallest = l;
  }
  return printed !== undefined && smallest !== undefined ? { printed, smallest } : undefined;
}

const names = (l: KLine, line: number): boolean => l.line === line || l.alt === line;

function firstVigilLine(diags: readonly Diagnostic[], file: string): Diagnostic | undefined {
  let best: Diagnostic | undefined;
  for (const d of diags) {
    if (d.code === 'script-security' || d.loc.file !== file) continue;
    if (best === undefined || d.loc.line < best.loc.line) best = d;
  }
  return best;
}

/** What `vigil -t` reports (src/cli/main.ts), with the namespace's interfaces. */
async function vigilCheck(file: string): Promise<Diagnostic[]> {
  const r = loadConfigFull(file, { configId: 'lb1', interfaceExists: (n) => INTERFACES.includes(n) });
  return [...r.diagnostics, ...(await checkConfigScripts(r.parsed, !stopsBeforeHostChecks(r.diagnostics), r.refusedInstances?.length ?? 0))];
}

test.serial(`${COUNT} seeded mutants of the corpus: vigil never crashes; keepalived -t and vigil -t agree on the first line of ≥ ${FLOOR * 100} %`, async (t) => {
  if (!requireRoot(t)) return;
  // ~40 s alone on 2 cores; allow for the rest of the suite running beside it
  t.timeout(600_000);
  const lab = new NetnsLab('km');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-mutants-'));
  t.teardown(() => {
    lab.removeAll();
    rmSync(dir, { recursive: true, force: true });
  });
  const ns = lab.addNs('a');
  const peer = lab.addNs('b');
  INTERFACES.forEach((ifname, i) => lab.veth(ns, ifname, peer, `p${i}`));

  const files = readdirSync(CORPUS)
    .filter((f) => f.endsWith('.conf') && !Object.hasOwn(SKIP, f))
    .sort();
  const texts = files.map((f) => readFileSync(join(CORPUS, f), 'utf8'));
  const jobs: Array<{ seed: number; file: string; mutant: Mutant }> = [];
  for (let i = 0; jobs.length < COUNT && i < COUNT * 3; i++) {
    // The seed alone picks the config, the kind of edit and the edit: MUTATION_SEED=<seed>
    // MUTANTS=1 reproduces one mutant.
    const seed = SEED + i;
    const fi = seed % files.length;
    const kind = MUTATION_KINDS[Math.floor(seed / files.length) % MUTATION_KINDS.length];
    const m = mutate(texts[fi]!, seed, kind);
    if (m !== undefined) jobs.push({ seed, file: files[fi]!, mutant: m });
  }
  t.is(jobs.length, COUNT, 'enough mutants');

  const crashes: string[] = [];
  const disagreements: string[] = [];
  const keepalivedCrashes: string[] = [];
  const byKind = new Map<string, { n: number; agree: number }>();
  const started = Date.now();
  let next = 0;
  const worker = async (w: number): Promise<void> => {
    for (;;) {
      const j = next++;
      const job = jobs[j];
      if (job === undefined) return;
      const path = join(dir, `w${w}-${job.file}`);
      writeFileSync(path, job.mutant.text);
      const k = await keepalivedCheck(ns, path);
      if (k.signal !== undefined) keepalivedCrashes.push(`seed ${job.seed} ${job.file} (${job.mutant.what}): keepalived -t died of ${k.signal}`);
      let v: Diagnostic[];
      try {
        v = await vigilCheck(path);
      } catch (e) {
        crashes.push(`seed ${job.seed} ${job.file} (${job.mutant.what}): ${(e as Error).stack ?? String(e)}`);
        continue;
      }
      const internal = v.find((d) => d.code === 'internal');
      if (internal !== undefined) crashes.push(`seed ${job.seed} ${job.file} (${job.mutant.what}): ${internal.message}`);
      const kUnclean = k.rc !== 0 && k.messages.some((m) => !ENVIRONMENT.some((e) => e.test(m.text)));
      const kf = kUnclean ? keepalivedFirst(job.mutant.text, k.messages) : undefined;
      const vf = firstVigilLine(v, path);
      // Both clean; or both name the same first line; or keepalived complains naming no line
      // and vigil complains (e.g. only "There are 1 missing '}'s").
      const agree = !kUnclean
        ? vf === undefined
        : kf === undefined
          ? v.length > 0
          : vf !== undefined && (names(kf.printed, vf.loc.line) || names(kf.smallest, vf.loc.line));
      const s = byKind.get(job.mutant.kind) ?? { n: 0, agree: 0 };
      s.n++;
      if (agree) s.agree++;
      byKind.set(job.mutant.kind, s);
      if (!agree) {
        const kWhat = !kUnclean ? 'clean' : kf === undefined ? 'complains, naming no line' : `line ${kf.printed.line}${kf.printed.alt !== undefined ? `/${kf.printed.alt}` : ''}: ${kf.printed.text}`;
        const vWhat = vf === undefined ? 'clean' : `line ${vf.loc.line}: ${vf.severity}: ${vf.message}`;
        disagreements.push(`seed ${job.seed} ${job.file}, ${job.mutant.what}\n    keepalived ${kWhat}\n    vigil      ${vWhat}`);
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, (_, w) => worker(w)));
  const agreed = jobs.length - disagreements.length;
  const rate = agreed / jobs.length;
  t.log(`${jobs.length} mutants of ${files.length} configs in ${((Date.now() - started) / 1000).toFixed(1)} s; agreement ${(rate * 100).toFixed(1)} %`);
  t.log(`by kind: ${[...byKind].map(([k, s]) => `${k} ${s.agree}/${s.n}`).join(', ')}`);
  if (keepalivedCrashes.length > 0) t.log(`keepalived itself crashed on ${keepalivedCrashes.length} (its output up to the crash is its verdict):\n${keepalivedCrashes.join('\n')}`);
  if (disagreements.length > 0) t.log(`disagreements:\n${disagreements.join('\n')}`);
  t.deepEqual(crashes, [], 'vigil never crashes');
  t.true(rate >= FLOOR, `agreement ${(rate * 100).toFixed(1)} % is below ${FLOOR * 100} %`);
});
