/**
 * The check scheduler: main thread, pure logic around an injected `run` (a pool in the
 * daemon, a recording fake in unit tests), clock and timer.
 *
 * Per real server ("target"), every checker runs on its own timer, as in keepalived:
 * - the first attempt waits a random time in [0, warmup) (warmup defaults to delay_loop),
 *   which spreads the checks of many servers over time (keepalived register_checkers_thread);
 * - after a pass, the next attempt comes delay_loop later;
 * - a checker that is up and fails is retried `retry` times, delay_before_retry apart, and
 *   only goes down when the last retry fails; a checker already down is not retried
 *   (keepalived tcp_epilog / dns_final / http epilog);
 * - a checker with `alpha` starts down, one without starts up;
 * - delays count from the end of the previous attempt, and each is stretched by at most
 *   1/20 of itself (never more than 250 ms) so that it ends on a shared grid: see `slackMs`.
 * A real server is up only when all its checkers are up (one with no checker is up). Only
 * transitions of the real server are reported, never samples.
 *
 * At most `maxConcurrent` attempts are in flight; the rest wait in a FIFO, which bounds the
 * sockets and child processes the pools hold at any time.
 */
import type { CheckTask } from './task.ts';
import type { AttemptResult } from './result.ts';

export interface CheckerSpec {
  readonly task: CheckTask;
  /** ms between attempts */
  readonly delayLoopMs: number;
  /** retries after a failure before going down */
  readonly retry: number;
  /** ms */
  readonly delayBeforeRetryMs: number;
  /** ms: first attempt at a random time in [0, warmupMs); default delayLoopMs */
  readonly warmupMs?: number;
  /** start down */
  readonly alpha: boolean;
}

export interface CheckTarget {
  /** the real server's identity, chosen by the caller (see targets.ts realServerKey) */
  readonly key: string;
  readonly checkers: readonly CheckerSpec[];
}

/** A change of a real server: up/down, or (misc_dynamic) its weight. */
export interface TransitionEvent {
  readonly key: string;
  readonly up: boolean;
  readonly change: 'up' | 'down' | 'weight';
  /** 'ok' going up; the failing checker's reason going down; 'reload' when a reload changed it */
  readonly reason: string;
  readonly detail?: string;
  /** misc_dynamic weight; absent: the configured weight applies */
  readonly weight?: number;
  /** index of the checker that caused it, in the target's checkers */
  readonly checker?: number;
}

export interface CheckerStatus {
  readonly kind: CheckTask['kind'];
  readonly up: boolean;
  readonly hasRun: boolean;
  readonly retryIt: number;
  readonly attempts: number;
  readonly failures: number;
  readonly lastResult?: AttemptResult;
  /** `now()` at the end of the last attempt */
  readonly lastAt?: number;
}

export interface TargetStatus {
  readonly key: string;
  readonly up: boolean;
  readonly weight?: number;
  readonly lastResult?: AttemptResult;
  readonly checkers: readonly CheckerStatus[];
}

export type SetTimer = (fn: () => void, ms: number) => () => void;

export interface CheckSchedulerOptions {
  /** runs one attempt; may reject (a dead worker): that counts as a failed attempt */
  run: (task: CheckTask) => Promise<AttemptResult>;
  /** ms clock for status timestamps; default Date.now */
  now?: () => number;
  /** default setTimeout/clearTimeout */
  setTimer?: SetTimer;
  /** [0, 1); default Math.random */
  random?: () => number;
  /** attempts in flight at most; default 256 */
  maxConcurrent?: number;
  /** ms: the most a delay is stretched to share a wake-up (`slackMs`); default MAX_SLACK_MS, 0: none */
  maxSlackMs?: number;
}

export interface SetTargetsResult {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** unchanged or changed in place: their unchanged checkers kept their state */
  readonly kept: readonly string[];
}

interface CheckerState {
  readonly id: string;
  /** replaced on reload when only the timing changed */
  spec: CheckerSpec;
  /** `now()` when the armed timer fires */
  dueAt: number | undefined;
  readonly target: TargetState;
  up: boolean;
  hasRun: boolean;
  retryIt: number;
  attempts: number;
  failures: number;
  /** misc_dynamic weight reported by the last pass; undefined: configured */
  weight: number | undefined;
  lastResult: AttemptResult | undefined;
  lastAt: number | undefined;
  cancel: (() => void) | undefined;
  queued: boolean;
  running: boolean;
  removed: boolean;
}

interface TargetState {
  readonly key: string;
  checkers: CheckerState[];
  up: boolean;
  weight: number | undefined;
}

