/**
 * vrrp_script tracking: runs each script every `interval` (through an injected `run`, the
 * spawner in the daemon: posix_spawn) and turns exit statuses into ok/failed with fall/rise
 * hysteresis, reporting transitions only.
 *
 * The counter follows keepalived (vrrp_scheduler.c vrrp_script_child_thread): `result`
 * lives in [0, rise+fall-1] and the script is ok when result ≥ rise.
 * - At start the state is `init` with result = rise−1: the first run decides at once
 *   (one pass → ok, one failure → failed). With `init_fail` it starts `failed`, result 0,
 *   and needs `rise` passes.
 * - A pass below rise−1 counts up; the pass that reaches rise reports ok; result jumps to
 *   rise+fall−1.
 * - A failure above rise counts down; the failure at rise (or while init) reports failed;
 *   result drops to 0.
 * So an ok script goes down after `fall` consecutive failures and a failed one comes back
 * after `rise` consecutive passes. Exit 0 passes; any other exit, a signal, a timeout or
 * a script that cannot start fails.
 *
 * A run still going when the next interval comes is not doubled: that tick is skipped
 * (keepalived: "already running ... skipping run").
 */
import type { ScriptTask } from './task.ts';
import type { ScriptResult } from './script-runner.ts';
import { MIN_DELAY_MS, type SetTimer } from './scheduler.ts';

export type ScriptState = 'init' | 'ok' | 'failed';

export interface ScriptSpec {
  readonly name: string;
  readonly task: ScriptTask;
  /** ms between the starts of two runs */
  readonly intervalMs: number;
  readonly fall: number;
  readonly rise: number;
  readonly initFail: boolean;
}

export interface ScriptTransition {
  readonly name: string;
  readonly from: ScriptState;
  readonly to: 'ok' | 'failed';
  /** 'exit 0', 'exit 3', 'timeout', 'signal SIGSEGV', 'spawn ENOENT', 'run-error' */
  readonly reason: string;
}

export interface ScriptStatus {
  readonly name: string;
  readonly state: ScriptState;
  /** keepalived's counter, 0..rise+fall−1 */
  readonly result: number;
  readonly runs: number;
  readonly skipped: number;
  readonly lastReason?: string;
  readonly lastAt?: number;
  readonly lastDurationMs?: number;
}

export interface ScriptTrackerOptions {
  run: (task: ScriptTask) => Promise<ScriptResult>;
  now?: () => number;
  setTimer?: SetTimer;
  random?: () => number;
  /** ms: the first runs are spread over [0, min(interval, this)); default 1000 */
  maxFirstDelayMs?: number;
}

interface Tracked {
  /** the task's identity: a reload that changes only timing or fall/rise keeps the state */
  readonly id: string;
  spec: ScriptSpec;
  state: ScriptState;
  result: number;
  runs: number;
  skipped: number;
  running: boolean;
  removed: boolean;
  cancel: (() => void) | undefined;
  lastReason: string | undefined;
  lastAt: number | undefined;
  lastDurationMs: number | undefined;
}

type Listener = (ev: ScriptTransition) => void;

const defaultSetTimer: SetTimer = (fn, ms) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

/** Exit status of a run, judged: ok, and a short reason label. */
export function judgeScript(r: ScriptResult): { ok: boolean; reason: string } {
  if (r.error !== undefined) return { ok: false, reason: `spawn ${r.error}` };
  if (r.timedOut) return { ok: false, reason: 'timeout' };
  if (r.exitCode === null) return { ok: false, reason: `signal ${r.signal ?? '?'}` };
  return { ok: r.exitCode === 0, reason: `exit ${r.exitCode}` };
}

/**
 * One step of keepalived's counter. Returns the new counter and the transition to report,
 * if any. Pure; exported for tests.
 */
export function stepScript(
  s: { state: ScriptState; result: number },
  ok: boolean,
  rise: number,
  fall: number,
): { state: ScriptState; result: number; report?: 'ok' | 'failed' } {
  const max = rise + fall - 1;
  const init = s.state === 'init';
  if (ok) {
    if (s.result < rise - 1) return { state: init ? 'failed' : s.state, result: s.result + 1 };
    if (s.result !== max) {
      const reports = s.result < rise || init;
      return reports ? { state: 'ok', result: max, report: 'ok' } : { state: 'ok', result: max };
    }
    return { state: 'ok', result: max };
  }
  if (s.result > rise) return { state: s.state === 'init' ? 'ok' : s.state, result: s.result - 1 };
  const reports = s.result === rise || init;
  return reports ? { state: 'failed', result: 0, report: 'failed' } : { state: 'failed', result: 0 };
}

export class ScriptTracker {
  private readonly run: (task: ScriptTask) => Promise<ScriptResult>;
  private readonly now: () => number;
  private readonly setTimer: SetTimer;
  private readonly random: () => number;
  private readonly maxFirstDelayMs: number;
  private readonly scripts = new Map<string, Tracked>();
  private readonly listeners: Listener[] = [];
  private stopped = false;

