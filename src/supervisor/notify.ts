/**
 * Notify scripts and notify FIFOs on VRRP transitions, real server and quorum changes
 * (keepalived vrrp/vrrp_notify.c, check/ipwrapper.c).
 *
 * Order: each subject (a VRRP instance, a sync group, a real server, a virtual server) has
 * its own queue. The scripts of one event start together (keepalived forks the specific
 * and the generic script back to back) and the next event of that subject starts only when
 * all of them have ended, so a notify_backup never overtakes the notify_master before it.
 * Queues of different subjects never wait for each other: a slow script of VI_1 does not
 * delay VI_2's. Every script runs through check/script-runner (own process group, deadline,
 * kill ladder); nothing here blocks the event loop.
 *
 * Arguments, as keepalived:
 *   notify_master / notify_backup / notify_fault / notify_stop: argv as written;
 *   notify: argv + INSTANCE|GROUP, name, MASTER|BACKUP|FAULT|STOP, priority (0 for a group);
 *   notify_up / notify_down (real_server), quorum_up / quorum_down (virtual_server): as written.
 * FIFO lines, written at once in event order (non-blocking; a full or unread FIFO drops the
 * line and counts it, never blocks):
 *   INSTANCE "VI_1" MASTER 150        GROUP "G1" BACKUP 0        (notify_fifo, vrrp_notify_fifo)
 *   RS [10.0.1.1]:tcp:80 [10.0.0.1]:tcp:80 UP     VS [10.0.0.1]:tcp:80 DOWN   (notify_fifo, lvs_notify_fifo)
 */
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { koffi, libcLibrary } from '../io/libc.ts';
import { runScript, type RunScriptOptions, type ScriptResult } from '../check/script-runner.ts';
import type { GlobalDefs, ScriptCommand } from '../config/model.ts';
import { LogEvent, type Logger } from './logger.ts';
import { checkScript, defaultScriptUser, mayRun, resolveUser, type ScriptUser } from './script-security.ts';

export type VrrpNotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

/** ms a notify script may run before its process group is killed. keepalived has none; a
 * hung script would otherwise hold its subject's queue for ever. */
export const DEFAULT_NOTIFY_TIMEOUT_MS = 120_000;
/** ms for notify_stop scripts and the generic notify with STOP: keepalived gives them
 * TIMER_HZ (1 s) at shutdown (vrrp_notify.c system_call_script(…, TIMER_HZ, …)). */
export const DEFAULT_STOP_TIMEOUT_MS = 1000;

/** A script ready to run: argv and the identity to run it as. */
export interface PreparedScript {
  readonly argv: readonly string[];
  readonly uid?: number;
  readonly gid?: number;
}

/** Turns a configured command into a runnable one, or undefined (logged) when it must not run. */
export type ScriptPreparer = (cmd: ScriptCommand) => Promise<PreparedScript | undefined>;

export type ScriptRunner = (argv: readonly string[], opts: RunScriptOptions) => Promise<ScriptResult>;

export type NotifyOutcome = 'success' | 'failure' | 'timeout' | 'error' | 'refused';

export interface NotifierOptions {
  readonly globals: Pick<GlobalDefs, 'notifyFifo' | 'vrrpNotifyFifo' | 'lvsNotifyFifo'>;
  readonly prepare: ScriptPreparer;
  readonly log?: Logger;
  readonly run?: ScriptRunner;
  readonly timeoutMs?: number;
  readonly stopTimeoutMs?: number;
  /** each script's outcome, for `vigil_notify_scripts_total{result}` */
  readonly onResult?: (outcome: NotifyOutcome) => void;
}

export interface NotifyStats {
  scripts: number;
  failed: number;
  fifoLines: number;
  fifoDropped: number;
}

/** What a VRRP instance or sync group carries for notifications (VrrpInstance, VrrpSyncGroup fit). */
export interface VrrpNotifyTarget {
  readonly name: string;
  readonly notifyMaster?: ScriptCommand;
  readonly notifyBackup?: ScriptCommand;
  readonly notifyFault?: ScriptCommand;
  readonly notifyStop?: ScriptCommand;
  readonly notify?: ScriptCommand;
}

