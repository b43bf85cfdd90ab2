/**
 * The plain-data tasks that cross into the checker pool and the spawner (src/check/spawner.ts). Types only:
 * each checker owns its task type (http.ts, tcp.ts, …) and registry.ts gathers them; this
 * file re-exports them for the code that schedules tasks, and holds the vrrp_script task.
 *
 * Only structured-clone-safe data lives in a task: the worker has no config, no state and
 * no timers of its own; everything about scheduling stays on the main thread (scheduler.ts).
 */
import type { MiscTask } from './misc.ts';

export type { AttemptResult } from './result.ts';
export type { Endpoint } from './endpoint.ts';
export type { HttpTask, HttpUrlTask } from './http.ts';
export type { TcpTask } from './tcp.ts';
export type { DnsTask } from './dns.ts';
export type { MiscTask } from './misc.ts';
export type { UdpTask } from './udp.ts';
export type { PingTask } from './ping.ts';
export type { SmtpTask } from './smtp.ts';
export type { CheckTask, CheckKind, SpawnerCheckTask } from './registry.ts';

/** A vrrp_script run: the exit status is judged by vrrp-script.ts on the main thread. */
export interface ScriptTask {
  readonly kind: 'script';
  readonly argv: readonly string[];
  /** ms */
  readonly timeoutMs: number;
  /** ms between SIGTERM and SIGKILL to the script's process group */
  readonly graceMs?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly env?: Record<string, string>;
}

/** What the spawner starts through posix_spawn: a MISC_CHECK attempt or a vrrp_script / notify script. */
export type ScriptPoolTask = MiscTask | ScriptTask;
