/**
 * vrrp_track_process: how many running processes match each tracked spec, kept current by
 * the kernel's process connector (fork, exec, comm and exit events), with a /proc scan at
 * start and again after events were lost (ENOBUFS, or a gap in a CPU's sequence numbers).
 * keepalived core/track_process.c works the same way; the semantics below are its:
 *
 * - a process matches by its name (/proc/PID/stat comm) unless the spec has parameters or
 *   full_command, then by /proc/PID/cmdline: argv[0] equal to `process`, and the
 *   parameters by param_match (exact; partial: the first n equal; initial: the last may be
 *   longer). Zombies and threads do not count.
 * - a fork of a counted process counts at once (a child runs its parent's image until it
 *   execs, when it is matched again).
 * - the status is up while quorum ≤ count ≤ quorum_max. Gaining it through a fork waits
 *   fork_delay, losing it waits terminate_delay; returning to the old status meanwhile
 *   cancels the wait.
 *
 * When the kernel offers no process events (no CONFIG_PROC_EVENTS, no privilege), /proc is
 * scanned every FALLBACK_SCAN_MS instead and a warning says so.
 */
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import type { TrackProcess } from '../config/model.ts';
import type { IoError } from '../io/errors.ts';
import { openProcConnector, type ProcConnector } from '../io/proc-connector.ts';
import { decodeProcEvents, type ProcEvent } from '../netlink/proc-events.ts';

/** ms between /proc scans when the process connector is unavailable */
export const FALLBACK_SCAN_MS = 1000;
/** ms to let a burst settle after lost events before the re-scan (keepalived waits 1 s) */
const RESCAN_AFTER_LOSS_MS = 100;

/** What /proc says about a process: its name and, when asked for, its command line. */
export interface ProcInfo {
  readonly comm: string;
  readonly argv?: readonly string[];
}

/** Whether `p` is a process `spec` counts (pure). */
export function processMatches(spec: TrackProcess, p: ProcInfo): boolean {
  if (!spec.fullCommand) return p.comm === spec.process;
  const argv = p.argv;
  if (argv === undefined || argv.length === 0 || argv[0] !== spec.process) return false;
  const have = argv.slice(1);
  const want = spec.params;
  switch (spec.paramMatch) {
    case 'none':
      return true;
    case 'exact':
      return have.length === want.length && want.every((w, i) => have[i] === w);
    case 'partial':
      return have.length >= want.length && want.every((w, i) => have[i] === w);
    case 'initial':
      if (have.length < want.length) return false;
      return want.every((w, i) => (i === want.length - 1 ? (have[i] ?? '').startsWith(w) : have[i] === w));
  }
}

/** Reads /proc/PID: undefined for a process that is gone, a zombie, or a kernel thread without a command line when one is needed. */
export function readProc(pid: number, withArgv: boolean): ProcInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  if (stat[close + 2] === 'Z') return undefined;
  const comm = stat.slice(open + 1, close);
  if (!withArgv) return { comm };
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
  const argv = raw.split('\0');
  if (argv[argv.length - 1] === '') argv.pop();
  return { comm, argv };
}

export interface ProcessTrackerEvents {
  /** a spec's quorum status changed (after its delay) */
  status: [name: string, up: boolean, count: number];
  /** something an operator should hear of */
  problem: [message: string];
  /** process events flow: the connector socket is watched (or the /proc fallback runs) */
  live: [source: 'connector' | 'polling'];
}

export interface ProcessTrackerOptions {
  /** test hook: replaces the kernel's process events (then /proc is scanned only on demand) */
  readonly openConnector?: typeof openProcConnector;
}

interface Spec {
  readonly spec: TrackProcess;
  count: number;
  /** the status last reported */
  up: boolean;
  timer: NodeJS.Timeout | undefined;
}

export class ProcessTracker extends EventEmitter<ProcessTrackerEvents> {
  private specs = new Map<string, Spec>();
  /** pid → the specs that count it */
  private pids = new Map<number, Set<string>>();
  private connector: ProcConnector | undefined;
  private poll: NodeJS.Timeout | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private readonly seq = new Map<number, number>();
  private needArgv = false;
  private readonly open: typeof openProcConnector;

