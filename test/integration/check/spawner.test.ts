import test from 'ava';
import { SpawnerHost } from '../../../src/check/spawner.ts';

test('scripts run in the spawner process: exit status, output, deadline with kill ladder, misc checks', async (t) => {
  const events: string[] = [];
  const host = new SpawnerHost((e) => events.push(e));
  t.teardown(() => host.stop());
  const ok = await host.run({ kind: 'script', argv: ['/bin/sh', '-c', 'echo $PPID; exit 0'], timeoutMs: 5000 });
  t.is(ok.exitCode, 0);
  // the script's parent is the spawner, not this process
  t.not(Number(ok.output.trim()), process.pid);
  const fail = await host.run({ kind: 'script', argv: ['/bin/sh', '-c', 'exit 3'], timeoutMs: 5000 });
  t.is(fail.exitCode, 3);
  const hung = await host.run({ kind: 'script', argv: ['/bin/sleep', '30'], timeoutMs: 300, graceMs: 200 });
  t.true(hung.timedOut);
  t.true(hung.durationMs < 5000);
  const misc = await host.run({ kind: 'misc', argv: ['/bin/sh', '-c', 'exit 0'], timeoutMs: 5000, dynamic: false });
  t.true(misc.ok);
  t.deepEqual(events, []);
});

test('a spawner that dies fails its tasks in flight and a new one serves the next task', async (t) => {
  const events: string[] = [];
  const host = new SpawnerHost((e) => events.push(e));
  t.teardown(() => host.stop());
  const first = await host.run({ kind: 'script', argv: ['/bin/sh', '-c', 'echo $PPID'], timeoutMs: 5000 });
  const spawnerPid = Number(first.output.trim());
  const inFlight = host.run({ kind: 'script', argv: ['/bin/sleep', '5'], timeoutMs: 10_000 });
  await new Promise((r) => setTimeout(r, 200));
  process.kill(spawnerPid, 'SIGKILL');
  await t.throwsAsync(inFlight, { message: /spawner exited/ });
  const next = await host.run({ kind: 'script', argv: ['/bin/sh', '-c', 'echo $PPID'], timeoutMs: 5000 });
  t.is(next.exitCode, 0);
  t.not(Number(next.output.trim()), spawnerPid);
  t.true(events.includes('spawner.exit'));
});
