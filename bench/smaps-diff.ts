/**
 * Which mappings of a process grew between two copies of its /proc/PID/smaps (bench/soak.ts
 * --smaps writes them). Prints JSON: the growth of anonymous memory and PSS by kind of mapping
 * (glibc's main heap, glibc's thread arenas, thread stacks, V8's pages, files, other anonymous
 * mappings), and the mappings that grew most.
 *
 *   node --import tsx bench/smaps-diff.ts EARLIER.smaps LATER.smaps
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  path: string;
  kb: Record<string, number>;
}

function parse(file: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const [, start = '0', end = '0', perms = '', path = ''] = head;
      out.push({ start: BigInt('0x' + start), end: BigInt('0x' + end), perms, path, kb: {} });
      continue;
    }
    const field = /^(\w+):\s+(\d+) kB$/.exec(line);
    const last = out[out.length - 1];
    if (field?.[1] !== undefined && last !== undefined) last.kb[field[1]] = Number(field[2]);
  }
  return out;
}

const ARENA = 64n << 20n;
const V8_PAGE = 256n << 10n;
/**
 * glibc's thread arenas are 64 MiB reservations aligned to 64 MiB; a thread's stack sits above
 * a one-page guard; V8's heaps grow by pages of 256 KiB aligned to 256 KiB (adjacent pages may
 * show as one mapping).
 */
function kind(m: Mapping, all: Mapping[], i: number): string {
  if (m.path === '[heap]') return 'malloc main heap';
  if (m.path.startsWith('[stack')) return 'main stack';
  if (m.path.startsWith('/')) return 'file ' + basename(m.path);
  if (m.path !== '') return m.path;
  if (m.start % ARENA === 0n && m.perms === 'rw-p') {
    const next = all[i + 1];
    const reserved = next && next.start === m.end && next.perms === '---p' ? next.end - m.start : m.end - m.start;
    if (reserved === ARENA) return 'malloc thread arena';
  }
  const size = m.end - m.start;
  if (m.start % V8_PAGE === 0n && size % V8_PAGE === 0n && m.perms === 'rw-p') return 'V8 pages (256 KiB aligned)';
  const prev = all[i - 1];
  if (prev && prev.end === m.start && prev.perms === '---p' && prev.end - prev.start === 4096n && m.perms === 'rw-p') return 'thread stack';
  return 'other anonymous';
}

function byKind(ms: Mapping[]): Map<string, { anon: number; pss: number }> {
  const out = new Map<string, { anon: number; pss: number }>();
  ms.forEach((m, i) => {
    const k = kind(m, ms, i);
    const v = out.get(k) ?? { anon: 0, pss: 0 };
    v.anon += m.kb.Anonymous ?? 0;
    v.pss += m.kb.Pss ?? 0;
    out.set(k, v);
  });
  return out;
}

const [earlierFile, laterFile] = process.argv.slice(2);
if (!earlierFile || !laterFile) {
  process.stderr.write('usage: smaps-diff.ts EARLIER.smaps LATER.smaps\n');
  process.exit(2);
}
const earlier = parse(earlierFile);
const later = parse(laterFile);
const a = byKind(earlier);
const b = byKind(later);
const kinds = [...new Set([...a.keys(), ...b.keys()])];
const growth = kinds
  .map((k) => ({ kind: k, anonKb: (b.get(k)?.anon ?? 0) - (a.get(k)?.anon ?? 0), pssKb: (b.get(k)?.pss ?? 0) - (a.get(k)?.pss ?? 0), anonKbLater: b.get(k)?.anon ?? 0 }))
  .filter((g) => g.anonKb !== 0 || g.pssKb !== 0)
  .sort((x, y) => y.pssKb - x.pssKb);

// a later mapping's growth: its anonymous memory less that of the earlier mappings it overlaps (mappings split and merge)
const overlapAnon = (m: Mapping): number =>
  earlier
    .filter((e) => e.start < m.end && m.start < e.end)
    .reduce((s, e) => {
      const lo = e.start > m.start ? e.start : m.start;
      const hi = e.end < m.end ? e.end : m.end;
      return s + ((e.kb.Anonymous ?? 0) * Number(hi - lo)) / Number(e.end - e.start);
    }, 0);
const top = later
  .map((m, i) => ({
    range: `${m.start.toString(16)}-${m.end.toString(16)}`,
    sizeKb: Number((m.end - m.start) >> 10n),
    perms: m.perms,
    kind: kind(m, later, i),
    anonKb: m.kb.Anonymous ?? 0,
    grewKb: Math.round((m.kb.Anonymous ?? 0) - overlapAnon(m)),
  }))
  .filter((m) => m.grewKb !== 0)
  .sort((x, y) => Math.abs(y.grewKb) - Math.abs(x.grewKb))
  .slice(0, 20);
const total = (ms: Mapping[], f: string): number => ms.reduce((s, m) => s + (m.kb[f] ?? 0), 0);
writeFileSync(
  process.stdout.fd,
  JSON.stringify(
    {
      pssKb: { earlier: total(earlier, 'Pss'), later: total(later, 'Pss') },
      anonKb: { earlier: total(earlier, 'Anonymous'), later: total(later, 'Anonymous') },
      mappings: { earlier: earlier.length, later: later.length },
      growthByKind: growth,
      mostGrown: top,
    },
    null,
    2,
  ) + '\n',
);