  constructor(opts: ProcessTrackerOptions = {}) {
    super();
    this.open = opts.openConnector ?? openProcConnector;
  }

  /**
   * The specs to track (only those something tracks). A spec whose definition is unchanged
   * keeps its count and status; the first call subscribes to process events, then scans
   * /proc, so that nothing is missed in between.
   */
  setProcesses(list: readonly TrackProcess[]): void {
    const next = new Map<string, Spec>();
    for (const spec of list) {
      const old = this.specs.get(spec.name);
      if (old !== undefined && JSON.stringify({ ...old.spec, loc: 0 }) === JSON.stringify({ ...spec, loc: 0 })) next.set(spec.name, { ...old, spec });
      else {
        if (old?.timer !== undefined) clearTimeout(old.timer);
        next.set(spec.name, { spec, count: 0, up: false, timer: undefined });
      }
    }
    for (const [name, s] of this.specs) if (!next.has(name) && s.timer !== undefined) clearTimeout(s.timer);
    this.specs = next;
    this.needArgv = list.some((s) => s.fullCommand);
    if (this.specs.size === 0) {
      this.close();
      this.pids.clear();
      return;
    }
    if (this.connector === undefined && this.poll === undefined) this.start();
    this.scan(true);
  }

  /** The reported status of a spec, and its count. */
  status(name: string): { up: boolean; count: number } | undefined {
    const s = this.specs.get(name);
    return s === undefined ? undefined : { up: s.up, count: s.count };
  }

  stop(): void {
    for (const s of this.specs.values()) if (s.timer !== undefined) clearTimeout(s.timer);
    this.specs.clear();
    this.pids.clear();
    this.close();
  }

  private start(): void {
    try {
      const c = this.open(
        (d) => this.onDatagram(d),
        (e) => this.onRecvError(e),
      );
      this.connector = c;
      // Events from now on wait in the socket until read: none is lost. Said after start()
      // returns, so that a listener attached just after it hears it.
      queueMicrotask(() => {
        if (this.connector === c) this.emit('live', 'connector');
      });
    } catch (e) {
      this.emit('problem', `no process events from the kernel (${(e as Error).message}); /proc is scanned every ${FALLBACK_SCAN_MS} ms instead`);
      this.poll = setInterval(() => this.scan(false), FALLBACK_SCAN_MS);
      this.emit('live', 'polling');
    }
  }

  private close(): void {
    this.connector?.close();
    this.connector = undefined;
    if (this.poll !== undefined) clearInterval(this.poll);
    this.poll = undefined;
    if (this.rescanTimer !== undefined) clearTimeout(this.rescanTimer);
    this.rescanTimer = undefined;
  }

  /** Rebuilds every count from /proc; `initial`: statuses are set without delays (start-up, reload). */
  private scan(initial: boolean): void {
    this.pids.clear();
    for (const s of this.specs.values()) s.count = 0;
    let entries: string[];
    try {
      entries = readdirSync('/proc');
    } catch (e) {
      this.emit('problem', `cannot read /proc: ${(e as Error).message}`);
      return;
    }
    for (const ent of entries) {
      const c = ent.charCodeAt(0);
      if (c < 49 || c > 57) continue; // [1-9]
      const pid = Number(ent);
      if (!Number.isInteger(pid)) continue;
      const info = readProc(pid, this.needArgv);
      if (info === undefined) continue;
      const set = new Set<string>();
      for (const s of this.specs.values()) {
        if (processMatches(s.spec, info)) {
          set.add(s.spec.name);
          s.count++;
        }
      }
      if (set.size > 0) this.pids.set(pid, set);
    }
    for (const s of this.specs.values()) {
      if (initial) {
        // read by the caller through status(); no event
        if (s.timer !== undefined) clearTimeout(s.timer);
        s.timer = undefined;
        s.up = this.wanted(s);
      } else this.settle(s, 'scan');
    }
  }

