import test from 'ava';
import { expandGlob, hasGlobChars, matchSegment, type GlobFs } from '../../../src/config/glob.ts';

test('matchSegment: * ? and literal characters', (t) => {
  t.true(matchSegment('*.conf', 'a.conf'));
  t.true(matchSegment('*.conf', '.conf'));
  t.false(matchSegment('*.conf', 'a.conf.bak'));
  t.true(matchSegment('a*b*c', 'aXXbYYc'));
  t.false(matchSegment('a*b*c', 'aXXbYY'));
  t.true(matchSegment('v?.conf', 'v1.conf'));
  t.false(matchSegment('v?.conf', 'v12.conf'));
  t.true(matchSegment('**', ''));
  t.true(matchSegment('', ''));
  t.false(matchSegment('', 'a'));
  t.true(matchSegment('a\\*', 'a*'));
  t.false(matchSegment('a\\*', 'ab'));
});

test('matchSegment: classes, ranges, negation, unclosed [', (t) => {
  t.true(matchSegment('[ab].conf', 'a.conf'));
  t.false(matchSegment('[ab].conf', 'c.conf'));
  t.true(matchSegment('n[0-9]', 'n7'));
  t.false(matchSegment('n[0-9]', 'nx'));
  t.true(matchSegment('n[!0-9]', 'nx'));
  t.true(matchSegment('n[^0-9]', 'nx'));
  t.false(matchSegment('n[!0-9]', 'n1'));
  t.true(matchSegment('[]]', ']'));
  t.true(matchSegment('a[', 'a['));
  t.false(matchSegment('a[', 'ab'));
});

test('matchSegment stays fast on pathological patterns (no exponential backtracking)', (t) => {
  const name = 'a'.repeat(5000);
  const pattern = '*a'.repeat(50) + 'b';
  t.false(matchSegment(pattern, name));
});

test('hasGlobChars', (t) => {
  t.true(hasGlobChars('/etc/*.conf'));
  t.true(hasGlobChars('a?'));
  t.true(hasGlobChars('[x]'));
  t.false(hasGlobChars('/etc/keepalived/a.conf'));
});

test('expandGlob walks segment by segment, sorted, hidden files only for dot patterns', (t) => {
  const tree: Record<string, string[]> = {
    '/': ['etc'],
    '/etc': ['k'],
    '/etc/k': ['b.conf', 'a.conf', '.hidden.conf', 'd1', 'd2'],
    '/etc/k/d1': ['x.conf'],
    '/etc/k/d2': ['y.conf', 'z.txt'],
  };
  const files = new Set(['/etc/k/a.conf', '/etc/k/b.conf', '/etc/k/.hidden.conf', '/etc/k/d1/x.conf', '/etc/k/d2/y.conf', '/etc/k/d2/z.txt']);
  const fs: GlobFs = {
    readdir: (d) => {
      const e = tree[d];
      if (e === undefined) throw new Error('ENOENT');
      return e;
    },
    exists: (f) => files.has(f),
  };
  t.deepEqual(expandGlob('*.conf', '/etc/k', fs), ['/etc/k/a.conf', '/etc/k/b.conf']);
  t.deepEqual(expandGlob('.*.conf', '/etc/k', fs), ['/etc/k/.hidden.conf']);
  t.deepEqual(expandGlob('/etc/k/d*/*.conf', '/', fs), ['/etc/k/d1/x.conf', '/etc/k/d2/y.conf']);
  t.deepEqual(expandGlob('d2/z.txt', '/etc/k', fs), ['/etc/k/d2/z.txt']);
  t.deepEqual(expandGlob('nope/*.conf', '/etc/k', fs), []);
  t.deepEqual(expandGlob('missing.conf', '/etc/k', fs), []);
});
