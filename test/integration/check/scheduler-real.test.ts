/**
 * The scheduler with real attempts against real loopback servers: retry timing, socket
 * bounds over thousands of checks, and real piscina pools.
 */
import test from 'ava';
import { Piscina } from 'piscina';
import { CheckScheduler, type CheckerSpec, type TransitionEvent } from '../../../src/check/scheduler.ts';
import { runAttempt } from '../../../src/check/registry.ts';
import type { CheckTask } from '../../../src/check/task.ts';
import { ScriptTracker, type ScriptTransition } from '../../../src/check/vrrp-script.ts';
import { runScript } from '../../../src/check/script-runner.ts';
import { checkerPoolOptions, checkerWorkerFile, poolCheckRunner } from '../../../src/check/pool.ts';
import { SpawnerHost } from '../../../src/check/spawner.ts';
import { httpServer, openFds, rawServer } from './servers.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function until(what: string, pred: () => boolean, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('retry and delay_before_retry: down after retry+1 failures, spaced as configured', async (t) => {
  let status = 200;
  const hits: number[] = [];
  const port = await httpServer(t, (_req, res) => {
    hits.push(performance.now());
    res.statusCode = status;
    res.end();
  });
  const sched = new CheckScheduler({ run: runAttempt });
  t.teardown(() => sched.stop());
  const events: Array<TransitionEvent & { at: number }> = [];
  sched.on('transition', (e) => events.push({ ...e, at: performance.now() }));
  const spec: CheckerSpec = {
    task: { kind: 'http', ssl: false, address: '127.0.0.1', port, connectTimeoutMs: 1000, urls: [{ path: '/', statusCodes: [] }], sni: false, tlsVerify: false },
    delayLoopMs: 400,
    retry: 2,
    delayBeforeRetryMs: 250,
    warmupMs: 0,
    alpha: false,
  };
  sched.setTargets([{ key: 'rs', checkers: [spec] }]);
  await until('first pass', () => hits.length >= 1 && sched.states()[0]!.checkers[0]!.attempts >= 1);
  t.true(sched.states()[0]!.up);
  status = 503;
  const failFrom = hits.length;
  await until('down', () => events.length >= 1);
  t.like(events[0], { key: 'rs', up: false, reason: 'status 503' });
  const failed = hits.slice(failFrom);
  t.is(failed.length, 3, 'the first failure and two retries');
  const gaps = failed.slice(1).map((h, i) => h - failed[i]!);
  // Lower bounds allow for Node timers starting from the loop's cached time, which lags
  // under load (the machine runs several test suites at once).
  for (const g of gaps) t.true(g >= 150 && g < 1500, `retry gap ${g} ms (delay_before_retry 250)`);
  // it comes back after one pass
  status = 200;
  await until('up', () => events.length >= 2);
  t.like(events[1], { up: true, reason: 'ok' });
  const downFor = events[1]!.at - events[0]!.at;
  t.true(downFor >= 250 && downFor < 3000, `next attempt after delay_loop (400), was ${downFor} ms`);
});

