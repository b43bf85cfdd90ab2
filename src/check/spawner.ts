/**
 * Where tasks that start processes, or need a process's main thread, run.
 *
 * Scripts (vrrp_script, notify, MISC_CHECK) start from this process through posix_spawn
 * (src/io/spawn.ts via script-runner.ts): no fork() of the daemon's address space, so no
 * stall of the VRRP thread while the kernel copies page tables (bench/fork-stall.ts), and no
 * second process to carry for it. Each has its deadline and kill ladder (script-runner.ts).
 *
 * PING_CHECK needs raw-socket, which works only on a process's main thread: its attempts go
 * over an IPC channel to a small Node process of their own (`workers/spawner.ts`), started
 * with the first one, so a config without PING_CHECK never starts it. That process is
 * restarted if it dies; attempts in flight then fail with reason `run-error` (the callers
 * count that as a failed attempt).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AttemptResult, ScriptTask, SpawnerCheckTask } from './task.ts';
import type { PingTask } from './ping.ts';
import { miscAttempt } from './misc.ts';
import { runScript, scriptRunOptions, type ScriptResult } from './script-runner.ts';

export interface SpawnerRequest {
  readonly id: number;
  readonly task: PingTask;
}

export type SpawnerReply =
  | { readonly id: number; readonly ok: true; readonly result: AttemptResult }
  | { readonly id: number; readonly ok: false; readonly error: string };

const compiled = import.meta.url.endsWith('.js');

/** ms added to a task's own deadline (and kill ladder) before the host gives up on an answer */
const ANSWER_SLACK_MS = 5000;

export class SpawnerHost {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, { resolve: (r: AttemptResult) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private stopped = false;
  /** tasks running in this process (scripts), waited for by stop() */
  private readonly local = new Set<Promise<unknown>>();

  constructor(private readonly onEvent: (event: string, detail: string) => void = () => undefined) {}

  run(task: SpawnerCheckTask): Promise<AttemptResult>;
  run(task: ScriptTask): Promise<ScriptResult>;
  run(task: SpawnerCheckTask | ScriptTask): Promise<AttemptResult | ScriptResult> {
    if (this.stopped) return Promise.reject(new Error('spawner stopped'));
    if (task.kind === 'script') return this.inProcess(runScript(task.argv, scriptRunOptions(task)));
    if (task.kind === 'misc') return this.inProcess(miscAttempt(task));
    return this.ping(task);
  }

  /** pid of the PING_CHECK process while it runs */
  get pingPid(): number | undefined {
    return this.child?.pid;
  }

  private inProcess<T>(p: Promise<T>): Promise<T> {
    this.local.add(p);
    void p.finally(() => this.local.delete(p));
    return p;
  }

  private ping(task: PingTask): Promise<AttemptResult> {
    const child = this.ensure();
    const id = this.nextId++;
    const taskMs = task.connectTimeoutMs;
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
   * Ends it all. Tasks in flight are waited for (bounded by `timeoutMs`: each script has its
   * own deadline and kill ladder), then the ping process's channel is closed and it exits by
   * itself; SIGKILL if it does not within a second.
   */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopped = true;
    const deadline = Date.now() + timeoutMs;
    while ((this.pending.size > 0 || this.local.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
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