type Listener = (ev: TransitionEvent) => void;

/** The checkers due at one instant, and the one timer that queues them. */
interface Slot {
  readonly members: Set<CheckerState>;
  readonly cancel: () => void;
}

/** ms: floor of every delay, so that a zero delay_loop cannot spin a failing check */
export const MIN_DELAY_MS = 10;

/** ms: the most an attempt is started late so that it shares a wake-up with others */
export const MAX_SLACK_MS = 250;
/** an attempt is started late by at most this fraction of its delay */
const SLACK_FRACTION = 1 / 20;

/**
 * ms: the grid that a delay of `nominalMs` is rounded up to (timer slack, as the kernel's
 * timerslack): 1/20 of the delay, at most `maxMs`; under 1 ms, none (0).
 *
 * Each attempt wakes the checker thread several times (the task, connect, response, close)
 * and the main thread twice (timer, result). Woken for one attempt at a time, a thread pays
 * every wake-up alone: with 17 HTTP_GET attempts a second, one at a time cost the checker
 * thread 0.8 s of CPU a minute; in groups of four, 0.36 s (a lab pool of one checker thread,
 * interpreted, on the 2-core host). The attempts of servers whose delays end in the same
 * grid slot start in one wake-up of the main thread, reach the checker thread in one, and
 * their sockets mostly answer together. delay_loop 6 s: attempts at most 250 ms late.
 */
export function slackMs(nominalMs: number, maxMs: number = MAX_SLACK_MS): number {
  return Math.floor(Math.min(maxMs, nominalMs * SLACK_FRACTION));
}

/** The first multiple of `gridMs` at or after `t` (`t` itself when the grid is under 1 ms). */
export function alignUp(t: number, gridMs: number): number {
  return gridMs >= 1 ? Math.ceil(t / gridMs) * gridMs : t;
}

const defaultSetTimer: SetTimer = (fn, ms) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

/**
 * Identity of a checker within its target, for diffing on reload: what it checks and how
 * (the task), not its timing — as keepalived migrates a checker's state when its connection
 * options compare equal. `alpha` is part of it: it only matters for a fresh checker.
 */
function specId(spec: CheckerSpec): string {
  return JSON.stringify(spec.task);
}

export class CheckScheduler {
  private readonly run: (task: CheckTask) => Promise<AttemptResult>;
  private readonly now: () => number;
  private readonly setTimer: SetTimer;
  private readonly random: () => number;
  private readonly maxConcurrent: number;
  private readonly maxSlackMs: number;
  /** checkers due at the same instant share one timer (see `slackMs`): due time → slot */
  private readonly slots = new Map<number, Slot>();
  private readonly targets = new Map<string, TargetState>();
  private readonly queue: CheckerState[] = [];
  private queueHead = 0;
  private inFlight = 0;
  private stopped = false;
  private readonly listeners: Listener[] = [];
  private counters = { attempts: 0, failures: 0, runErrors: 0 };

  constructor(opts: CheckSchedulerOptions) {
    this.run = opts.run;
    this.now = opts.now ?? Date.now;
    this.setTimer = opts.setTimer ?? defaultSetTimer;
    this.random = opts.random ?? Math.random;
    this.maxConcurrent = Math.max(1, opts.maxConcurrent ?? 256);
    this.maxSlackMs = Math.max(0, opts.maxSlackMs ?? MAX_SLACK_MS);
  }

  on(event: 'transition', fn: Listener): this {
    if (event === 'transition') this.listeners.push(fn);
    return this;
  }

