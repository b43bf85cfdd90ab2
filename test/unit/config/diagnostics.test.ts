import test from 'ava';
import { DiagnosticSink, editDistance, formatDiagnostic, hasErrors, nearest } from '../../../src/config/diagnostics.ts';

test('formatDiagnostic is exactly FILE:LINE:COL: severity: message, on one line', (t) => {
  const loc = { file: '/etc/keepalived/keepalived.conf', line: 12, col: 5 };
  t.is(formatDiagnostic({ loc, severity: 'error', code: 'range', message: 'priority 0 is out of range 1..255' }), '/etc/keepalived/keepalived.conf:12:5: error: priority 0 is out of range 1..255');
  t.is(formatDiagnostic({ loc, severity: 'warning', code: 'x', message: 'a\nb\r\nc' }), '/etc/keepalived/keepalived.conf:12:5: warning: a b c');
});

test('DiagnosticSink and hasErrors', (t) => {
  const s = new DiagnosticSink();
  const loc = { file: 'f', line: 1, col: 2 };
  s.warn(loc, 'w', 'warned');
  t.false(hasErrors(s.list));
  s.error(loc, 'e', 'failed');
  t.true(hasErrors(s.list));
  t.deepEqual(s.list.map((d) => [d.severity, d.code]), [
    ['warning', 'w'],
    ['error', 'e'],
  ]);
});

test('editDistance, with a cut-off', (t) => {
  t.is(editDistance('inerval', 'interval'), 1);
  t.is(editDistance('kitten', 'sitting'), 3);
  t.is(editDistance('', 'abc'), 3);
  t.is(editDistance('same', 'same'), 0);
  t.is(editDistance('abcdef', 'uvwxyz', 2), 3);
  t.is(editDistance('a', 'abcdefgh', 2), 3);
});

test('nearest suggests plausible typos only, case-insensitively', (t) => {
  const kw = ['interval', 'timeout', 'weight', 'fall', 'rise', 'script', 'HTTP_GET'];
  t.is(nearest('inerval', kw), 'interval');
  t.is(nearest('wieght', kw), 'weight');
  t.is(nearest('http_get', kw), 'HTTP_GET');
  t.is(nearest('fal', kw), 'fall');
  t.is(nearest('zzzzzz', kw), undefined);
  t.is(nearest('x', kw), undefined);
});
