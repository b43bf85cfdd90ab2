import test from 'ava';
import { masterDownIntervalMs, masterDownIntervalUs, normaliseAdvertIntMs, skewMinMs, skewTimeMs, skewTimeUs } from '../../../src/vrrp/timers.ts';

test('v2 prio 100, advert 1 s: skew 609.375 ms, master down 3609.375 ms (bench measured 3610 ms)', (t) => {
  t.is(skewTimeUs(2, 100, 1000), 609_375);
  t.is(skewTimeMs(2, 100, 1000), 609.375);
  t.is(masterDownIntervalMs(2, 100, 1000), 3609.375);
});

test('v2 prio 150, advert 1 s: master down 3414.062 ms (issue: keepalived state MASTER waits 3.41 s)', (t) => {
  t.is(skewTimeUs(2, 150, 1000), 414_062); // 106e6/256 = 414062.5, truncated as keepalived
  t.is(masterDownIntervalUs(2, 150, 1000), 3_414_062);
});

test('v2 skew does not scale with the advert interval (RFC 3768 §6.1, keepalived pri*TIMER_HZ/256)', (t) => {
  t.is(skewTimeUs(2, 100, 5000), 609_375);
  t.is(masterDownIntervalUs(2, 100, 5000), 15_609_375);
});

test('v3 prio 100, advert 0.1 s: skew 60.937 ms, master down 360.937 ms (bench measured 361 ms)', (t) => {
  t.is(skewTimeUs(3, 100, 100), 60_937); // 156*10*625/16 = 60937.5, truncated
  t.is(masterDownIntervalUs(3, 100, 100), 360_937);
  t.is(masterDownIntervalMs(3, 100, 100), 360.937);
});

test('v3 skew scales with Master_Adver_Interval in centiseconds (RFC 5798 §6.1)', (t) => {
  t.is(skewTimeUs(3, 100, 1000), 609_375);
  t.is(skewTimeUs(3, 150, 1000), 414_062);
  t.is(masterDownIntervalUs(3, 150, 1000), 3_414_062);
  t.is(skewTimeUs(3, 255, 10), 39); // 1 × 1 cs × 625 / 16 = 39.06 µs, truncated
});

test('priority 255 and priority 1 bound the skew; skewMin is the priority-255 skew', (t) => {
  t.is(skewTimeUs(2, 255, 1000), 3906);
  t.is(skewTimeUs(2, 1, 1000), 996_093);
  t.is(skewMinMs(2, 1000), 3.906);
  t.is(skewMinMs(3, 100), 0.39);
  t.throws(() => skewTimeUs(2, 256, 1000), { instanceOf: RangeError });
});

test('configured intervals normalise as keepalived stores them', (t) => {
  t.is(normaliseAdvertIntMs(2, 1500), 2000);
  t.is(normaliseAdvertIntMs(2, 100), 1000);
  t.is(normaliseAdvertIntMs(2, 300_000), 255_000);
  t.is(normaliseAdvertIntMs(3, 104), 100);
  t.is(normaliseAdvertIntMs(3, 1), 10);
  t.is(normaliseAdvertIntMs(3, 50_000), 40_950);
});