  /**
   * Replaces the set of targets. A target whose key is kept keeps the state of every checker
   * whose task is unchanged; if only its timing changed (delay_loop, retry, …) the new timing
   * applies from now on, and a pending attempt is brought forward to the new delay_loop if that
   * is sooner. Changed or new checkers start fresh (alpha, warmup).
   * A kept target whose up state changes because of the reload (a failing checker removed, an
   * alpha checker added) reports a transition with reason 'reload'. New targets report
   * nothing: their initial state is in `states()` (up unless a checker has alpha).
   */
  setTargets(targets: readonly CheckTarget[]): SetTargetsResult {
    if (this.stopped) return { added: [], removed: [], kept: [] };
    const added: string[] = [];
    const kept: string[] = [];
    const removed: string[] = [];
    const wanted = new Map<string, CheckTarget>();
    for (const t of targets) wanted.set(t.key, t);

    for (const [key, ts] of this.targets) {
      if (!wanted.has(key)) {
        for (const c of ts.checkers) this.retire(c);
        this.targets.delete(key);
        removed.push(key);
      }
    }

    for (const t of wanted.values()) {
      const ts = this.targets.get(t.key);
      if (ts === undefined) {
        const fresh: TargetState = { key: t.key, checkers: [], up: true, weight: undefined };
        fresh.checkers = t.checkers.map((spec) => this.newChecker(fresh, spec));
        fresh.up = fresh.checkers.every((c) => c.up);
        this.targets.set(t.key, fresh);
        for (const c of fresh.checkers) this.schedule(c, this.random() * (c.spec.warmupMs ?? c.spec.delayLoopMs), c.spec.delayLoopMs);
        added.push(t.key);
        continue;
      }
      kept.push(t.key);
      // Match checkers by spec; duplicates pair up in order.
      const pool = new Map<string, CheckerState[]>();
      for (const c of ts.checkers) {
        const list = pool.get(c.id);
        if (list) list.push(c);
        else pool.set(c.id, [c]);
      }
      const next: CheckerState[] = [];
      const started: CheckerState[] = [];
      for (const spec of t.checkers) {
        const old = pool.get(specId(spec))?.shift();
        if (old) {
          if (JSON.stringify(old.spec) !== JSON.stringify(spec)) this.retime(old, spec);
          next.push(old);
        } else {
          const c = this.newChecker(ts, spec);
          next.push(c);
          started.push(c);
        }
      }
      for (const list of pool.values()) for (const c of list) this.retire(c);
      ts.checkers = next;
      for (const c of started) this.schedule(c, this.random() * (c.spec.warmupMs ?? c.spec.delayLoopMs), c.spec.delayLoopMs);
      this.reevaluate(ts, { reason: 'reload' });
    }
    return { added, removed, kept };
  }

  states(): TargetStatus[] {
    const out: TargetStatus[] = [];
    for (const ts of this.targets.values()) {
      let last: CheckerState | undefined;
      const checkers: CheckerStatus[] = ts.checkers.map((c) => {
        if (c.lastAt !== undefined && (last?.lastAt === undefined || c.lastAt >= last.lastAt)) last = c;
        const s: { -readonly [K in keyof CheckerStatus]: CheckerStatus[K] } = {
          kind: c.spec.task.kind,
          up: c.up,
          hasRun: c.hasRun,
          retryIt: c.retryIt,
          attempts: c.attempts,
          failures: c.failures,
        };
        if (c.lastResult !== undefined) s.lastResult = c.lastResult;
        if (c.lastAt !== undefined) s.lastAt = c.lastAt;
        return s;
      });
      const st: { -readonly [K in keyof TargetStatus]: TargetStatus[K] } = { key: ts.key, up: ts.up, checkers };
      if (ts.weight !== undefined) st.weight = ts.weight;
      if (last?.lastResult !== undefined) st.lastResult = last.lastResult;
      out.push(st);
    }
    return out;
  }

  /** Totals since start, and the current load. */
  stats(): { targets: number; checkers: number; inFlight: number; queued: number; attempts: number; failures: number; runErrors: number } {
    let checkers = 0;
    for (const ts of this.targets.values()) checkers += ts.checkers.length;
    return {
      targets: this.targets.size,
      checkers,
      inFlight: this.inFlight,
      queued: this.queue.length - this.queueHead,
      ...this.counters,
    };
  }

  /** Cancels every timer and forgets every target; attempts in flight finish unheard. */
  stop(): void {
    this.stopped = true;
    for (const ts of this.targets.values()) for (const c of ts.checkers) this.retire(c);
    this.targets.clear();
    this.queue.length = 0;
    this.queueHead = 0;
  }

  private newChecker(target: TargetState, spec: CheckerSpec): CheckerState {
    return {
      id: specId(spec),
      spec,
      dueAt: undefined,
      target,
      up: !spec.alpha,
      hasRun: false,
      retryIt: 0,
      attempts: 0,
      failures: 0,
      weight: undefined,
      lastResult: undefined,
      lastAt: undefined,
      cancel: undefined,
      queued: false,
      running: false,
      removed: false,
    };
  }

  private retire(c: CheckerState): void {
    c.removed = true;
    c.cancel?.();
    c.cancel = undefined;
  }

