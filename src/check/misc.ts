/**
 * MISC_CHECK: one attempt runs misc_path under misc_timeout through the script runner
 * (keepalived check_misc.c): exit 0 passes; with misc_dynamic, exit 2–255 passes and sets
 * the real server's weight to exit−2; any other exit, a signal or the timeout fails.
 */
import { runScript, scriptRunOptions } from './script-runner.ts';
import { fail, pass, type AttemptResult } from './result.ts';

export interface MiscTask {
  readonly kind: 'misc';
  readonly argv: readonly string[];
  /** ms: misc_timeout */
  readonly timeoutMs: number;
  /** ms between SIGTERM and SIGKILL to the script's process group */
  readonly graceMs?: number;
  /** misc_dynamic: exit 2–255 means up with weight exit−2 */
  readonly dynamic: boolean;
  readonly uid?: number;
  readonly gid?: number;
  readonly env?: Record<string, string>;
}

export async function miscAttempt(task: MiscTask): Promise<AttemptResult> {
  const started = performance.now();
  const r = await runScript(task.argv, scriptRunOptions(task));
  const out = r.output.trim().slice(0, 200);
  if (r.error !== undefined) return fail(started, `spawn ${r.error}`, `${task.argv[0] ?? ''}: ${r.error}`);
  if (r.timedOut) return fail(started, 'timeout', `no exit within ${task.timeoutMs} ms; killed`);
  if (r.exitCode === null) return fail(started, `signal ${r.signal ?? '?'}`, out);
  if (r.exitCode === 0) return pass(started);
  if (task.dynamic && r.exitCode >= 2 && r.exitCode <= 255) return pass(started, { weight: r.exitCode - 2 });
  return fail(started, `exit ${r.exitCode}`, out);
}
