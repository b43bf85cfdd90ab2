/**
 * The calling thread's V8 heap, in kB, for the `memory` part of `vigil status` (each isolate
 * reports its own: Node 20 cannot read another thread's heap). `usedKb` is live data,
 * `totalKb` what the heap has reserved from the system, `youngKb` the young generation's part
 * of it, `codeKb` bytecode and machine code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { IsolateHeap } from '../ipc/messages.ts';

export function isolateHeap(): IsolateHeap {
  const h = v8.getHeapStatistics();
  const code = v8.getHeapCodeStatistics();
  const kb = (n: number): number => Math.round(n / 1024);
  let young = 0;
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === 'new_space' || s.space_name === 'new_large_object_space') young += s.space_size;
  return {
    usedKb: kb(h.used_heap_size),
    totalKb: kb(h.total_heap_size),
    youngKb: kb(young),
    codeKb: kb(code.code_and_metadata_size + code.bytecode_and_metadata_size),
    externalKb: kb(h.external_memory),
  };
}

/** This process: resident and proportional set size (kB, smaps_rollup) and its thread count. */
export function processMemory(): { rssKb: number; pssKb: number; threads: number } {
  const s = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
  return { rssKb: kb('Rss'), pssKb: kb('Pss'), threads: readdirSync('/proc/self/task').length };
}

/**
 * The calling thread's collector: `gc` from a context made while --expose-gc is on (the node
 * documentation's way to reach it without the command-line flag), which collects this
 * thread's heap. The flag is switched off again at once.
 */
export function threadGc(): (opts?: { type: 'minor' | 'major' }) => void {
  v8.setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as (opts?: { type: 'minor' | 'major' }) => void;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

/** ms between looks at the heap (collectOnGrowth): one getHeapStatistics() call each */
export const GROWTH_LOOK_MS = 10_000;
/**
 * bytes the heap in use may grow by, over the least it was since the last full collection,
 * before collectOnGrowth runs one. What V8 has reserved follows the peaks, and keeps them: with
 * 2 MB, bench/soak's main and checker heaps reserved 1.3 and 1.8 MB more after 7 minutes than
 * after one (V8's pages were all of the process's growth). With 1 MB the checker pool lab
 * (17 HTTP attempts a second, 60 s, three runs each) reserved 10.4–10.9 MB instead of
 * 11.9–12.2, for 640–760 ms of the thread's CPU against 650–700; bench/soak's checker heap
 * stayed at 8.6–8.8 MB reserved for 30 minutes.
 */
export const GROWTH_BUDGET_BYTES = 1024 * 1024;
/**
 * the main thread's budget. 1 MB saved it ~0.8 MB of reserved heap under bench/soak (15.2
 * against 16.0 MB after 30 minutes, one run each) and cost node A's idle daemon, which runs a
 * vrrp_script every second, collections whose marking helpers were 0.05 % of a core
 * (bench/footprint, one run each: 0.343 % of a core in all with 1 MB, 0.266 with 2 MB,
 * keepalived 0.10, the limit 2 × keepalived + 0.1).
 */
export const MAIN_GROWTH_BUDGET_BYTES = 2 * 1024 * 1024;

export interface GrowthState {
  /**
   * the least heap in use seen since the last full collection (bytes); 0 before the first,
   * so that the first look collects what start-up left
   */
  floor: number;
  /** full collections run */
  collections: number;
}

export function newGrowthState(): GrowthState {
  return { floor: 0, collections: 0 };
}

/**
 * One look: whether the heap in use (`used`, bytes) has grown by the budget over its floor.
 * A heap smaller than the floor (V8 collected on its own) lowers it. Pure: the caller
 * collects and then calls collected().
 */
export function growthDue(st: GrowthState, used: number, budget = GROWTH_BUDGET_BYTES): boolean {
  if (used < st.floor) st.floor = used;
  return used - st.floor >= budget;
}

export function collected(st: GrowthState, usedAfter: number): void {
  st.floor = usedAfter;
  st.collections++;
}

/**
 * A full collection of this thread's heap whenever what it holds has grown by `budget`
 * since the last one (then `after`, if given), looked at every
 * GROWTH_LOOK_MS on an unref'd timer.
 *
 * V8 collects the old generation when it reaches a limit set from the live data, about twice
 * it for these heaps, and a daemon allocates slowly: with 100 real servers under HTTP_GET the
 * checker thread's heap climbed from 8.5 to 16 MB in use between V8's own collections, once a
 * minute, and the main thread's from 12.6 to 16 (`vigil status` every 10 s); under bench/soak
 * both held 4-5 MB of garbage after 20 minutes. A fixed timer (every 2 minutes, as before)
 * collected too seldom for the checker thread and too often for an idle main thread, whose
 * heap grows by a few MB an hour; the budget follows the allocation instead. A full
 * collection of these ~10 MB heaps takes a few ms, on threads no advert waits for (the VRRP
 * thread collects in its own quiet: src/vrrp/quiet-gc.ts).
 */
export function collectOnGrowth(after?: () => void, budget = GROWTH_BUDGET_BYTES): GrowthState {
  const gc = threadGc();
  const st = newGrowthState();
  setInterval(() => {
    if (!growthDue(st, v8.getHeapStatistics().used_heap_size, budget)) return;
    // gc() with no options: on node 20, gc({ type: 'major' }) left a heap of 24 MB with 23 MB
    // of garbage as it was, where gc() took it to 3 MB.
    gc();
    collected(st, v8.getHeapStatistics().used_heap_size);
    after?.();
  }, GROWTH_LOOK_MS).unref();
  return st;
}