// serial: ava runs serial tests before the concurrent ones, so no other test's sockets count
test.serial('thousands of checks keep a bounded number of sockets open, and release them all', async (t) => {
  let served = 0;
  const port = await httpServer(t, (_req, res) => {
    served++;
    res.end('ok');
  });
  const maxConcurrent = 20;
  const sched = new CheckScheduler({ run: runAttempt, maxConcurrent });
  t.teardown(() => sched.stop());
  const before = openFds();
  const n = 3000;
  const targets = Array.from({ length: n }, (_, i) => ({
    key: `rs${i}`,
    checkers: [
      {
        task: (i % 2 === 0
          ? { kind: 'http', ssl: false, address: '127.0.0.1', port, connectTimeoutMs: 2000, urls: [{ path: `/${i}`, statusCodes: [] }], sni: false, tlsVerify: false }
          : { kind: 'tcp', address: '127.0.0.1', port, connectTimeoutMs: 2000 }) as CheckTask,
        // one attempt each within the test: warmup spreads them over 1.5 s
        delayLoopMs: 600_000,
        retry: 0,
        delayBeforeRetryMs: 1000,
        warmupMs: 1500,
        alpha: false,
      },
    ],
  }));
  sched.setTargets(targets);
  let peak = 0;
  let peakInFlight = 0;
  await until(
    'all attempts',
    () => {
      peak = Math.max(peak, openFds() - before);
      peakInFlight = Math.max(peakInFlight, sched.stats().inFlight);
      return sched.stats().attempts >= n;
    },
    60_000,
  );
  const st = sched.stats();
  t.is(st.failures, 0, 'every check passed');
  t.true(served >= n / 2);
  t.true(peakInFlight <= maxConcurrent);
  // each attempt holds one client socket; the server side of it lives in this process too
  t.true(peak <= 2 * maxConcurrent + 16, `peak extra fds ${peak} (bound ${2 * maxConcurrent + 16})`);
  await until('sockets released', () => openFds() - before <= 4, 5000);
  t.pass();
});

