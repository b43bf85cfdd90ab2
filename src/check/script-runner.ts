/**
 * Runs one script (vrrp_script, MISC_CHECK) as a child process with a deadline and a kill
 * ladder, and never leaves its process group behind when the deadline passes.
 *
 * The child is started with posix_spawn from this process (src/io/spawn.ts: no fork of the
 * daemon's address space, so no stall of its other threads, and no spawner process to keep)
 * in a session of its own: it leads a new process group whose id is its pid, and everything
 * it forks stays in that group unless it calls setsid itself.
 * At the deadline the whole group gets SIGTERM; as soon as the leader dies the group gets
 * SIGKILL (a grandchild that ignored SIGTERM or outlived its parent is still a member), and
 * if the leader ignores SIGTERM the group gets SIGKILL after `graceMs` (keepalived:
 * vrrp_script_child_thread / misc_check_child_thread, `kill(-pid, SIGKILL)` after a
 * timed-out script's SIGTERM). The result is resolved only after that SIGKILL was sent.
 *
 * The deadline is owned here and not by the pool: a piscina abort terminates the worker
 * thread, never the child process.
 *
 * Never throws: a script that cannot be started (missing, not executable, bad uid) comes back
 * as a ScriptResult with `error` set.
 */
import { spawnDetached } from '../io/spawn.ts';

export interface ScriptResult {
  /** exit status when the script exited by itself, else null */
  exitCode: number | null;
  /** the signal that ended it ('SIGTERM', 'SIGKILL', …), else null */
  signal: string | null;
  /** the deadline passed and the kill ladder ran */
  timedOut: boolean;
  /** ms from spawn to exit */
  durationMs: number;
  /** first few KiB of stdout and stderr (one pipe, in the order written), for logs */
  output: string;
  /** set when the script could not be run at all: an errno name such as ENOENT, EACCES */
  error?: string;
}

export interface RunScriptOptions {
  /** ms; the kill ladder starts when it passes */
  timeoutMs: number;
  /** ms between SIGTERM and SIGKILL to the process group; default 2000 (keepalived waits 2 s) */
  graceMs?: number;
  /** drop privileges: setgid, setgroups(0), setuid before the script runs (setpriv, src/io/spawn.ts) */
  uid?: number;
  gid?: number;
  /** the child's whole environment; default: this process's */
  env?: Record<string, string>;
  cwd?: string;
  /** bytes of stdout+stderr kept for `output`; the rest is read and dropped. Default 4096 */
  maxOutputBytes?: number;
}

/** The run options a script or MISC_CHECK task carries (timeout, grace, uid/gid, env). */
export function scriptRunOptions(t: { timeoutMs: number; graceMs?: number; uid?: number; gid?: number; env?: Record<string, string> }): RunScriptOptions {
  return {
    timeoutMs: t.timeoutMs,
    ...(t.graceMs !== undefined ? { graceMs: t.graceMs } : {}),
    ...(t.uid !== undefined ? { uid: t.uid } : {}),
    ...(t.gid !== undefined ? { gid: t.gid } : {}),
    ...(t.env !== undefined ? { env: t.env } : {}),
  };
}

/** ms after the script exits that we still wait for its stdout/stderr to close. */
const STDIO_LINGER_MS = 100;
const DEFAULT_GRACE_MS = 2000;
const DEFAULT_MAX_OUTPUT = 4096;

export function runScript(argv: readonly string[], opts: RunScriptOptions): Promise<ScriptResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round((performance.now() - started) * 1000) / 1000;
  const maxOut = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;

  const cmd = argv[0];
  const badId = (id: number | undefined): boolean => id !== undefined && !(Number.isInteger(id) && id >= 0 && id < 0xffffffff);
  if (cmd === undefined || cmd === '' || badId(opts.uid) || badId(opts.gid) || !(opts.timeoutMs >= 0)) {
    return Promise.resolve({ exitCode: null, signal: null, timedOut: false, durationMs: 0, output: '', error: 'EINVAL' });
  }

  return new Promise<ScriptResult>((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    const keep = (b: Buffer): void => {
      if (kept >= maxOut) return;
      const part = b.length > maxOut - kept ? b.subarray(0, maxOut - kept) : b;
      chunks.push(part);
      kept += part.length;
    };

    const child = spawnDetached({
      argv,
      ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
      ...(opts.env !== undefined ? { env: opts.env } : {}),
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    });
    if ('error' in child) {
      // ENOENT / EACCES: no process ran
      resolve({ exitCode: null, signal: null, timedOut: false, durationMs: elapsed(), output: '', error: child.error });
      return;
    }

    const pgid = child.pid;
    let timedOut = false;
    let settled = false;
    let exited: { code: number | null; signal: string | null } | undefined;
    let termTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let lingerTimer: NodeJS.Timeout | undefined;
    let outputOpen = true;

    const killGroup = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-pgid, sig);
      } catch {
        // ESRCH: the whole group is gone already
      }
    };

    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(termTimer);
      clearTimeout(killTimer);
      clearTimeout(lingerTimer);
      child.output.destroy();
      resolve({
        exitCode: exited?.code ?? null,
        signal: exited?.signal ?? null,
        timedOut,
        durationMs: elapsed(),
        output: Buffer.concat(chunks).toString('utf8'),
      });
    };

    const maybeFinish = (): void => {
      if (exited === undefined) return;
      if (!outputOpen) {
        finish();
        return;
      }
      // The script exited but something it started still holds stdout/stderr open: do not
      // wait for that process (it is not ours to judge when the script succeeded).
      if (lingerTimer === undefined) lingerTimer = setTimeout(finish, STDIO_LINGER_MS);
    };

    child.output.on('data', keep);
    child.output.once('close', () => {
      outputOpen = false;
      maybeFinish();
    });

    void child.exited.then((status) => {
      exited = status;
      if (timedOut) {
        // The leader is gone; whatever it started may not be (keepalived does the same:
        // SIGKILL to the group once a timed-out script has died).
        clearTimeout(killTimer);
        killGroup('SIGKILL');
      }
      maybeFinish();
    });

    termTimer = setTimeout(() => {
      if (exited !== undefined || settled) return;
      timedOut = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), graceMs);
    }, opts.timeoutMs);
  });
}
