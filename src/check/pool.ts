/**
 * Glue between the check scheduler and where attempts run, kept here so that the supervisor
 * only wires things together: the checker pool (piscina, workers/checker.ts, which runs
 * pool-checkers.ts `runPoolAttempt`) and the spawner (src/check/spawner.ts: posix_spawn, or the
 * PING_CHECK process), each task going
 * where its registry entry says.
 *
 * `checkerWorkerFile()` gives the worker file next to the running code: the `.ts` source
 * under tsx, the `.js` build in dist/. Loading `.ts` workers under tsx: piscina starts each
 * worker with the parent's `process.execArgv` (node:worker_threads' default), so a parent
 * started with `node --import tsx` (or `tsx`) gets tsx's loader in every worker too.
 */
import { fileURLToPath } from 'node:url';
import type { AttemptResult } from './result.ts';
import type { CheckTask, SpawnerCheckTask } from './registry.ts';
import { runsIn } from './places.ts';

/**
 * Options for `new Piscina(...)`. Checks spend their time waiting on sockets, so one thread
 * runs many at once: piscina's default of ONE task per worker would let a single hung check
 * hold a thread for its whole timeout. Keep the scheduler's `maxConcurrent` ≤ threads ×
 * concurrentTasksPerWorker, so that the scheduler, not piscina's queue, bounds sockets.
 */
export function checkerPoolOptions(o: { threads?: number; concurrentTasksPerWorker?: number } = {}): {
  filename: string;
  minThreads: number;
  maxThreads: number;
  concurrentTasksPerWorker: number;
  idleTimeout: number;
} {
  const threads = o.threads ?? 1;
  return { filename: checkerWorkerFile(), minThreads: threads, maxThreads: threads, concurrentTasksPerWorker: o.concurrentTasksPerWorker ?? 256, idleTimeout: Infinity };
}

/** The part of a piscina Piscina the glue uses. */
export interface TaskPool {
  run(task: unknown): Promise<unknown>;
}

/** The part of a SpawnerHost the glue uses. */
export interface SpawnerRunner {
  run(task: SpawnerCheckTask): Promise<AttemptResult>;
}

const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

export function checkerWorkerFile(): string {
  return fileURLToPath(new URL(`../../workers/checker${ext}`, import.meta.url));
}

/**
 * The scheduler's `run`: each task to the checker pool or the spawner, as its registry
 * entry says. A pool or spawner failure (worker crashed, pool destroyed) rejects; the
 * scheduler counts it as a failed attempt with reason 'run-error'.
 */
export function poolCheckRunner(checkerPool: TaskPool, spawner: SpawnerRunner): (task: CheckTask) => Promise<AttemptResult> {
  return (task) => (runsIn(task) === 'spawner' ? spawner.run(task as SpawnerCheckTask) : (checkerPool.run(task) as Promise<AttemptResult>));
}
