import test from 'ava';
import { fileCheckStatus, parseTrackFileValue } from '../../../src/check/track-file.ts';

test('the file is read as strtol(…, 0) reads it; empty is 0; out of 32-bit range is ignored', (t) => {
  t.is(parseTrackFileValue('5\n'), 5);
  t.is(parseTrackFileValue('  -12 apples'), -12);
  t.is(parseTrackFileValue('0x1f'), 31);
  t.is(parseTrackFileValue('010'), 8);
  t.is(parseTrackFileValue(''), 0);
  t.is(parseTrackFileValue('drain'), 0);
  t.is(parseTrackFileValue('+7'), 7);
  t.is(parseTrackFileValue('2147483648'), 2147483648);
  t.is(parseTrackFileValue('2147483649'), undefined);
  t.is(parseTrackFileValue('-2147483649'), undefined);
});

test('weight 0: non-zero fails (reverse: zero fails); otherwise value × weight is added, a fault at −2³¹', (t) => {
  t.deepEqual(fileCheckStatus(0, 0, false), { up: true, delta: 0 });
  t.deepEqual(fileCheckStatus(3, 0, false), { up: false });
  t.deepEqual(fileCheckStatus(0, 0, true), { up: false });
  t.deepEqual(fileCheckStatus(3, 0, true), { up: true, delta: 0 });
  t.deepEqual(fileCheckStatus(3, 10, false), { up: true, delta: 30 });
  t.deepEqual(fileCheckStatus(3, 10, true), { up: true, delta: -30 });
  t.deepEqual(fileCheckStatus(-2147483648, 1, false), { up: false });
  t.deepEqual(fileCheckStatus(2147483648, 1, true), { up: false });
  t.deepEqual(fileCheckStatus(2147483647, 2, false), { up: true, delta: 2147483647 });
});