test('as the daemon runs them: HTTP checks in the checker pool, MISC_CHECK and vrrp_script through the spawner (posix_spawn)', async (t) => {
  const checkerPool = new Piscina(checkerPoolOptions());
  const spawner = new SpawnerHost();
  t.is(checkerPoolOptions().filename, checkerWorkerFile());
  t.teardown(async () => {
    await checkerPool.destroy();
    await spawner.stop();
  });
  const dir = mkdtempSync(join(tmpdir(), 'vck-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const flag = join(dir, 'exit');
  writeFileSync(flag, '0');
  let status = 200;
  const port = await httpServer(t, (_req, res) => {
    res.statusCode = status;
    res.end();
  });
  const sched = new CheckScheduler({ run: poolCheckRunner(checkerPool, spawner) });
  t.teardown(() => sched.stop());
  const events: TransitionEvent[] = [];
  sched.on('transition', (e) => events.push(e));
  const common = { delayLoopMs: 150, retry: 0, delayBeforeRetryMs: 100, warmupMs: 0 };
  sched.setTargets([
    {
      key: 'web',
      checkers: [
        {
          ...common,
          alpha: true,
          task: { kind: 'http', ssl: false, address: '127.0.0.1', port, connectTimeoutMs: 1000, urls: [{ path: '/', statusCodes: [] }], sni: false, tlsVerify: false },
        },
      ],
    },
    {
      key: 'misc',
      checkers: [{ ...common, alpha: false, task: { kind: 'misc', argv: ['/bin/sh', '-c', `exit $(cat ${flag})`], timeoutMs: 2000, dynamic: true } }],
    },
  ]);
  await until('web up', () => events.some((e) => e.key === 'web' && e.up));
  status = 500;
  await until('web down', () => events.some((e) => e.key === 'web' && !e.up));
  t.like(
    events.find((e) => e.key === 'web' && !e.up),
    { reason: 'status 500' },
  );
  writeFileSync(flag, '12');
  await until('misc weight', () => events.some((e) => e.key === 'misc' && e.change === 'weight'));
  t.like(
    events.find((e) => e.key === 'misc' && e.change === 'weight'),
    { up: true, weight: 10 },
  );
  writeFileSync(flag, '1');
  await until('misc down', () => events.some((e) => e.key === 'misc' && !e.up));
  t.like(
    events.find((e) => e.key === 'misc' && !e.up),
    { reason: 'exit 1' },
  );

  const tracker = new ScriptTracker({ run: (task) => spawner.run(task) });
  t.teardown(() => tracker.stop());
  const sev: ScriptTransition[] = [];
  tracker.on('transition', (e) => sev.push(e));
  tracker.setScripts([
    { name: 'chk', task: { kind: 'script', argv: ['/bin/sh', '-c', `test "$(cat ${flag})" = 0`], timeoutMs: 1000 }, intervalMs: 100, fall: 2, rise: 2, initFail: false },
  ]);
  await until('script failed', () => sev.length >= 1);
  t.like(sev[0], { from: 'init', to: 'failed', reason: 'exit 1' });
  writeFileSync(flag, '0');
  await until('script ok', () => sev.length >= 2);
  t.like(sev[1], { from: 'failed', to: 'ok', reason: 'exit 0' });
  t.is(tracker.states()[0]!.state, 'ok');
});

test('vrrp_script fall/rise with real scripts and a hung run killed by its timeout', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vck-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const mode = join(dir, 'mode');
  writeFileSync(mode, 'ok');
  const tracker = new ScriptTracker({
    run: (task) => runScript(task.argv, { timeoutMs: task.timeoutMs, graceMs: 200 }),
  });
  t.teardown(() => tracker.stop());
  const sev: Array<ScriptTransition & { runs: number }> = [];
  tracker.on('transition', (e) => sev.push({ ...e, runs: tracker.states()[0]!.runs }));
  const script = `case "$(cat ${mode})" in ok) exit 0;; hang) sleep 1000;; *) exit 1;; esac`;
  // The timeout must leave a healthy run room on a loaded host: with 150 ms, a run of `sh`
  // and `cat` that took longer under the CI suite's load failed as a hung one, and the
  // rise below took 4 runs instead of at most 3.
  tracker.setScripts([{ name: 's', task: { kind: 'script', argv: ['/bin/sh', '-c', script], timeoutMs: 600 }, intervalMs: 60, fall: 3, rise: 2, initFail: false }]);
  await until('ok', () => sev.length >= 1);
  t.like(sev[0], { from: 'init', to: 'ok', runs: 1 });
  // hung runs count as failures: fall = 3 of them
  writeFileSync(mode, 'hang');
  const runsAtHang = tracker.states()[0]!.runs;
  await until('failed', () => sev.length >= 2);
  t.like(sev[1], { from: 'ok', to: 'failed', reason: 'timeout' });
  t.true(sev[1]!.runs - runsAtHang >= 3 && sev[1]!.runs - runsAtHang <= 4, `failed after ${sev[1]!.runs - runsAtHang} runs`);
  writeFileSync(mode, 'ok');
  const runsAtOk = tracker.states()[0]!.runs;
  await until('ok again', () => sev.length >= 3);
  t.like(sev[2], { from: 'failed', to: 'ok' });
  t.true(sev[2]!.runs - runsAtOk >= 2 && sev[2]!.runs - runsAtOk <= 3, `ok after ${sev[2]!.runs - runsAtOk} runs`);
});

test('one checker thread runs many attempts at once: a hung server does not delay a healthy one', async (t) => {
  const pool = new Piscina(checkerPoolOptions());
  t.teardown(() => pool.destroy());
  const hung = await rawServer(t);
  const healthy = await httpServer(t, (_req, res) => res.end());
  const http = (port: number, connectTimeoutMs: number): CheckTask => ({
    kind: 'http', ssl: false, address: '127.0.0.1', port, connectTimeoutMs, urls: [{ path: '/', statusCodes: [] }], sni: false, tlsVerify: false,
  });
  // warm the thread up first so its start-up does not count
  await pool.run(http(healthy, 1000));
  const slow = pool.run(http(hung, 1500)) as Promise<{ ok: boolean; reason?: string }>;
  const t0 = performance.now();
  const fast = (await pool.run(http(healthy, 1000))) as { ok: boolean };
  const took = performance.now() - t0;
  t.true(fast.ok);
  t.true(took < 1000, `healthy check took ${took} ms while the hung one was pending`);
  t.like(await slow, { ok: false, reason: 'response-timeout' });
});
