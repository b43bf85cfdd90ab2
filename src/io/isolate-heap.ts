/**
 * The calling thread's V8 heap, in kB, for the `memory` part of `vigil status` (each isolate
 * reports its own: Node 20 cannot read another thread's heap). `usedKb` is live data,
 * `totalKb` what the heap has reserved from the system, `codeKb` bytecode and machine code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { IsolateHeap } from '../ipc/messages.ts';

export function isolateHeap(): IsolateHeap {
  const h = v8.getHeapStatistics();
  const code = v8.getHeapCodeStatistics();
  const kb = (n: number): number => Math.round(n / 1024);
  return {
    usedKb: kb(h.used_heap_size),
    totalKb: kb(h.total_heap_size),
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

/**
 * ms between the idle collections of collectWhileIdle(). Each one also wakes V8's helper
 * threads for parallel marking: once a minute the whole cost read ~0.03 % of a core
 * (bench/footprint, node A), against a target of 0.3 % for everything; every 2 minutes
 * halves that, while the garbage between two collections stays well under a MB per heap
 * under bench/soak's reloads.
 */
export const IDLE_COLLECT_MS = 120_000;

/**
 * A full collection of this thread's heap every IDLE_COLLECT_MS (then `after`, if given),
 * on an unref'd timer. V8 collects when allocation pushes a heap to its limit, and an idle
 * daemon allocates slowly: under bench/soak (reloads every 10 s, a flapping script and real
 * server) the main and checker heaps held 4-5 MB more garbage after 20 minutes, with their
 * live data flat once collected (checker 10.43 -> 10.49 MB over 12 minutes). A full
 * collection of these ~12 MB heaps takes a few ms, every 2 minutes, on threads no advert
 * waits for (the VRRP thread collects in its own quiet: src/vrrp/quiet-gc.ts).
 */
export function collectWhileIdle(after?: () => void): void {
  const gc = threadGc();
  setInterval(() => {
    // gc() with no options: on node 20, gc({ type: 'major' }) left a heap of 24 MB with 23 MB
    // of garbage as it was, where gc() took it to 3 MB.
    gc();
    after?.();
  }, IDLE_COLLECT_MS).unref();
}
