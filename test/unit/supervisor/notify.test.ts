import test from 'ava';
import type { RunScriptOptions, ScriptResult } from '../../../src/check/script-runner.ts';
import type { ScriptCommand } from '../../../src/config/model.ts';
import { createNotifier, genericNotifyArgs, rsFifoLine, vrrpFifoLine, vsFifoLine } from '../../../src/supervisor/notify.ts';

const loc = { file: 'k.conf', line: 1, col: 1 };
const cmd = (raw: string): ScriptCommand => ({ raw, argv: raw.split(' '), loc });

test('generic notify arguments and FIFO lines are keepalived\'s', (t) => {
  t.deepEqual(genericNotifyArgs('INSTANCE', 'VI_1', 'MASTER', 150), ['INSTANCE', 'VI_1', 'MASTER', '150']);
  t.is(vrrpFifoLine('GROUP', 'G1', 'BACKUP', 0), 'GROUP "G1" BACKUP 0\n');
  t.is(rsFifoLine('[10.0.1.1]:tcp:80', '[10.0.0.1]:tcp:80', true), 'RS [10.0.1.1]:tcp:80 [10.0.0.1]:tcp:80 UP\n');
  t.is(vsFifoLine('FWM 5', false), 'VS FWM 5 DOWN\n');
});

/** A recording runner whose scripts end when the test says so. */
function gatedRunner(): { run: (argv: readonly string[], o: RunScriptOptions) => Promise<ScriptResult>; started: string[]; finish(argv0: string): void } {
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  return {
    started,
    run: (argv) => {
      started.push(argv.join(' '));
      return new Promise((resolve) => {
        gates.set(argv[0] ?? '', () => resolve({ exitCode: 0, signal: null, timedOut: false, durationMs: 1, output: '' }));
      });
    },
    finish: (argv0) => gates.get(argv0)?.(),
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('one subject\'s events run in order; both scripts of an event start together; other subjects never wait', async (t) => {
  const g = gatedRunner();
  const n = createNotifier({ globals: {}, prepare: async (c) => ({ argv: c.argv }), run: g.run });
  const vi1 = { name: 'VI_1', notifyMaster: cmd('/m1'), notifyBackup: cmd('/b1'), notify: cmd('/n1 x') };
  const vi2 = { name: 'VI_2', notifyMaster: cmd('/m2') };
  n.vrrpInstance(vi1, 'MASTER', 150);
  n.vrrpInstance(vi1, 'BACKUP', 100);
  n.vrrpInstance(vi2, 'MASTER', 90);
  await tick();
  t.deepEqual(g.started, ['/m1', '/n1 x INSTANCE VI_1 MASTER 150', '/m2']);
  g.finish('/m1');
  await tick();
  t.is(g.started.length, 3, 'BACKUP waits for the generic script of MASTER too');
  g.finish('/n1');
  await tick();
  await tick();
  t.deepEqual(g.started.slice(3), ['/b1', '/n1 x INSTANCE VI_1 BACKUP 100']);
  g.finish('/b1');
  g.finish('/n1');
  g.finish('/m2');
  await n.idle();
  t.is(n.stats.scripts, 5);
  t.is(n.stats.failed, 0);
});

test('a refused script is counted and skipped; the queue goes on', async (t) => {
  const runs: string[] = [];
  const outcomes: string[] = [];
  const n = createNotifier({
    globals: {},
    prepare: async (c) => (c.argv[0] === '/bad' ? undefined : { argv: c.argv }),
    run: async (argv) => (runs.push(argv.join(' ')), { exitCode: 1, signal: null, timedOut: false, durationMs: 1, output: 'oops' }),
    onResult: (o) => outcomes.push(o),
  });
  n.vrrpGroup({ name: 'G1', notifyMaster: cmd('/bad'), notify: cmd('/gen') }, 'MASTER');
  n.quorum('FWM 5', { quorumDown: cmd('/qd') }, false);
  n.realServer('[10.0.0.1]:tcp:80', '[10.0.1.1]:tcp:80', { notifyUp: cmd('/up') }, true);
  await n.idle();
  t.deepEqual(runs.sort(), ['/gen GROUP G1 MASTER 0', '/qd', '/up']);
  t.deepEqual(outcomes.sort(), ['failure', 'failure', 'failure', 'refused']);
});
