/**
 * keepalived's verdict against vigil's on operators' own configs
 * (test/fixtures/keepalived-corpus/). Both checkers run in a namespace that has every
 * interface the corpus names (veths), so neither complains about interfaces first.
 *
 * The rule, per config:
 *  - keepalived clean (exit 0) ⇒ vigil exits 0 and prints nothing;
 *  - every line keepalived names (or the block it names, see keepalived-verdict.ts), vigil
 *    names too, as a warning or an error; a complaint naming neither makes vigil say
 *    something somewhere;
 *  - vigil exits 1 only where keepalived's own words say it drops the block or cannot go on
 *    (FATAL below).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keepalivedCheck, openerOfClose, type KeepalivedMessage } from '../../helpers/keepalived-verdict.ts';
import { NetnsLab, requireRoot } from '../../helpers/netns.ts';

const CORPUS = 'test/fixtures/keepalived-corpus';
export const CORPUS_INTERFACES = ['eth0', 'eth1', 'bond0', 'br-ex', 'ens18', 'ens192', 'ens3', 'ens33', 'vmbr0'];

/** Where vigil may exit 1, with the words keepalived uses for the same line. */
const FATAL: ReadonlyArray<{ file: string; line: number; keepalived: string }> = [];

/**
 * Complaints of keepalived that depend on the machine it runs on, not on the config; vigil
 * is not held to them. Each says why.
 */
const ENVIRONMENT: ReadonlyArray<{ file: string; match: RegExp; why: string }> = [
  {
    file: 'chuyio-nginx-brace-next-line.conf',
    match: /^Invalid smtp server smtp\.163\.com/,
    why: 'keepalived resolves smtp_server names while parsing; the test namespace has no DNS. vigil resolves it when it sends mail.',
  },
];

/** Features another issue builds; until then vigil's "not implemented" warning is the honest answer. */
const NOT_YET: ReadonlyArray<{ file: string; why: string }> = [
  { file: 'keydb-track-process.conf', why: 'vrrp_track_process / track_process: issue 11 (VRRP side)' },
];

/** Messages that name no line and no block, and what vigil must say somewhere for each. */
const GLOBAL: ReadonlyArray<{ keepalived: RegExp; vigil: RegExp }> = [{ keepalived: /^SECURITY VIOLATION/, vigil: /enable_script_security/ }];

interface VigilVerdict {
  rc: number;
  diags: Array<{ line: number; severity: string; message: string }>;
  raw: string;
}

function vigilCheck(ns: string, file: string): Promise<VigilVerdict> {
  return new Promise((resolve, reject) => {
    execFile(
      'ip',
      ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'src/cli/main.ts', '-t', '-f', file],
      { encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        const rc = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
        if (rc < 0) return reject(err ?? new Error('vigil did not exit'));
        const diags: VigilVerdict['diags'] = [];
        for (const l of stderr.split('\n')) {
          const m = /^(.*?):(\d+):(\d+): (error|warning): (.*)$/.exec(l);
          if (m !== null) diags.push({ line: Number(m[2]), severity: m[4]!, message: m[5]! });
        }
        resolve({ rc, diags, raw: stdout + stderr });
      },
    );
  });
}

/** What is wrong with vigil's verdict against keepalived's on one config; empty when they agree. */
export function disagreements(
  name: string,
  text: string,
  k: { rc: number; messages: readonly KeepalivedMessage[] },
  v: { rc: number; diags: ReadonlyArray<{ line: number; severity: string; message: string }> },
): string[] {
  const out: string[] = [];
  const env = ENVIRONMENT.filter((e) => e.file === name);
  const messages = k.messages.filter((m) => !env.some((e) => e.match.test(m.text)));
  const kClean = k.rc === 0 || messages.length === 0;
  if (kClean) {
    if (v.rc !== 0) out.push(`keepalived is clean, vigil exits ${v.rc}`);
    for (const d of v.diags) out.push(`keepalived is clean, vigil says line ${d.line}: ${d.severity}: ${d.message}`);
    return out;
  }
  const vLines = new Set(v.diags.map((d) => d.line));
  for (const m of messages) {
    if (m.line === undefined) {
      const want = GLOBAL.find((g) => g.keepalived.test(m.text))?.vigil;
      if (want !== undefined ? !v.diags.some((d) => want.test(d.message)) : v.diags.length === 0) {
        out.push(`keepalived: "${m.text}"; vigil says nothing${want !== undefined ? ` matching ${want}` : ''}`);
      }
      continue;
    }
    const alt = openerOfClose(text, m.line);
    if (!vLines.has(m.line) && (alt === undefined || !vLines.has(alt))) {
      out.push(`keepalived names line ${m.line}${alt !== undefined ? ` (the end of the block at ${alt})` : ''}: "${m.text}"; vigil does not`);
    }
  }
  if (v.rc !== 0) {
    const fatalLines = FATAL.filter((f) => f.file === name).map((f) => f.line);
    for (const d of v.diags) {
      if (d.severity === 'error' && !fatalLines.includes(d.line)) out.push(`vigil refuses at line ${d.line} (${d.message}); keepalived carries on there`);
    }
  }
  return out;
}

test.serial('keepalived -t and vigil -t agree on every corpus config', async (t) => {
  if (!requireRoot(t)) return;
  t.timeout(300_000);
  const lab = new NetnsLab('kv');
  t.teardown(() => lab.removeAll());
  const ns = lab.addNs('a');
  const peer = lab.addNs('b');
  CORPUS_INTERFACES.forEach((ifname, i) => lab.veth(ns, ifname, peer, `p${i}`));

  const files = readdirSync(CORPUS).filter((f) => f.endsWith('.conf')).sort();
  t.true(files.length >= 20, `the corpus has ${files.length} configs`);
  const failures: string[] = [];
  let clean = 0;
  for (const f of files) {
    const path = join(CORPUS, f);
    const text = readFileSync(path, 'utf8');
    t.regex(text, /^# source: \S+/m, `${f} names its source`);
    const [k, v] = await Promise.all([keepalivedCheck(ns, path), vigilCheck(ns, path)]);
    if (k.rc === 0) clean++;
    const notYet = NOT_YET.find((n) => n.file === f);
    const d = disagreements(f, text, k, v);
    if (notYet !== undefined) {
      t.log(`${f}: not yet (${notYet.why}); ${d.length} disagreement(s) tolerated`);
      t.true(v.diags.every((x) => x.severity === 'warning'), `${f}: a feature not yet built is a warning, not a refusal`);
      continue;
    }
    for (const x of d) failures.push(`${f}: ${x}\n    keepalived rc=${k.rc}:\n${k.raw.replace(/^/gm, '      ')}    vigil rc=${v.rc}:\n${v.raw.replace(/^/gm, '      ')}`);
  }
  t.log(`${files.length} configs, keepalived clean on ${clean}`);
  if (failures.length > 0) t.log(failures.join('\n'));
  t.deepEqual(failures, []);
});
