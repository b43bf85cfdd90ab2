/**
 * Fuzz: thousands of mutated configurations through lexer, parser, validator and diff.
 * Deterministic (seeded PRNG), file system faked (includes resolve in a small virtual tree
 * that contains a self-include), bounded by the test timeout. Asserts: no throw (the
 * loader would turn one into an `internal` diagnostic), every diagnostic is one line with
 * a real position, and every result is plain JSON data.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic } from '../../../src/config/diagnostics.ts';
import { diffConfigs } from '../../../src/config/diff.ts';
import type { LexFs } from '../../../src/config/lexer.ts';
import { parseConfigTextFull } from '../../../src/config/load.ts';
import type { Config } from '../../../src/config/model.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** mulberry32: small, fast, good enough to drive mutations reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus(): string[] {
  const files: string[] = [path.join(root, 'conf/keepalived.conf')];
  for (const dir of ['conf/examples', 'test/fixtures/config/good', 'test/fixtures/config/good/full.d', 'test/fixtures/config/broken']) {
    for (const f of fs.readdirSync(path.join(root, dir)).sort()) if (f.endsWith('.conf')) files.push(path.join(root, dir, f));
  }
  return files.map((f) => fs.readFileSync(f, 'utf8'));
}

/** A virtual tree: /etc/k/main.conf includes are resolved here, never on the real disk. */
function fakeFs(): LexFs {
  const files: Record<string, string> = {
    '/etc/k/inc/a.conf': 'vrrp_script inc_a {\n script /bin/true\n}\n',
    '/etc/k/inc/b.conf': 'include ../inc/b.conf\nglobal_defs {\n router_id b\n}\n',
    '/etc/k/inc/c.conf': '}\n{\n$X=${X}${X}\n$X $X\n',
  };
  const dirs: Record<string, string[]> = { '/': ['etc'], '/etc': ['k'], '/etc/k': ['inc'], '/etc/k/inc': ['a.conf', 'b.conf', 'c.conf'] };
  return {
    readFile: (f) => {
      const c = files[f];
      if (c === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return c;
    },
    readdir: (d) => {
      const e = dirs[d];
      if (e === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return e;
    },
    exists: (f) => f in files,
    realpath: (f) => f,
  };
}

const SPICE = ['{', '}', '"', "'", '#', '!', '$', '@', '\\', '\n', ' ', '\t', '\r', '=', '/', '-', '0', '9', '.', ':', '\u0000', 'é', '中', '\u{1F600}'];
const SNIPPETS = [
  'include missing.conf',
  'include inc/*.conf',
  'include inc/b.conf',
  'includea /etc/k/inc/[ab].conf',
  'include nope/*/x.conf',
  '$X=1',
  '$Y=${Y}$Y',
  '$M=a \\\n b',
  '@lb1 ',
  '@^lb1 ',
  '@ ',
  'vrrp_instance',
  'virtual_server',
  'real_server 10.0.0.1 80 {',
  'HTTP_GET {',
  'url {',
  'status_code 1-99999999999999999',
  'priority 99999999999999999999',
  'advert_int 1e999',
  'weight -',
  'track_script {',
  '}}}}',
  '{{{{',
  '"unterminated',
  'virtual_ipaddress {\n ::/129\n 1.2.3.4/-1\n}',
  'virtual_routes {\n default via ::1\n}',
];

function mutate(text: string, rnd: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  let s = text;
  const rounds = 1 + Math.floor(rnd() * 4);
  for (let r = 0; r < rounds; r++) {
    const at = Math.floor(rnd() * (s.length + 1));
    switch (Math.floor(rnd() * 9)) {
      case 0: // byte flip
        s = s.slice(0, at) + pick(SPICE) + s.slice(at + 1);
        break;
      case 1: {
        // token deletion
        const m = /\S+/.exec(s.slice(at));
        if (m) s = s.slice(0, at + m.index) + s.slice(at + m.index + m[0].length);
        break;
      }
      case 2: {
        // token duplication
        const m = /\S+/.exec(s.slice(at));
        if (m) s = s.slice(0, at + m.index) + m[0] + ' ' + s.slice(at + m.index);
        break;
      }
      case 3: {
        // brace removal
        const i = s.indexOf(rnd() < 0.5 ? '{' : '}', at);
        if (i >= 0) s = s.slice(0, i) + s.slice(i + 1);
        break;
      }
      case 4: // snippet / include insertion on its own line
        s = s.slice(0, at) + '\n' + pick(SNIPPETS) + '\n' + s.slice(at);
        break;
      case 5: {
        // line duplication
        const ls = s.split('\n');
        const i = Math.floor(rnd() * ls.length);
        ls.splice(i, 0, ls[i] ?? '');
        s = ls.join('\n');
        break;
      }
      case 6: // truncation
        s = s.slice(0, at);
        break;
      case 7: // splice in a chunk of itself
        s = s.slice(0, at) + s.slice(Math.floor(rnd() * s.length), Math.floor(rnd() * s.length)) + s.slice(at);
        break;
      default: // a long line
        s = s.slice(0, at) + pick(SPICE).repeat(1 + Math.floor(rnd() * 2000)) + s.slice(at);
    }
  }
  return s;
}

test('3000 mutated configs: no throw, no hang, one-line diagnostics with real positions', (t) => {
  t.timeout(110_000);
  const rnd = prng(0x5eed2);
  const seeds = corpus();
  const lexFs = fakeFs();
  let errors = 0;
  let accepted = 0;
  let prev: Config | undefined;
  for (let i = 0; i < 3000; i++) {
    const input = mutate(seeds[i % seeds.length] as string, rnd);
    const r = parseConfigTextFull(input, '/etc/k/main.conf', { configId: i % 2 === 0 ? 'lb1' : 'lb2', interfaceExists: () => rnd() < 0.5, fs: lexFs });
    for (const d of r.diagnostics) {
      if (d.code === 'internal') t.fail(`mutation ${i}: ${d.message}\n--- input ---\n${input.slice(0, 2000)}`);
      if (!(d.loc.line >= 1 && d.loc.col >= 1 && Number.isInteger(d.loc.line) && Number.isInteger(d.loc.col))) t.fail(`mutation ${i}: bad position ${JSON.stringify(d.loc)}`);
      const line = formatDiagnostic(d);
      if (line.includes('\n')) t.fail(`mutation ${i}: multi-line diagnostic ${JSON.stringify(line)}`);
    }
    if (r.config !== undefined) {
      accepted++;
      const json = JSON.stringify(r.config);
      if (json === undefined) t.fail(`mutation ${i}: config is not JSON`);
      if (prev !== undefined) diffConfigs(prev, r.config);
      prev = r.config;
    } else errors++;
  }
  // The mutations exercise both outcomes.
  t.true(errors > 100, `${errors} rejected`);
  t.true(accepted > 100, `${accepted} accepted`);
});

test('pathological inputs: deep nesting, huge lines, many braces, NULs', (t) => {
  const cases = [
    '{'.repeat(100_000),
    '}'.repeat(100_000),
    'a {'.repeat(50_000),
    'x'.repeat(1_000_000),
    '"'.repeat(100_001),
    '$A=$A$A\n'.repeat(1000) + '$A\n',
    '\\\n'.repeat(10_000),
    '\u0000\u0001\u0002 {\n}\n',
    'vrrp_instance ' + 'V '.repeat(10_000) + '{\n}\n',
    '@'.repeat(1000) + ' x\n',
    'virtual_ipaddress ' + '10.0.0.1/24 '.repeat(5000) + '\n',
  ];
  for (const text of cases) {
    const r = parseConfigTextFull(text, 'p.conf', { configId: 'x', interfaceExists: () => true, fs: fakeFs() });
    t.false(r.diagnostics.some((d) => d.code === 'internal'), text.slice(0, 40));
  }
});
