/**
 * Garbage collections in the quiet between adverts.
 *
 * A scavenge stops the VRRP thread for 0.3–1.5 ms and the end of a full collection for
 * 1–5 ms (measured with --trace-gc, 500 instances). V8 starts a scavenge when the new space
 * fills (or, as a task, at 80 %), and the new space fills while adverts are being built, so
 * its own scavenges land inside a run of adverts and every advert behind them goes out that
 * much late: the reload bench counted them as gaps over advert_int + 1 ms. This collects
 * first, at a moment when no advert is due for a while, so that V8's own triggers are not
 * reached: a scavenge once QUIET_GC_YOUNG_BUDGET has been allocated, a full collection once
 * what survives has grown by QUIET_GC_OLD_GROWTH since the last one.
 *
 * Pure policy with the clock, the heap probe and the collector injected (STYLE habit 4);
 * workers/vrrp.ts gives it V8's `gc()` and the worker's heap statistics.
 */

/** ms between looks at the heap while it grows fast or a collection waits for a quiet moment */
export const QUIET_GC_CHECK_MS = 20;
/**
 * ms between looks at most, when the heap barely grows: an idle node with a few instances
 * allocates a few kB a second, and 50 looks a second were most of its VRRP thread's CPU
 * (bench/footprint); one a second was still a tenth of it (perf, node A idle as master).
 * Each look plans the next one from the growth it saw (quietGcNextMs), and a message from
 * the supervisor brings the next one forward (workers/vrrp.ts).
 */
export const QUIET_GC_MAX_CHECK_MS = 4000;
/**
 * ms with no advert wake-up due, for a scavenge: it must be over before the next one. The
 * slowest measured during a reload was 1.5 ms; 3.2 ms once while 500 instances started.
 */
export const QUIET_GC_MINOR_QUIET_MS = 4;
/** ms with no advert wake-up due, for a full collection (a 15 MB heap: about 5–10 ms) */
export const QUIET_GC_MAJOR_QUIET_MS = 30;
/**
 * bytes allocated since the last collection above which a quiet moment is used for a
 * scavenge. Well under V8's smallest new space (1 MB, where its scavenge task starts at
 * 80 %), so that a burst of adverts cannot carry the heap from here to V8's trigger.
 */
export const QUIET_GC_YOUNG_BUDGET = 256 * 1024;
/** bytes the heap may grow by, measured after collections, before a quiet moment is used for a full one */
export const QUIET_GC_OLD_GROWTH = 4 * 1024 * 1024;

export interface QuietGcIo {
  /** ms until the engine next wakes for an advert (Infinity: none armed) */
  msToNextAdvert(): number;
  /** bytes of the heap in use (v8.getHeapStatistics().used_heap_size) */
  heapUsed(): number;
  /** a synchronous collection */
  collect(kind: 'minor' | 'major'): void;
}

export interface QuietGcState {
  /** scavenges run here */
  minor: number;
  /** full collections run here */
  major: number;
  /** looks that found a collection due but an advert too close */
  deferred: number;
  /** heap in use after the last collection (bytes; NaN before the first look) */
  afterLast: number;
  /** heap in use after the last full collection (or at the first look) */
  afterMajor: number;
  /** heap in use at the end of the last look, and when it was (ms, monotonic; NaN before the first) */
  lastUsed: number;
  lastAt: number;
  /** the last look found a collection due and deferred it */
  waiting: boolean;
}

export function newQuietGcState(): QuietGcState {
  return { minor: 0, major: 0, deferred: 0, afterLast: NaN, afterMajor: NaN, lastUsed: NaN, lastAt: NaN, waiting: false };
}

/**
 * One look: collect what is due if no advert is close. Returns ms until the next look:
 * QUIET_GC_CHECK_MS while a collection waits for a quiet moment, else a quarter of the time
 * the growth seen since the last look would take to use up the young budget, within
 * QUIET_GC_CHECK_MS … QUIET_GC_MAX_CHECK_MS. `nowMs` is the monotonic clock.
 */
export function quietGcTick(io: QuietGcIo, st: QuietGcState, nowMs = NaN): number {
  const used = io.heapUsed();
  // A collection V8 made on its own shows as a heap smaller than after ours.
  if (Number.isNaN(st.afterLast) || used < st.afterLast) st.afterLast = used;
  if (Number.isNaN(st.afterMajor) || st.afterLast < st.afterMajor) st.afterMajor = st.afterLast;
  const minorDue = used - st.afterLast >= QUIET_GC_YOUNG_BUDGET;
  const majorDue = st.afterLast - st.afterMajor >= QUIET_GC_OLD_GROWTH;
  const grew = Number.isNaN(st.lastUsed) ? 0 : Math.max(0, used - st.lastUsed);
  const elapsed = nowMs - st.lastAt;
  st.waiting = false;
  let now = used;
  if (minorDue || majorDue) {
    const quiet = io.msToNextAdvert();
    if (majorDue && quiet >= QUIET_GC_MAJOR_QUIET_MS) {
      io.collect('major'); // a full collection empties the young generation too
      st.major++;
      st.afterLast = io.heapUsed();
      st.afterMajor = st.afterLast;
      now = st.afterLast;
    } else if (minorDue && quiet >= QUIET_GC_MINOR_QUIET_MS) {
      io.collect('minor');
      st.minor++;
      st.afterLast = io.heapUsed();
      now = st.afterLast;
    } else {
      st.deferred++;
      st.waiting = true;
    }
  }
  st.lastUsed = now;
  st.lastAt = nowMs;
  return quietGcNextMs(st, grew, elapsed);
}

function quietGcNextMs(st: QuietGcState, grewBytes: number, elapsedMs: number): number {
  if (st.waiting || !(elapsedMs > 0)) return QUIET_GC_CHECK_MS;
  if (grewBytes === 0) return QUIET_GC_MAX_CHECK_MS;
  const left = Math.max(0, QUIET_GC_YOUNG_BUDGET - (st.lastUsed - st.afterLast));
  const msToBudget = left / (grewBytes / elapsedMs);
  return Math.min(QUIET_GC_MAX_CHECK_MS, Math.max(QUIET_GC_CHECK_MS, msToBudget / 4));
}
