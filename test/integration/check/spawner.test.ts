import test from 'ava';
import { SpawnerHost } from '../../../src/check/spawner.ts';
import { requireRoot } from '../../helpers/netns.ts';

test('scripts start from this process (posix_spawn): exit status, output, deadline with kill ladder, misc checks', async (t) => {
  const events: string[] = [];
  const host = new SpawnerHost((e) => events.push(e));
  t.teardown(() => host.stop());
  const ok = await host.run({ kind: 'script', argv: ['/bin/sh', '-c', 'echo $PPID; exit 0'], timeoutMs: 5000 });
  t.is(ok.exitCode, 0);
  // no spawner process in between: the script's parent is this process
  t.is(Number(ok.output.trim()), process.pid);
  const fail = await host.run({ kind: 'script', argv: ['/bin/sh', '-c', 'exit 3'], timeoutMs: 5000 });
  t.is(fail.exitCode, 3);
  const hung = await host.run({ kind: 'script', argv: ['/bin/sleep', '30'], timeoutMs: 300, graceMs: 200 });
  t.true(hung.timedOut);
  t.true(hung.durationMs < 5000);
  const misc = await host.run({ kind: 'misc', argv: ['/bin/sh', '-c', 'exit 0'], timeoutMs: 5000, dynamic: false });
  t.true(misc.ok);
  const dyn = await host.run({ kind: 'misc', argv: ['/bin/sh', '-c', 'exit 7'], timeoutMs: 5000, dynamic: true });
  t.deepEqual([dyn.ok, dyn.ok ? dyn.weight : undefined], [true, 5]);
  t.is(host.pingPid, undefined, 'no PING_CHECK: no process of its own');
  t.deepEqual(events, []);
});

test('stop() waits for the scripts in flight, and refuses new tasks', async (t) => {
  const host = new SpawnerHost();
  const slow = host.run({ kind: 'script', argv: ['/bin/sh', '-c', 'sleep 0.3; exit 4'], timeoutMs: 5000 });
  await host.stop();
  t.is((await slow).exitCode, 4);
  await t.throwsAsync(host.run({ kind: 'script', argv: ['/bin/true'], timeoutMs: 1000 }), { message: /stopped/ });
});

test('PING_CHECK runs in a process of its own; one that dies is replaced with the next attempt', async (t) => {
  if (!requireRoot(t)) {
    t.pass();
    return;
  }
  const events: string[] = [];
  const host = new SpawnerHost((e) => events.push(e));
  t.teardown(() => host.stop());
  const first = await host.run({ kind: 'ping', address: '127.0.0.1', connectTimeoutMs: 2000 });
  t.true(first.ok);
  const pid = host.pingPid;
  t.true(pid !== undefined && pid !== process.pid);
  process.kill(pid!, 'SIGKILL');
  while (!events.includes('spawner.exit')) await new Promise((r) => setTimeout(r, 20));
  const next = await host.run({ kind: 'ping', address: '127.0.0.1', connectTimeoutMs: 2000 });
  t.true(next.ok);
  t.not(host.pingPid, pid);
});
