import test from 'ava';
import { alignUp, CheckScheduler, MAX_SLACK_MS, slackMs, type CheckerSpec, type TransitionEvent } from '../../../src/check/scheduler.ts';
import type { AttemptResult, CheckTask } from '../../../src/check/task.ts';
import { FakeClock, settle } from './fake-clock.ts';

/** A TCP task whose port names the scripted behaviour in the fake runner. */
function tcp(port: number, connectTimeoutMs = 1000): CheckTask {
  return { kind: 'tcp', address: '127.0.0.1', port, connectTimeoutMs };
}

function spec(port: number, over: Partial<CheckerSpec> = {}): CheckerSpec {
  return { task: tcp(port), delayLoopMs: 5000, retry: 2, delayBeforeRetryMs: 1000, warmupMs: 0, alpha: false, ...over };
}

/**
 * Recording runner: results come from `script[port]`, a function of the attempt number.
 * Exact timing unless `maxSlackMs` is given: the slack has tests of its own (end of file).
 */
function harness(opts: { maxConcurrent?: number; random?: () => number; maxSlackMs?: number } = {}) {
  const clock = new FakeClock();
  const calls: Array<{ at: number; port: number }> = [];
  const outcome = new Map<number, (n: number) => boolean>();
  const counts = new Map<number, number>();
  const run = async (task: CheckTask): Promise<AttemptResult> => {
    const port = 'port' in task ? task.port : -1;
    calls.push({ at: clock.now(), port });
    const n = (counts.get(port) ?? 0) + 1;
    counts.set(port, n);
    const ok = outcome.get(port)?.(n) ?? true;
    return ok ? { ok: true, durationMs: 1 } : { ok: false, reason: 'connect-refused', durationMs: 1 };
  };
  const sched = new CheckScheduler({
    run,
    now: clock.now,
    setTimer: clock.setTimer,
    random: opts.random ?? (() => 0),
    maxSlackMs: opts.maxSlackMs ?? 0,
    ...(opts.maxConcurrent !== undefined ? { maxConcurrent: opts.maxConcurrent } : {}),
  });
  const events: Array<TransitionEvent & { at: number }> = [];
  sched.on('transition', (ev) => events.push({ ...ev, at: clock.now() }));
  return { clock, calls, outcome, sched, events };
}

test('a failing checker is retried `retry` times, delay_before_retry apart, then reported down once', async (t) => {
  const h = harness();
  h.outcome.set(1, () => false);
  h.sched.setTargets([{ key: 'rs1', checkers: [spec(1)] }]);
  t.true(h.sched.states()[0]!.up, 'starts up without alpha');
  await h.clock.advance(2500);
  t.deepEqual(
    h.calls.map((c) => c.at),
    [0, 1000, 2000],
  );
  t.is(h.events.length, 1);
  t.like(h.events[0], { key: 'rs1', up: false, change: 'down', reason: 'connect-refused', at: 2000, checker: 0 });
  // Down: no more retries, the next attempt is delay_loop after the last one.
  await h.clock.advance(10_000);
  t.deepEqual(
    h.calls.map((c) => c.at),
    [0, 1000, 2000, 7000, 12000],
  );
  t.is(h.events.length, 1, 'no repeated reports while down');
});

test('a pass resets the retry count, and a down server comes back on one pass', async (t) => {
  const h = harness();
  // fail, pass, fail, pass …: never `retry+1` failures in a row
  h.outcome.set(1, (n) => n % 2 === 0);
  h.sched.setTargets([{ key: 'rs1', checkers: [spec(1, { retry: 1 })] }]);
  await h.clock.advance(30_000);
  t.is(h.events.length, 0);
  h.outcome.set(1, (n) => n > 20);
  await h.clock.advance(60_000);
  t.deepEqual(
    h.events.map((e) => e.change),
    ['down', 'up'],
  );
  t.like(h.events[1], { up: true, reason: 'ok' });
});