export interface Notifier {
  /** A VRRP instance entered `state` with effective priority `priority`. */
  vrrpInstance(inst: VrrpNotifyTarget, state: VrrpNotifyState, priority: number): void;
  /** A sync group entered `state` (its generic notify gets priority 0, as keepalived). */
  vrrpGroup(group: VrrpNotifyTarget, state: VrrpNotifyState): void;
  /** A real server went up or down; `vs`/`rs` in keepalived's FMT_VS/FMT_RS form. */
  realServer(vs: string, rs: string, scripts: { readonly notifyUp?: ScriptCommand; readonly notifyDown?: ScriptCommand }, up: boolean): void;
  /** A virtual server gained or lost quorum. */
  quorum(vs: string, scripts: { readonly quorumUp?: ScriptCommand; readonly quorumDown?: ScriptCommand }, up: boolean): void;
  readonly stats: Readonly<NotifyStats>;
  /** Resolves when every queue is empty (shutdown waits on this, with its own deadline). */
  idle(): Promise<void>;
  /** Closes the FIFOs; later events still run scripts. */
  close(): void;
}

/** The generic notify script's extra arguments. Pure. */
export function genericNotifyArgs(kind: 'INSTANCE' | 'GROUP', name: string, state: VrrpNotifyState, priority: number): string[] {
  return [kind, name, state, String(priority)];
}

/** A notify FIFO line for a VRRP instance or group, newline included. Pure. */
export function vrrpFifoLine(kind: 'INSTANCE' | 'GROUP', name: string, state: VrrpNotifyState, priority: number): string {
  return `${kind} "${name}" ${state} ${priority}\n`;
}

export function rsFifoLine(rs: string, vs: string, up: boolean): string {
  return `RS ${rs} ${vs} ${up ? 'UP' : 'DOWN'}\n`;
}

export function vsFifoLine(vs: string, up: boolean): string {
  return `VS ${vs} ${up ? 'UP' : 'DOWN'}\n`;
}

interface Job {
  readonly label: string;
  readonly cmd: ScriptCommand;
  readonly extraArgs: readonly string[];
  readonly timeoutMs: number;
}

