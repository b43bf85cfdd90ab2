import test from 'ava';
import { ScriptTracker, stepScript, judgeScript, type ScriptSpec, type ScriptTransition } from '../../../src/check/vrrp-script.ts';
import type { ScriptResult } from '../../../src/check/script-runner.ts';
import type { ScriptTask } from '../../../src/check/task.ts';
import { FakeClock } from './fake-clock.ts';

const exit = (code: number): ScriptResult => ({ exitCode: code, signal: null, timedOut: false, durationMs: 1, output: '' });

/** Feeds a sequence of pass/fail to the pure counter; returns the reports. */
function feed(seq: string, rise: number, fall: number, initFail = false): string[] {
  let s = { state: initFail ? ('failed' as const) : ('init' as const), result: initFail ? 0 : rise - 1 } as {
    state: 'init' | 'ok' | 'failed';
    result: number;
  };
  const out: string[] = [];
  for (const ch of seq) {
    const n = stepScript(s, ch === '+', rise, fall);
    s = { state: n.state, result: n.result };
    out.push(n.report ?? '.');
  }
  return out;
}

test('the first result leaves init at once, whatever rise and fall are', (t) => {
  t.deepEqual(feed('+', 3, 3), ['ok']);
  t.deepEqual(feed('-', 3, 3), ['failed']);
});

test('fall: an ok script goes down on the fall-th consecutive failure', (t) => {
  t.deepEqual(feed('+---', 1, 3), ['ok', '.', '.', 'failed']);
  t.deepEqual(feed('+--+---', 1, 3), ['ok', '.', '.', '.', '.', '.', 'failed']);
});

test('rise: a failed script comes back on the rise-th consecutive pass', (t) => {
  t.deepEqual(feed('-+++', 3, 1), ['failed', '.', '.', 'ok']);
  t.deepEqual(feed('-++-+++', 3, 1), ['failed', '.', '.', '.', '.', '.', 'ok']);
});

test('init_fail starts failed and needs rise passes; no failure report while failed', (t) => {
  t.deepEqual(feed('--++', 2, 2, true), ['.', '.', '.', 'ok']);
});

test('judgeScript: exit 0 passes; exits, signals, timeouts and spawn errors fail', (t) => {
  t.deepEqual(judgeScript(exit(0)), { ok: true, reason: 'exit 0' });
  t.deepEqual(judgeScript(exit(2)), { ok: false, reason: 'exit 2' });
  t.deepEqual(judgeScript({ ...exit(0), exitCode: null, signal: 'SIGSEGV' }), { ok: false, reason: 'signal SIGSEGV' });
  t.deepEqual(judgeScript({ ...exit(0), exitCode: null, signal: 'SIGTERM', timedOut: true }), { ok: false, reason: 'timeout' });
  t.deepEqual(judgeScript({ ...exit(0), exitCode: null, error: 'ENOENT' }), { ok: false, reason: 'spawn ENOENT' });
});

test('ScriptTracker runs every interval, reports transitions only, skips overlapping runs', async (t) => {
  const clock = new FakeClock();
  const results = [0, 0, 1, 1, 0, 0];
  let i = 0;
  let hang: (() => void) | undefined;
  const ran: number[] = [];
  const tracker = new ScriptTracker({
    now: clock.now,
    setTimer: clock.setTimer,
    random: () => 0,
    run: (task: ScriptTask) => {
      ran.push(clock.now());
      t.is(task.argv[0], '/bin/check');
      if (task.argv[1] === '-v') return Promise.resolve(exit(1));
      if (i === results.length) {
        i++; // only this run hangs
        return new Promise<ScriptResult>((r) => (hang = () => r(exit(0))));
      }
      if (i > results.length) return Promise.resolve(exit(0));
      return Promise.resolve(exit(results[i++]!));
    },
  });
  const events: ScriptTransition[] = [];
  tracker.on('transition', (e) => events.push(e));
  const spec: ScriptSpec = {
    name: 'chk',
    task: { kind: 'script', argv: ['/bin/check'], timeoutMs: 500 },
    intervalMs: 1000,
    fall: 2,
    rise: 2,
    initFail: false,
  };
  tracker.setScripts([spec]);
  t.is(tracker.states()[0]!.state, 'init');
  await clock.advance(5500);
  t.deepEqual(ran, [0, 1000, 2000, 3000, 4000, 5000]);
  t.deepEqual(
    events.map((e) => [e.from, e.to, e.reason]),
    [
      ['init', 'ok', 'exit 0'],
      ['ok', 'failed', 'exit 1'],
      ['failed', 'ok', 'exit 0'],
    ],
  );
  // the 7th run hangs: the next two ticks are skipped, not stacked
  await clock.advance(3000);
  t.is(ran.length, 7);
  t.is(tracker.states()[0]!.skipped, 2);
  hang?.();
  // reload with the same spec, or other timing, keeps state; another command restarts it
  t.deepEqual(tracker.setScripts([spec]), { added: [], removed: [], kept: ['chk'] });
  t.deepEqual(tracker.setScripts([{ ...spec, intervalMs: 500, fall: 5 }]), { added: [], removed: [], kept: ['chk'] });
  t.like(tracker.states()[0], { state: 'ok', result: 2 + 5 - 1 });
  const runsBefore = ran.length;
  await clock.advance(1000);
  t.is(ran.length - runsBefore, 2, 'the new interval applies');
  t.deepEqual(tracker.setScripts([{ ...spec, task: { ...spec.task, argv: ['/bin/check', '-v'] }, initFail: true }]), {
    added: ['chk'],
    removed: [],
    kept: [],
  });
  t.is(tracker.states()[0]!.state, 'failed');
  tracker.stop();
  t.is(clock.armed(), 0);
});
