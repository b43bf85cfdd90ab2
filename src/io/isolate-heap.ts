/**
 * The calling thread's V8 heap, in kB, for the `memory` part of `vigil status` (each isolate
 * reports its own: Node 20 cannot read another thread's heap). `usedKb` is live data,
 * `totalKb` what the heap has reserved from the system, `codeKb` bytecode and machine code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';
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