  constructor(opts: ScriptTrackerOptions) {
    this.run = opts.run;
    this.now = opts.now ?? Date.now;
    this.setTimer = opts.setTimer ?? defaultSetTimer;
    this.random = opts.random ?? Math.random;
    this.maxFirstDelayMs = opts.maxFirstDelayMs ?? 1000;
  }

  on(event: 'transition', fn: Listener): this {
    if (event === 'transition') this.listeners.push(fn);
    return this;
  }

  /**
   * Diff by name: a script whose command (task) is unchanged keeps its state and timer, with
   * new interval/fall/rise/init_fail applied in place (the counter clamped to the new range,
   * ok/failed kept); a changed command starts over.
   */
  setScripts(specs: readonly ScriptSpec[]): { added: string[]; removed: string[]; kept: string[] } {
    const added: string[] = [];
    const removed: string[] = [];
    const kept: string[] = [];
    if (this.stopped) return { added, removed, kept };
    const wanted = new Map(specs.map((s) => [s.name, s]));
    for (const [name, t] of this.scripts) {
      const w = wanted.get(name);
      if (w === undefined || JSON.stringify(w.task) !== t.id) {
        this.retire(t);
        this.scripts.delete(name);
        if (w === undefined) removed.push(name);
      }
    }
    for (const spec of wanted.values()) {
      const existing = this.scripts.get(spec.name);
      if (existing !== undefined) {
        if (JSON.stringify(existing.spec) !== JSON.stringify(spec)) this.retune(existing, spec);
        kept.push(spec.name);
        continue;
      }
      const rise = Math.max(1, spec.rise);
      const t: Tracked = {
        id: JSON.stringify(spec.task),
        spec,
        state: spec.initFail ? 'failed' : 'init',
        result: spec.initFail ? 0 : rise - 1,
        runs: 0,
        skipped: 0,
        running: false,
        removed: false,
        cancel: undefined,
        lastReason: undefined,
        lastAt: undefined,
        lastDurationMs: undefined,
      };
      this.scripts.set(spec.name, t);
      added.push(spec.name);
      this.schedule(t, this.random() * Math.min(spec.intervalMs, this.maxFirstDelayMs));
    }
    return { added, removed, kept };
  }

  states(): ScriptStatus[] {
    return [...this.scripts.values()].map((t) => {
      const s: { -readonly [K in keyof ScriptStatus]: ScriptStatus[K] } = {
        name: t.spec.name,
        state: t.state,
        result: t.result,
        runs: t.runs,
        skipped: t.skipped,
      };
      if (t.lastReason !== undefined) s.lastReason = t.lastReason;
      if (t.lastAt !== undefined) s.lastAt = t.lastAt;
      if (t.lastDurationMs !== undefined) s.lastDurationMs = t.lastDurationMs;
      return s;
    });
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.scripts.values()) this.retire(t);
    this.scripts.clear();
  }

  private retune(t: Tracked, spec: ScriptSpec): void {
    const rise = Math.max(1, spec.rise);
    const max = rise + Math.max(1, spec.fall) - 1;
    t.spec = spec;
    if (t.state === 'ok') t.result = max;
    else if (t.state === 'failed') t.result = Math.min(t.result, rise - 1);
    else t.result = rise - 1;
    if (t.cancel !== undefined) {
      // the next run comes at the new interval
      t.cancel();
      t.cancel = undefined;
      this.schedule(t, Math.max(MIN_DELAY_MS, spec.intervalMs));
    }
  }

  private retire(t: Tracked): void {
    t.removed = true;
    t.cancel?.();
    t.cancel = undefined;
  }

  private schedule(t: Tracked, delayMs: number): void {
    if (t.removed || this.stopped) return;
    t.cancel = this.setTimer(() => {
      t.cancel = undefined;
      this.tick(t);
    }, Math.max(0, delayMs));
  }

  private tick(t: Tracked): void {
    if (t.removed) return;
    this.schedule(t, Math.max(MIN_DELAY_MS, t.spec.intervalMs));
    if (t.running) {
      t.skipped++;
      return;
    }
    t.running = true;
    let p: Promise<ScriptResult>;
    try {
      p = this.run(t.spec.task);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (r) => this.onResult(t, judgeScript(r), r.durationMs),
      () => this.onResult(t, { ok: false, reason: 'run-error' }, undefined),
    );
  }

  private onResult(t: Tracked, j: { ok: boolean; reason: string }, durationMs: number | undefined): void {
    t.running = false;
    if (t.removed || this.stopped) return;
    t.runs++;
    t.lastReason = j.reason;
    t.lastAt = this.now();
    t.lastDurationMs = durationMs;
    const from = t.state;
    const next = stepScript(t, j.ok, Math.max(1, t.spec.rise), Math.max(1, t.spec.fall));
    t.state = next.state;
    t.result = next.result;
    if (next.report === undefined) return;
    const ev: ScriptTransition = { name: t.spec.name, from, to: next.report, reason: j.reason };
    for (const fn of this.listeners) {
      try {
        fn(ev);
      } catch {
        // a listener's bug must not stop tracking
      }
    }
  }
}