  private wanted(s: Spec): boolean {
    return s.count >= s.spec.quorum && s.count <= (s.spec.quorumMax ?? Number.MAX_SAFE_INTEGER);
  }

  /** After a count change: report now, or after the spec's delay, or cancel a pending change. */
  private settle(s: Spec, cause: 'fork' | 'exit' | 'exec' | 'scan'): void {
    const want = this.wanted(s);
    if (want === s.up) {
      if (s.timer !== undefined) clearTimeout(s.timer);
      s.timer = undefined;
      return;
    }
    if (s.timer !== undefined) return;
    const delay = want ? (cause === 'fork' ? s.spec.forkDelayMs : 0) : s.spec.terminateDelayMs;
    if (delay <= 0) {
      this.report(s, want);
      return;
    }
    s.timer = setTimeout(() => {
      s.timer = undefined;
      this.report(s, this.wanted(s));
    }, delay);
  }

  private report(s: Spec, up: boolean): void {
    if (up === s.up) return;
    s.up = up;
    this.emit('status', s.spec.name, up, s.count);
  }

  private onDatagram(d: Uint8Array): void {
    for (const r of decodeProcEvents(d)) {
      const last = this.seq.get(r.cpu);
      this.seq.set(r.cpu, r.seq);
      if (last !== undefined && r.seq !== ((last + 1) >>> 0)) this.lost();
      this.onEvent(r.event);
    }
  }

  private onEvent(e: ProcEvent): void {
    switch (e.what) {
      case 'fork': {
        if (e.childPid !== e.childTgid) return; // a new thread
        const parent = this.pids.get(e.parentTgid);
        if (parent === undefined) return;
        this.pids.set(e.childTgid, new Set(parent));
        for (const name of parent) {
          const s = this.specs.get(name);
          if (s === undefined) continue;
          s.count++;
          this.settle(s, 'fork');
        }
        return;
      }
      case 'exit': {
        if (e.pid !== e.tgid) return; // a thread
        const set = this.pids.get(e.tgid);
        if (set === undefined) return;
        this.pids.delete(e.tgid);
        for (const name of set) {
          const s = this.specs.get(name);
          if (s === undefined) continue;
          s.count--;
          this.settle(s, 'exit');
        }
        return;
      }
      case 'exec':
      case 'comm':
        if (e.pid !== e.tgid) return;
        this.recheck(e.tgid, e.what === 'comm' ? e.comm : undefined);
        return;
      case 'other':
        return;
    }
  }

  /** A process exec'd or renamed itself: count it again. A comm change leaves full_command matches alone. */
  private recheck(pid: number, comm: string | undefined): void {
    const before = this.pids.get(pid) ?? new Set<string>();
    const info: ProcInfo | undefined = comm !== undefined ? { comm } : readProc(pid, this.needArgv);
    const after = new Set<string>();
    for (const s of this.specs.values()) {
      if (comm !== undefined && s.spec.fullCommand) {
        if (before.has(s.spec.name)) after.add(s.spec.name);
        continue;
      }
      if (info !== undefined && processMatches(s.spec, info)) after.add(s.spec.name);
    }
    if (after.size > 0) this.pids.set(pid, after);
    else this.pids.delete(pid);
    for (const s of this.specs.values()) {
      const was = before.has(s.spec.name);
      const is = after.has(s.spec.name);
      if (was === is) continue;
      s.count += is ? 1 : -1;
      this.settle(s, 'exec');
    }
  }

  private onRecvError(e: IoError): void {
    if (e.errno === 'ENOBUFS') this.lost();
    else this.emit('problem', `process events: ${e.message}`);
  }

  /** Events were lost: re-scan /proc once the burst has settled. */
  private lost(): void {
    if (this.rescanTimer !== undefined) return;
    this.emit('problem', `process events were lost; re-scanning /proc in ${RESCAN_AFTER_LOSS_MS} ms`);
    this.rescanTimer = setTimeout(() => {
      this.rescanTimer = undefined;
      this.seq.clear();
      this.scan(false);
    }, RESCAN_AFTER_LOSS_MS);
  }
}
