/**
 * Scripts run from a small process of their own, not from the daemon.
 *
 * fork() copies the forking process's page tables while holding its memory-map lock, and
 * every other thread of that process that faults a page or maps memory waits for it. From
 * the daemon (~150–200 MB resident: V8, the pools, the VRRP worker) that stall reaches the
 * VRRP worker: measured here, 40 spawns a second from a 150 MB process moved another thread's
 * 10 ms timer error from p99 0.16 ms to 4 ms. keepalived forks its scripts from a small
 * process for the same reason. So vrrp_script and MISC_CHECK tasks go over an IPC channel to
 * `workers/spawner.ts`, which forks them in its own address space with the same runner
 * (deadlines, kill ladders to the process group, uid/gid).
 *
 * The spawner is restarted if it dies; tasks in flight then fail with reason `run-error`
 * (the callers count that as a failed attempt).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AttemptResult, ScriptTask, SpawnerCheckTask } from './task.ts';
import type { SpawnerTask } from './spawner-task.ts';
import type { ScriptResult } from './script-runner.ts';

export interface SpawnerRequest {
  readonly id: number;
  readonly task: SpawnerTask;
}

export type SpawnerReply =
  | { readonly id: number; readonly ok: true; readonly result: AttemptResult | ScriptResult }
  | { readonly id: number; readonly ok: false; readonly error: string };

const compiled = import.meta.url.endsWith('.js');

/** ms added to a task's own deadline (and kill ladder) before the host gives up on an answer */
const ANSWER_SLACK_MS = 5000;

export class SpawnerHost {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, { resolve: (r: AttemptResult | ScriptResult) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private stopped = false;

  constructor(private readonly onEvent: (event: string, detail: string) => void = () => undefined) {}

  run(task: SpawnerCheckTask): Promise<AttemptResult>;
  run(task: ScriptTask): Promise<ScriptResult>;
  run(task: SpawnerTask): Promise<AttemptResult | ScriptResult> {
    if (this.stopped) return Promise.reject(new Error('spawner stopped'));
    const child = this.ensure();
    const id = this.nextId++;
    const taskMs = task.kind === 'ping' ? task.connectTimeoutMs : task.timeoutMs + (task.kind === 'script' ? (task.graceMs ?? 2000) : 2000);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`spawner did not answer within ${taskMs + ANSWER_SLACK_MS} ms`));
      }, taskMs + ANSWER_SLACK_MS);
      this.pending.set(id, { resolve, reject, timer });
      child.send({ id, task } satisfies SpawnerRequest, (err) => {
        if (!err) return;
        const p = this.pending.get(id);
        this.pending.delete(id);
        clearTimeout(timer);
        p?.reject(err);
      });
    });
  }

  /**
   * Starts the spawner process now rather than with the first task, so that the first
   * notify or check after a transition does not wait for a fork and a Node start-up.
   */
  start(): void {
    if (!this.stopped) this.ensure();
  }

  /**
   * Ends the spawner. Tasks in flight are waited for (bounded by `timeoutMs`: each has its
   * own deadline and kill ladder in the spawner), then the channel is closed and the spawner
   * exits by itself; SIGKILL if it does not within a second.
   */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopped = true;
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error('spawner stopped'));
    }
    this.pending.clear();
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.disconnect();
      await Promise.race([gone, new Promise((r) => setTimeout(r, 1000).unref())]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }

  private ensure(): ChildProcess {
    if (this.child) return this.child;
    const file = fileURLToPath(new URL(`../../workers/spawner.${compiled ? 'js' : 'ts'}`, import.meta.url));
    // Under tsx the parent's --import tsx is inherited through execArgv (fork's default).
    const child = fork(file, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    this.child = child;
    child.on('message', (m: SpawnerReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`spawner exited (${signal ?? code})`));
        this.pending.delete(id);
      }
      if (!this.stopped) this.onEvent('spawner.exit', `spawner exited (${signal ?? String(code)}); a new one starts with the next task`);
    });
    child.on('error', (e) => this.onEvent('spawner.error', e.message));
    return child;
  }
}
