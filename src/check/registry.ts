/**
 * The one registry of checkers: every kind of check task, the function that runs one
 * attempt of it, and where that function runs. A new checker is a file of its own (its task
 * type and its attempt function) plus one entry here, or in pool-checkers.ts when it runs in
 * the checker pool; the mapped type (CheckerTable) refuses an entry whose attempt takes
 * another task, and a task kind without an entry.
 *
 * Where attempts run (DESIGN.md: checks run in the checker pool):
 * - `checker-pool`: a piscina worker thread (workers/checker.ts): socket checks;
 * - `spawner`: src/check/spawner.ts: MISC_CHECK's script starts through posix_spawn from the
 *   supervisor (never a fork of the daemon's address space); PING_CHECK's raw socket works
 *   only on a process's main thread, so it runs in a process of its own (workers/spawner.ts).
 *
 * Imports point one way: registry -> pool-checkers -> checkers -> endpoint/result. The
 * checker threads load pool-checkers.ts alone (it says why). No checker imports this
 * file or task.ts. (The attempt functions are imported statically: a dynamic import() of a
 * `.ts` file fails inside a worker thread under tsx, which the tests and `npm run vigil` use.)
 */
import type { AttemptResult } from './result.ts';
import { miscAttempt, type MiscTask } from './misc.ts';
import { pingAttempt, type PingTask } from './ping.ts';
import { RUNS_IN } from './places.ts';
import { POOL_CHECKERS, runEntry, type CheckerTable, type PoolCheckTask } from './pool-checkers.ts';

export type { CheckerEntry, PoolCheckTask } from './pool-checkers.ts';
export type { RunsIn } from './places.ts';

/** Every task a checker runs: plain data, structured-clone safe. */
export type CheckTask = PoolCheckTask | MiscTask | PingTask;

export type CheckKind = CheckTask['kind'];

export const CHECKERS: CheckerTable<CheckTask> = {
  ...POOL_CHECKERS,
  misc: { runsIn: RUNS_IN.misc, endpoint: false, attempt: miscAttempt },
  // raw-socket works on a process's main thread only (ping.ts says why)
  ping: { runsIn: RUNS_IN.ping, endpoint: false, attempt: pingAttempt },
};

/** The tasks whose entry says `spawner` (kept in step with CHECKERS by registry.test.ts). */
export type SpawnerCheckTask = MiscTask | PingTask;

export { runsIn } from './places.ts';

/** One attempt of any check; never throws. */
export function runAttempt(task: CheckTask): Promise<AttemptResult> {
  return runEntry(CHECKERS, task);
}