export function createNotifier(opts: NotifierOptions): Notifier {
  const run = opts.run ?? runScript;
  const log = opts.log;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_NOTIFY_TIMEOUT_MS;
  const stopTimeoutMs = opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  const stats: NotifyStats = { scripts: 0, failed: 0, fifoLines: 0, fifoDropped: 0 };
  const tails = new Map<string, Promise<void>>();

  const fifos = {
    all: openFifo(opts.globals.notifyFifo, log),
    vrrp: openFifo(opts.globals.vrrpNotifyFifo, log),
    lvs: openFifo(opts.globals.lvsNotifyFifo, log),
  };

  const outcome = (o: NotifyOutcome): void => {
    if (o !== 'success') stats.failed++;
    try {
      opts.onResult?.(o);
    } catch {
      // a metrics callback must not break a queue
    }
  };

  const writeFifo = (which: 'vrrp' | 'lvs', line: string): void => {
    for (const f of [fifos.all, fifos[which]]) {
      if (!f || f.fd < 0) continue;
      try {
        writeSync(f.fd, line);
        stats.fifoLines++;
      } catch (err) {
        stats.fifoDropped++;
        const code = (err as NodeJS.ErrnoException).code;
        // EAGAIN: nobody drains the FIFO and its buffer is full; keepalived drops silently.
        if (code !== 'EAGAIN') log?.warn({ event: LogEvent.notifyFifoFailed, fifo: f.path, code }, 'notify FIFO write failed');
      }
    }
  };

  const runOne = async (subject: string, job: Job): Promise<void> => {
    let prepared: PreparedScript | undefined;
    try {
      prepared = await opts.prepare(job.cmd);
    } catch (err) {
      log?.warn({ event: LogEvent.notifyFailed, subject, script: job.label, err: String(err) }, 'notify script could not be prepared');
      outcome('error');
      return;
    }
    if (!prepared) {
      outcome('refused');
      return;
    }
    const argv = [...prepared.argv, ...job.extraArgs];
    stats.scripts++;
    const r = await run(argv, {
      timeoutMs: job.timeoutMs,
      ...(prepared.uid !== undefined ? { uid: prepared.uid } : {}),
      ...(prepared.gid !== undefined ? { gid: prepared.gid } : {}),
    });
    const o: NotifyOutcome = r.error !== undefined ? 'error' : r.timedOut ? 'timeout' : r.exitCode === 0 ? 'success' : 'failure';
    outcome(o);
    const fields = {
      subject,
      script: job.label,
      argv,
      result: o,
      exitCode: r.exitCode,
      signal: r.signal,
      durationMs: r.durationMs,
      ...(r.error !== undefined ? { code: r.error } : {}),
      ...(o !== 'success' && r.output !== '' ? { output: r.output.slice(0, 512) } : {}),
    };
    if (o === 'success') log?.info({ event: LogEvent.notifyRun, ...fields }, `${job.label} ran`);
    else log?.warn({ event: LogEvent.notifyFailed, ...fields }, `${job.label} ${o}`);
  };

  /** Appends one event's scripts to a subject's queue; they start together, the next event waits for all. */
  const enqueue = (subject: string, jobs: readonly Job[]): void => {
    if (jobs.length === 0) return;
    const prev = tails.get(subject) ?? Promise.resolve();
    const next = prev.then(() => Promise.all(jobs.map((j) => runOne(subject, j)))).then(
      () => undefined,
      () => undefined,
    );
    tails.set(subject, next);
    void next.then(() => {
      if (tails.get(subject) === next) tails.delete(subject);
    });
  };

  const vrrpJobs = (t: VrrpNotifyTarget, kind: 'INSTANCE' | 'GROUP', state: VrrpNotifyState, priority: number): Job[] => {
    const jobs: Job[] = [];
    const tmo = state === 'STOP' ? stopTimeoutMs : timeoutMs;
    const specific = { MASTER: t.notifyMaster, BACKUP: t.notifyBackup, FAULT: t.notifyFault, STOP: t.notifyStop }[state];
    if (specific) jobs.push({ label: `notify_${state.toLowerCase()}`, cmd: specific, extraArgs: [], timeoutMs: tmo });
    if (t.notify) jobs.push({ label: 'notify', cmd: t.notify, extraArgs: genericNotifyArgs(kind, t.name, state, priority), timeoutMs: tmo });
    return jobs;
  };

  return {
    stats,
    vrrpInstance(inst, state, priority) {
      enqueue(`instance:${inst.name}`, vrrpJobs(inst, 'INSTANCE', state, priority));
      writeFifo('vrrp', vrrpFifoLine('INSTANCE', inst.name, state, priority));
    },
    vrrpGroup(group, state) {
      enqueue(`group:${group.name}`, vrrpJobs(group, 'GROUP', state, 0));
      writeFifo('vrrp', vrrpFifoLine('GROUP', group.name, state, 0));
    },
    realServer(vs, rs, scripts, up) {
      const cmd = up ? scripts.notifyUp : scripts.notifyDown;
      if (cmd) enqueue(`rs:${vs}/${rs}`, [{ label: up ? 'notify_up' : 'notify_down', cmd, extraArgs: [], timeoutMs }]);
      writeFifo('lvs', rsFifoLine(rs, vs, up));
    },
    quorum(vs, scripts, up) {
      const cmd = up ? scripts.quorumUp : scripts.quorumDown;
      if (cmd) enqueue(`vs:${vs}`, [{ label: up ? 'quorum_up' : 'quorum_down', cmd, extraArgs: [], timeoutMs }]);
      writeFifo('lvs', vsFifoLine(vs, up));
    },
    async idle() {
      while (tails.size > 0) await Promise.all([...tails.values()]);
    },
    close() {
      for (const f of [fifos.all, fifos.vrrp, fifos.lvs]) {
        if (f && f.fd >= 0) {
          closeSync(f.fd);
          f.fd = -1;
        }
      }
    },
  };
}

// ---- FIFOs ---------------------------------------------------------------------------------

interface Fifo {
  readonly path: string;
  fd: number;
}