test('alpha: starts down, a failure is not retried, the first pass reports up', async (t) => {
  const h = harness();
  h.outcome.set(1, (n) => n >= 3);
  h.sched.setTargets([{ key: 'rs1', checkers: [spec(1, { alpha: true })] }]);
  t.false(h.sched.states()[0]!.up);
  await h.clock.advance(11_000);
  t.deepEqual(
    h.calls.map((c) => c.at),
    [0, 5000, 10000],
  );
  t.is(h.events.length, 1);
  t.like(h.events[0], { up: true, change: 'up', at: 10000 });
});

test('a real server is up only when all its checkers pass', async (t) => {
  const h = harness();
  h.outcome.set(1, () => true);
  h.outcome.set(2, (n) => n >= 4);
  h.sched.setTargets([{ key: 'rs', checkers: [spec(1, { alpha: true }), spec(2, { alpha: true, retry: 0 })] }]);
  await h.clock.advance(6000);
  t.is(h.events.length, 0, 'checker 1 passing alone does not bring it up');
  t.false(h.sched.states()[0]!.up);
  await h.clock.advance(10_000);
  t.is(h.events.length, 1);
  t.like(h.events[0], { up: true, checker: 1 });
  h.outcome.set(1, () => false);
  await h.clock.advance(20_000);
  t.like(h.events[1], { up: false, checker: 0 });
});

test('warmup spreads first attempts: random × warmup, default delay_loop', async (t) => {
  const h = harness({ random: () => 0.5 });
  h.sched.setTargets([
    { key: 'a', checkers: [spec(1, { warmupMs: 10_000 })] },
    { key: 'b', checkers: [{ task: tcp(2), delayLoopMs: 3000, retry: 0, delayBeforeRetryMs: 0, alpha: false }] },
  ]);
  await h.clock.advance(5000);
  t.deepEqual(h.calls, [
    { at: 1500, port: 2 },
    { at: 4500, port: 2 },
    { at: 5000, port: 1 },
  ]);
});

test('at most maxConcurrent attempts are in flight; the rest queue', async (t) => {
  const clock = new FakeClock();
  let inFlight = 0;
  let peak = 0;
  const waiting: Array<() => void> = [];
  const sched = new CheckScheduler({
    now: clock.now,
    setTimer: clock.setTimer,
    random: () => 0,
    maxConcurrent: 3,
    run: () =>
      new Promise<AttemptResult>((resolve) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        waiting.push(() => {
          inFlight--;
          resolve({ ok: true, durationMs: 1 });
        });
      }),
  });
  sched.setTargets(Array.from({ length: 10 }, (_, i) => ({ key: `rs${i}`, checkers: [spec(i + 1)] })));
  await clock.advance(0);
  t.is(inFlight, 3);
  t.is(sched.stats().queued, 7);
  let done = 0;
  while (done < 10) {
    const next = waiting.shift();
    if (!next) break;
    next();
    done++;
    await settle();
  }
  t.is(done, 10);
  t.is(peak, 3);
  t.is(sched.stats().attempts, 10);
  sched.stop();
});

test('setTargets keeps unchanged checkers, restarts changed ones, drops removed targets', async (t) => {
  const h = harness();
  h.outcome.set(1, () => false);
  h.outcome.set(2, () => true);
  h.sched.setTargets([
    { key: 'a', checkers: [spec(1, { retry: 0 })] },
    { key: 'b', checkers: [spec(2)] },
    { key: 'c', checkers: [spec(3)] },
  ]);
  await h.clock.advance(100);
  t.like(h.events[0], { key: 'a', up: false });
  const callsBefore = h.calls.length;
  const r = h.sched.setTargets([
    { key: 'a', checkers: [spec(1, { retry: 0 })] },
    { key: 'b', checkers: [spec(2, { task: tcp(2, 2000) })] },
  ]);
  t.deepEqual(r, { added: [], removed: ['c'], kept: ['a', 'b'] });
  t.is(h.events.length, 1, 'reload of unchanged targets reports nothing');
  const a = h.sched.states().find((s) => s.key === 'a')!;
  t.false(a.up, 'unchanged failing target stays down');
  t.is(a.checkers[0]!.attempts, 1, 'and keeps its history');
  await h.clock.advance(0);
  // b's changed checker started afresh at once (warmup 0); a kept its timer (5000)
  t.deepEqual(h.calls.slice(callsBefore).map((c) => c.port), [2]);
  await h.clock.advance(6000);
  t.false(h.calls.some((c) => c.port === 3 && c.at > 100), 'removed target is never run again');
  // Removing the failing checker brings `a` up at once, reason reload.
  h.sched.setTargets([
    { key: 'a', checkers: [] },
    { key: 'b', checkers: [spec(2, { task: tcp(2, 2000) })] },
  ]);
  t.like(h.events.at(-1), { key: 'a', up: true, reason: 'reload' });
});

