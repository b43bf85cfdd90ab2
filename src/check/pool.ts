/**
 * Glue between the scheduler/tracker and the two piscina pools, kept here so that the
 * supervisor only wires things together.
 *
 * Worker files: workers/checker.ts (runs `runAttempt`: HTTP, SSL, TCP, DNS) and
 * workers/script.ts (runs `runScriptPoolTask`: MISC_CHECK attempts and vrrp_scripts).
 * `checkerWorkerFile()` / `scriptWorkerFile()` give the file next to the running code: the
 * `.ts` source under tsx, the `.js` build in dist/.
 *
 * Loading `.ts` workers under tsx: piscina starts each worker with the parent's
 * `process.execArgv` (node:worker_threads' default), so a parent started with
 * `node --import tsx` (or `tsx`) gets tsx's loader in every worker too, and `filename`
 * may point at the `.ts` file directly. Nothing else is needed; dist/ needs nothing at all.
 */
import { fileURLToPath } from 'node:url';
import type { AttemptResult, CheckTask, MiscTask, ScriptPoolTask, ScriptTask } from './task.ts';
import { runScript, type ScriptResult } from './script-runner.ts';
import { miscAttempt } from './misc.ts';

/**
 * Options for `new Piscina(...)` for each pool. Both kinds of task spend their time waiting
 * on sockets or child processes, so one thread runs many at once: piscina's default of ONE
 * task per worker would let a single hung check hold a thread for its whole timeout.
 * Keep the scheduler's `maxConcurrent` ≤ threads × concurrentTasksPerWorker, so that the
 * scheduler, not piscina's queue, bounds sockets and children.
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

export function scriptPoolOptions(o: { threads?: number; concurrentTasksPerWorker?: number } = {}): {
  filename: string;
  minThreads: number;
  maxThreads: number;
  concurrentTasksPerWorker: number;
  idleTimeout: number;
} {
  const threads = o.threads ?? 1;
  return { filename: scriptWorkerFile(), minThreads: threads, maxThreads: threads, concurrentTasksPerWorker: o.concurrentTasksPerWorker ?? 64, idleTimeout: Infinity };
}

/** The part of a piscina Piscina the glue uses. */
export interface TaskPool {
  run(task: unknown): Promise<unknown>;
}

const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

export function checkerWorkerFile(): string {
  return fileURLToPath(new URL(`../../workers/checker${ext}`, import.meta.url));
}

export function scriptWorkerFile(): string {
  return fileURLToPath(new URL(`../../workers/script${ext}`, import.meta.url));
}

/** The script pool's task function (default export of workers/script.ts). Never throws. */
export async function runScriptPoolTask(task: MiscTask): Promise<AttemptResult>;
export async function runScriptPoolTask(task: ScriptTask): Promise<ScriptResult>;
export async function runScriptPoolTask(task: ScriptPoolTask): Promise<AttemptResult | ScriptResult>;
export async function runScriptPoolTask(task: ScriptPoolTask): Promise<AttemptResult | ScriptResult> {
  if (task.kind === 'misc') return miscAttempt(task);
  return runScript(task.argv, {
    timeoutMs: task.timeoutMs,
    ...(task.graceMs !== undefined ? { graceMs: task.graceMs } : {}),
    ...(task.uid !== undefined ? { uid: task.uid } : {}),
    ...(task.gid !== undefined ? { gid: task.gid } : {}),
    ...(task.env !== undefined ? { env: task.env } : {}),
  });
}

/**
 * The scheduler's `run`: MISC_CHECK to the script pool, everything else to the checker pool.
 * A pool failure (worker crashed, pool destroyed) rejects; the scheduler counts it as a
 * failed attempt with reason 'run-error'.
 */
export function poolCheckRunner(checkerPool: TaskPool, scriptPool: TaskPool): (task: CheckTask) => Promise<AttemptResult> {
  return (task) => (task.kind === 'misc' ? scriptPool.run(task) : checkerPool.run(task)) as Promise<AttemptResult>;
}

/** The ScriptTracker's `run`, on the script pool. */
export function poolScriptRunner(scriptPool: TaskPool): (task: ScriptTask) => Promise<ScriptResult> {
  return (task) => scriptPool.run(task) as Promise<ScriptResult>;
}
