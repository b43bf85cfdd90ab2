/**
 * Where each kind of check runs, apart from the checkers themselves: the supervisor routes
 * tasks with this (src/check/pool.ts) without loading a single checker (undici, raw-socket:
 * ~20 MB the main thread would otherwise carry, bench/footprint). The
 * registry (registry.ts) takes each entry's `runsIn` from here, and its mapped type refuses
 * a kind missing in either table.
 *
 * - `checker-pool`: a piscina worker thread (workers/checker.ts): socket checks;
 * - `spawner`: src/check/spawner.ts: MISC_CHECK starts its script through posix_spawn from the
 *   supervisor (never a fork of the daemon's address space); PING_CHECK goes to a process of
 *   its own, as its raw socket works only on a process's main thread.
 */
import type { CheckKind, CheckTask } from './registry.ts';

export type RunsIn = 'checker-pool' | 'spawner';

export const RUNS_IN: { readonly [K in CheckKind]: RunsIn } = {
  http: 'checker-pool',
  tcp: 'checker-pool',
  dns: 'checker-pool',
  udp: 'checker-pool',
  smtp: 'checker-pool',
  misc: 'spawner',
  ping: 'spawner',
};

export function runsIn(task: CheckTask): RunsIn {
  return RUNS_IN[task.kind];
}