let mkfifoFn: ((path: string, mode: number) => number) | undefined;

/** mkfifo(3): Node has no binding for it. */
function mkfifo(path: string, mode: number): number {
  if (!mkfifoFn) mkfifoFn = libcLibrary().func('mkfifo', 'int', ['str', 'uint32_t']) as (p: string, m: number) => number;
  return mkfifoFn(path, mode) === 0 ? 0 : koffi.errno();
}

const EEXIST = 17;

/**
 * Opens (creating if needed, mode 0644 as keepalived) a notify FIFO for writing without
 * ever blocking: O_RDWR makes open(2) succeed with no reader, O_NONBLOCK makes a full FIFO
 * fail with EAGAIN. Refuses anything that is not a FIFO we own (a file planted in its place).
 */
function openFifo(path: string | undefined, log: Logger | undefined): Fifo | undefined {
  if (path === undefined || path === '') return undefined;
  const e = mkfifo(path, 0o644);
  if (e !== 0 && e !== EEXIST) {
    log?.warn({ event: LogEvent.notifyFifoFailed, fifo: path, errno: e }, 'cannot create notify FIFO');
    return undefined;
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOFOLLOW); // libuv adds O_CLOEXEC itself
  } catch (err) {
    log?.warn({ event: LogEvent.notifyFifoFailed, fifo: path, code: (err as NodeJS.ErrnoException).code }, 'cannot open notify FIFO');
    return undefined;
  }
  const st = fstatSync(fd);
  if (!st.isFIFO() || st.uid !== (process.getuid?.() ?? st.uid)) {
    closeSync(fd);
    log?.warn({ event: LogEvent.notifyFifoFailed, fifo: path }, 'notify FIFO path is not a FIFO we own; not using it');
    return undefined;
  }
  return { path, fd };
}

// ---- the default preparer: script_user and enable_script_security --------------------------

/**
 * A ScriptPreparer applying keepalived's rules (script-security.ts): the script's user, else
 * script_user, else keepalived_script, else root; an unsafe script is refused under
 * enable_script_security and run with a warning otherwise. Results are cached for the
 * life of the preparer: make a new one for each loaded config, as keepalived checks
 * scripts once per (re)load.
 */
export function createScriptPreparer(globals: Pick<GlobalDefs, 'scriptUser' | 'enableScriptSecurity'>, log?: Logger): ScriptPreparer {
  let fallback: Promise<ScriptUser> | undefined;
  const cache = new Map<string, Promise<PreparedScript | undefined>>();
  const getFallback = (): Promise<ScriptUser> => {
    fallback ??= defaultScriptUser(globals).then((d) => {
      if (d.warning !== undefined) log?.warn({ event: LogEvent.scriptInsecure }, d.warning);
      return d.user;
    });
    return fallback;
  };
  return (cmd) => {
    const key = JSON.stringify([cmd.argv, cmd.user ?? null, cmd.group ?? null]);
    let p = cache.get(key);
    if (!p) {
      p = (async () => {
        const argv0 = cmd.argv[0];
        if (argv0 === undefined) return undefined;
        let user: ScriptUser;
        try {
          user = cmd.user !== undefined ? await resolveUser(cmd.user, cmd.group) : await getFallback();
        } catch (err) {
          log?.error({ event: LogEvent.scriptInsecure, script: cmd.raw, file: cmd.loc.file, line: cmd.loc.line, err: (err as Error).message }, 'script user cannot be resolved; script disabled');
          return undefined;
        }
        const c = checkScript(argv0, user, globals.enableScriptSecurity);
        if (c.message !== undefined) {
          const level = mayRun(c) && c.status === 'ok' ? 'info' : mayRun(c) ? 'warn' : 'error';
          log?.[level]({ event: LogEvent.scriptInsecure, script: cmd.raw, file: cmd.loc.file, line: cmd.loc.line, status: c.status }, c.message);
        }
        if (!mayRun(c)) return undefined;
        return { argv: [c.path, ...cmd.argv.slice(1)], uid: user.uid, gid: user.gid };
      })();
      cache.set(key, p);
    }
    return p;
  };
}
