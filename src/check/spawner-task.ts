/**
 * What the spawner process (workers/spawner.ts) runs for the daemon: a check attempt whose
 * registry entry says `spawner` (MISC_CHECK), or a script run (vrrp_script, notify). Never
 * throws; the child's deadline and kill ladder are owned by the script runner.
 */
import type { AttemptResult } from './result.ts';
import type { SpawnerCheckTask } from './registry.ts';
import { runScript, type ScriptResult } from './script-runner.ts';
import type { ScriptTask } from './task.ts';

/** One request to the spawner. */
export type SpawnerTask = SpawnerCheckTask | ScriptTask;

export async function runSpawnerTask(task: SpawnerCheckTask): Promise<AttemptResult>;
export async function runSpawnerTask(task: ScriptTask): Promise<ScriptResult>;
export async function runSpawnerTask(task: SpawnerTask): Promise<AttemptResult | ScriptResult>;
export async function runSpawnerTask(task: SpawnerTask): Promise<AttemptResult | ScriptResult> {
  // The checkers (and raw-socket, for PING_CHECK) load with the first check: a spawner that
  // only runs scripts stays small (bench/footprint).
  if (task.kind !== 'script') return (await import('./registry.ts')).runAttempt(task);
  return runScript(task.argv, {
    timeoutMs: task.timeoutMs,
    ...(task.graceMs !== undefined ? { graceMs: task.graceMs } : {}),
    ...(task.uid !== undefined ? { uid: task.uid } : {}),
    ...(task.gid !== undefined ? { gid: task.gid } : {}),
    ...(task.env !== undefined ? { env: task.env } : {}),
  });
}
