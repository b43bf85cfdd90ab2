/**
 * The quiet-time collector's policy (src/vrrp/quiet-gc.ts), stepped with a scripted heap
 * and advert schedule: it collects only when enough has been allocated (or survived) and
 * no advert wake-up is close, and counts the looks it had to defer.
 */
import test from 'ava';
import {
  QUIET_GC_CHECK_MS,
  QUIET_GC_MAX_CHECK_MS,
  QUIET_GC_MAJOR_QUIET_MS,
  QUIET_GC_MINOR_QUIET_MS,
  QUIET_GC_OLD_GROWTH,
  QUIET_GC_YOUNG_BUDGET,
  newQuietGcState,
  quietGcTick,
  type QuietGcIo,
} from '../../../src/vrrp/quiet-gc.ts';

const MB = 1024 * 1024;

/** A heap that grows by what the test allocates; a scavenge leaves `survive` of the young part. */
interface ScriptedHeap {
  io: QuietGcIo;
  alloc(n: number): void;
  /** ms to the next advert wake-up */
  quiet: number;
  /** bytes of the young generation each scavenge promotes */
  survive: number;
  collected: string[];
}

function heap(start: number): ScriptedHeap {
  let old = start;
  let young = 0;
  const h: ScriptedHeap = {
    quiet: Infinity,
    survive: 0,
    collected: [] as string[],
    alloc: (n: number) => void (young += n),
    io: {
      msToNextAdvert: () => h.quiet,
      heapUsed: () => old + young,
      collect: (kind: 'minor' | 'major') => {
        h.collected.push(kind);
        old += h.survive;
        young = 0;
        if (kind === 'major') old = start;
      },
    },
  };
  return h;
}

test('no collection until the young budget is allocated; then one, in a quiet moment', (t) => {
  const h = heap(8 * MB);
  const st = newQuietGcState();
  quietGcTick(h.io, st);
  h.alloc(QUIET_GC_YOUNG_BUDGET - 1);
  quietGcTick(h.io, st);
  t.deepEqual(h.collected, []);
  h.alloc(1);
  quietGcTick(h.io, st);
  t.deepEqual(h.collected, ['minor']);
  t.is(st.minor, 1);
  quietGcTick(h.io, st);
  t.deepEqual(h.collected, ['minor'], 'nothing allocated since: nothing to do');
});

test('an advert wake-up closer than the quiet margin defers the scavenge to a later look', (t) => {
  const h = heap(8 * MB);
  const st = newQuietGcState();
  quietGcTick(h.io, st);
  h.alloc(QUIET_GC_YOUNG_BUDGET);
  h.quiet = QUIET_GC_MINOR_QUIET_MS - 0.1;
  quietGcTick(h.io, st);
  t.deepEqual(h.collected, []);
  t.is(st.deferred, 1);
  h.quiet = QUIET_GC_MINOR_QUIET_MS;
  quietGcTick(h.io, st);
  t.deepEqual(h.collected, ['minor']);
});

test('survivors that add up to the old-growth threshold bring a full collection, when the quiet is long enough', (t) => {
  const h = heap(8 * MB);
  const st = newQuietGcState();
  quietGcTick(h.io, st);
  h.survive = QUIET_GC_OLD_GROWTH / 4;
  for (let i = 0; i < 4; i++) {
    h.alloc(QUIET_GC_YOUNG_BUDGET);
    quietGcTick(h.io, st);
  }
  t.deepEqual(h.collected, ['minor', 'minor', 'minor', 'minor']);
  // grown by the threshold: a full collection is due, but only a scavenge fits this gap
  h.alloc(QUIET_GC_YOUNG_BUDGET);
  h.quiet = QUIET_GC_MAJOR_QUIET_MS - 1;
  quietGcTick(h.io, st);
  t.is(h.collected.at(-1), 'minor');
  h.alloc(QUIET_GC_YOUNG_BUDGET);
  h.quiet = QUIET_GC_MAJOR_QUIET_MS;
  quietGcTick(h.io, st);
  t.is(h.collected.at(-1), 'major');
  t.is(st.major, 1);
  // the baseline is the heap after the full collection: no second one right after
  h.survive = 0;
  h.alloc(QUIET_GC_YOUNG_BUDGET);
  quietGcTick(h.io, st);
  t.is(h.collected.at(-1), 'minor');
  t.is(st.major, 1);
});

test("a collection V8 made on its own moves the baseline down instead of counting as allocation", (t) => {
  const h = heap(8 * MB);
  const st = newQuietGcState();
  h.alloc(QUIET_GC_YOUNG_BUDGET / 2);
  quietGcTick(h.io, st); // baseline: 8 MB + half a budget
  h.io.collect('minor'); // V8's own, outside the policy
  h.collected.length = 0;
  quietGcTick(h.io, st); // sees a heap smaller than its baseline
  h.alloc(QUIET_GC_YOUNG_BUDGET - 1);
  quietGcTick(h.io, st);
  t.deepEqual(h.collected, [], 'measured from the lower heap, the budget is not yet spent');
  h.alloc(1);
  quietGcTick(h.io, st);
  t.deepEqual(h.collected, ['minor']);
});

test('the next look: a second apart while the heap barely grows, sooner as it grows, at once while a collection waits', (t) => {
  const h = heap(8 * MB);
  const st = newQuietGcState();
  t.is(quietGcTick(h.io, st, 0), QUIET_GC_CHECK_MS); // first look: nothing to plan from yet
  t.is(quietGcTick(h.io, st, 20), QUIET_GC_MAX_CHECK_MS); // no growth
  h.alloc(1024); // 1 kB in a second: the budget is ~4 minutes away
  t.is(quietGcTick(h.io, st, 1020), QUIET_GC_MAX_CHECK_MS);
  h.alloc(64 * 1024); // 64 kB in 100 ms: the rest of the budget in ~290 ms; look in a quarter of that
  const next = quietGcTick(h.io, st, 1120);
  t.true(next > QUIET_GC_CHECK_MS && next < 100, `next look in ${next} ms`);
  h.alloc(QUIET_GC_YOUNG_BUDGET);
  h.quiet = QUIET_GC_MINOR_QUIET_MS - 1; // due, but an advert is close
  t.is(quietGcTick(h.io, st, 1120 + next), QUIET_GC_CHECK_MS);
  t.deepEqual(h.collected, []);
  h.quiet = Infinity;
  quietGcTick(h.io, st, 1140 + next);
  t.deepEqual(h.collected, ['minor']);
});