test('misc_dynamic weight changes are reported; exit 0 returns to the configured weight', async (t) => {
  const clock = new FakeClock();
  const weights: Array<number | undefined> = [10, 10, 20, undefined];
  let i = 0;
  const sched = new CheckScheduler({
    now: clock.now,
    setTimer: clock.setTimer,
    random: () => 0,
    run: async () => {
      const w = weights[Math.min(i++, weights.length - 1)];
      return w === undefined ? { ok: true, durationMs: 1 } : { ok: true, durationMs: 1, weight: w };
    },
  });
  const events: TransitionEvent[] = [];
  sched.on('transition', (e) => events.push(e));
  const task: CheckTask = { kind: 'misc', argv: ['x'], timeoutMs: 1000, dynamic: true };
  sched.setTargets([{ key: 'rs', checkers: [{ task, delayLoopMs: 1000, retry: 0, delayBeforeRetryMs: 0, alpha: false }] }]);
  await clock.advance(3500);
  t.deepEqual(
    events.map((e) => [e.change, e.weight]),
    [
      ['weight', 10],
      ['weight', 20],
      ['weight', undefined],
    ],
  );
  sched.stop();
});

test('a rejected run counts as a failed attempt and never stops the scheduler', async (t) => {
  const clock = new FakeClock();
  let n = 0;
  const sched = new CheckScheduler({
    now: clock.now,
    setTimer: clock.setTimer,
    random: () => 0,
    run: async () => {
      n++;
      throw new Error('worker died');
    },
  });
  const events: TransitionEvent[] = [];
  sched.on('transition', (e) => events.push(e));
  sched.setTargets([{ key: 'rs', checkers: [spec(1, { retry: 0 })] }]);
  await clock.advance(12_000);
  t.is(n, 3);
  t.like(events[0], { up: false, reason: 'run-error' });
  t.is(sched.stats().runErrors, 3);
  sched.stop();
});

test('stop cancels every timer and ignores attempts in flight', async (t) => {
  const clock = new FakeClock();
  let release: (() => void) | undefined;
  const sched = new CheckScheduler({
    now: clock.now,
    setTimer: clock.setTimer,
    random: () => 0,
    run: () =>
      new Promise<AttemptResult>((resolve) => {
        release = () => resolve({ ok: false, reason: 'x', durationMs: 1 });
      }),
  });
  const events: TransitionEvent[] = [];
  sched.on('transition', (e) => events.push(e));
  sched.setTargets([
    { key: 'a', checkers: [spec(1, { retry: 0 })] },
    { key: 'b', checkers: [spec(2, { warmupMs: 50_000 })] },
  ]);
  await clock.advance(0);
  sched.stop();
  release?.();
  await settle();
  t.is(clock.armed(), 0);
  t.is(events.length, 0);
  t.deepEqual(sched.states(), []);
});