  /**
   * Arms `c` to be queued `delayMs` from now, rounded up to the grid of `nominalMs`
   * (`slackMs`). Checkers due at the same instant share one timer.
   */
  private schedule(c: CheckerState, delayMs: number, nominalMs: number): void {
    if (c.removed || this.stopped) return;
    c.cancel?.();
    const now = this.now();
    const due = alignUp(now + Math.max(0, delayMs), slackMs(nominalMs, this.maxSlackMs));
    c.dueAt = due;
    const slot = this.slots.get(due) ?? this.openSlot(due, due - now);
    slot.members.add(c);
    c.cancel = () => {
      slot.members.delete(c);
      if (slot.members.size === 0 && this.slots.get(due) === slot) {
        slot.cancel();
        this.slots.delete(due);
      }
    };
  }

  /** A slot for the checkers due at `due`, `ms` from now: its timer queues them all. */
  private openSlot(due: number, ms: number): Slot {
    const members = new Set<CheckerState>();
    const slot: Slot = {
      members,
      cancel: this.setTimer(() => {
        this.slots.delete(due);
        for (const m of members) {
          m.cancel = undefined;
          m.dueAt = undefined;
          this.enqueue(m);
        }
      }, ms),
    };
    this.slots.set(due, slot);
    return slot;
  }

  private retime(c: CheckerState, spec: CheckerSpec): void {
    c.spec = spec;
    if (c.retryIt > spec.retry) c.retryIt = spec.retry;
    if (c.cancel !== undefined && c.dueAt !== undefined) {
      const remaining = c.dueAt - this.now();
      const soonest = Math.max(MIN_DELAY_MS, spec.delayLoopMs);
      if (remaining > soonest) this.schedule(c, soonest, spec.delayLoopMs);
    }
  }

  private enqueue(c: CheckerState): void {
    if (c.removed || c.queued || c.running) return;
    c.queued = true;
    this.queue.push(c);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.maxConcurrent && this.queueHead < this.queue.length) {
      const c = this.queue[this.queueHead++]!;
      c.queued = false;
      if (c.removed) continue;
      this.start(c);
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private start(c: CheckerState): void {
    c.running = true;
    this.inFlight++;
    let p: Promise<AttemptResult>;
    try {
      p = this.run(c.spec.task);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (r) => this.finish(c, r),
      (err: unknown) => {
        this.counters.runErrors++;
        this.finish(c, { ok: false, reason: 'run-error', detail: err instanceof Error ? err.message : String(err), durationMs: 0 });
      },
    );
  }

  private finish(c: CheckerState, r: AttemptResult): void {
    c.running = false;
    this.inFlight--;
    if (!c.removed && !this.stopped) this.onResult(c, r);
    this.pump();
  }

  /** keepalived's epilog: retries, then down; transitions of the checker. */
  private onResult(c: CheckerState, r: AttemptResult): void {
    const s = c.spec;
    c.attempts++;
    this.counters.attempts++;
    c.lastResult = r;
    c.lastAt = this.now();
    let delay = s.delayLoopMs;
    if (r.ok) {
      c.retryIt = 0;
      c.up = true;
      if (s.task.kind === 'misc' && s.task.dynamic) c.weight = r.weight;
    } else {
      c.failures++;
      this.counters.failures++;
      if (c.up) {
        if (c.retryIt < s.retry) {
          c.retryIt++;
          delay = s.delayBeforeRetryMs;
        } else {
          c.retryIt = 0;
          c.up = false;
        }
      }
    }
    c.hasRun = true;
    this.schedule(c, Math.max(MIN_DELAY_MS, delay), delay);
    const index = c.target.checkers.indexOf(c);
    this.reevaluate(c.target, {
      reason: r.ok ? 'ok' : (r.reason ?? 'failed'),
      ...(r.detail !== undefined ? { detail: r.detail } : {}),
      ...(index >= 0 ? { checker: index } : {}),
    });
  }

  private reevaluate(ts: TargetState, cause: { reason: string; detail?: string; checker?: number }): void {
    const up = ts.checkers.every((c) => c.up);
    let weight: number | undefined;
    for (const c of ts.checkers) if (c.weight !== undefined) weight = c.weight;
    const upChanged = up !== ts.up;
    const weightChanged = weight !== ts.weight;
    ts.up = up;
    ts.weight = weight;
    if (!upChanged && !weightChanged) return;
    const ev: { -readonly [K in keyof TransitionEvent]: TransitionEvent[K] } = {
      key: ts.key,
      up,
      change: upChanged ? (up ? 'up' : 'down') : 'weight',
      reason: cause.reason,
    };
    if (cause.detail !== undefined && !up) ev.detail = cause.detail;
    if (weight !== undefined) ev.weight = weight;
    if (cause.checker !== undefined) ev.checker = cause.checker;
    for (const fn of this.listeners) {
      try {
        fn(ev);
      } catch {
        // a listener's bug must not stop the scheduler
      }
    }
  }
}