test('reload with only the timing changed keeps the checker state and applies the new delay_loop', async (t) => {
  const h = harness();
  h.outcome.set(1, () => false);
  h.sched.setTargets([{ key: 'a', checkers: [spec(1, { retry: 0, delayLoopMs: 60_000 })] }]);
  await h.clock.advance(10);
  t.like(h.events[0], { key: 'a', up: false });
  // delay_loop 60 s -> 2 s: still down (no false "up" from a fresh non-alpha checker), and
  // the attempt due at 60 s comes at the new delay_loop instead
  h.sched.setTargets([{ key: 'a', checkers: [spec(1, { retry: 0, delayLoopMs: 2000 })] }]);
  t.is(h.events.length, 1);
  t.false(h.sched.states()[0]!.up);
  t.is(h.sched.states()[0]!.checkers[0]!.attempts, 1);
  await h.clock.advance(5000);
  t.deepEqual(
    h.calls.map((c) => c.at),
    [0, 2010, 4010],
  );
  // a different task (another port) is another checker: it starts fresh, up (no alpha),
  // and the target follows it at once
  h.outcome.set(2, () => true);
  h.sched.setTargets([{ key: 'a', checkers: [spec(2, { retry: 0 })] }]);
  t.like(h.events.at(-1), { key: 'a', up: true, reason: 'reload' });
});

test('slack: a delay is rounded up to a grid of 1/20 of itself, at most 250 ms', (t) => {
  t.is(MAX_SLACK_MS, 250);
  t.is(slackMs(6000), 250);
  t.is(slackMs(3000), 150);
  t.is(slackMs(1000), 50);
  t.is(slackMs(10), 0);
  t.is(slackMs(6000, 0), 0, 'maxSlackMs 0: no slack');
  t.is(alignUp(1234, 250), 1250);
  t.is(alignUp(1250, 250), 1250);
  t.is(alignUp(1234.5, 0), 1234.5);
});

test('slack: servers whose delays end in the same slot share one timer, none early, none more than the slack late', async (t) => {
  let seed = 7;
  const random = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  const h = harness({ random, maxSlackMs: MAX_SLACK_MS });
  const targets = Array.from({ length: 100 }, (_, i) => ({ key: `rs${i}`, checkers: [{ task: tcp(1000 + i), delayLoopMs: 6000, retry: 2, delayBeforeRetryMs: 1000, alpha: false }] }));
  // the warmup of each server, drawn in setTargets order: the same sequence again
  seed = 7;
  const warmups = targets.map(() => random() * 6000);
  seed = 7;
  h.sched.setTargets(targets);
  t.true(h.clock.armed() <= 6000 / 250, `${h.clock.armed()} timers for 100 servers`);
  await h.clock.advance(30_000);
  const byPort = new Map<number, number[]>();
  for (const c of h.calls) byPort.set(c.port, [...(byPort.get(c.port) ?? []), c.at]);
  for (let i = 0; i < 100; i++) {
    const at = byPort.get(1000 + i)!;
    t.true(at[0]! >= warmups[i]! && at[0]! < warmups[i]! + 250, `first attempt of rs${i} at ${at[0]} for a warmup of ${warmups[i]}`);
    for (let k = 1; k < at.length; k++) {
      const gap = at[k]! - at[k - 1]!;
      t.true(gap >= 6000 && gap < 6250, `rs${i}: ${gap} ms between attempts`);
    }
  }
  const instants = new Set(h.calls.map((c) => c.at));
  t.true(instants.size <= h.calls.length / 3, `${h.calls.length} attempts at ${instants.size} instants`);
  h.sched.stop();
  t.is(h.clock.armed(), 0, 'stop cancels the shared timers');
});

test('slack: a checker retired from a shared slot leaves the others armed', async (t) => {
  // first attempts at 0.5 × warmup: 100 and 200 ms, both in the slot at 250
  const h = harness({ random: () => 0.5, maxSlackMs: MAX_SLACK_MS });
  h.sched.setTargets([
    { key: 'a', checkers: [spec(1, { delayLoopMs: 6000, warmupMs: 200 })] },
    { key: 'b', checkers: [spec(2, { delayLoopMs: 6000, warmupMs: 400 })] },
  ]);
  t.is(h.clock.armed(), 1, 'both wait for the slot at 250');
  h.sched.setTargets([{ key: 'b', checkers: [spec(2, { delayLoopMs: 6000, warmupMs: 400 })] }]);
  t.is(h.clock.armed(), 1);
  await h.clock.advance(300);
  t.deepEqual(h.calls, [{ at: 250, port: 2 }]);
  h.sched.setTargets([]);
  t.is(h.clock.armed(), 0, 'the last member gone, the slot timer is cancelled');
});
