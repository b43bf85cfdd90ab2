import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScript } from '../../../src/check/script-runner.ts';
import { requireRoot } from '../../helpers/netns.ts';

/**
 * A process is gone when /proc has no entry for it, or it is a zombie (dead, waiting for
 * its new parent — PID 1 here — to reap it: it runs nothing and holds no resource but its
 * pid).
 */
function gone(pid: number): boolean {
  const f = `/proc/${pid}/stat`;
  if (!existsSync(f)) return true;
  try {
    const stat = readFileSync(f, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

async function eventually(pred: () => boolean, ms = 2000): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return pred();
}

test('exit status, output and duration of a script that exits by itself', async (t) => {
  const r = await runScript(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], { timeoutMs: 5000 });
  t.is(r.exitCode, 3);
  t.is(r.signal, null);
  t.false(r.timedOut);
  t.is(r.error, undefined);
  t.true(r.output.includes('out') && r.output.includes('err'));
  t.true(r.durationMs >= 0 && r.durationMs < 5000);
});

test('output is bounded and a chatty script still finishes', async (t) => {
  const r = await runScript(['/bin/sh', '-c', 'head -c 1000000 /dev/zero | tr "\\0" x; exit 0'], {
    timeoutMs: 10_000,
    maxOutputBytes: 1000,
  });
  t.is(r.exitCode, 0);
  t.is(r.output.length, 1000);
});

test('a hung script and the grandchild it spawned are both killed at the deadline', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vck-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pids = join(dir, 'pids');
  // The script records its own pid and its grandchild's, then waits forever.
  const r = await runScript(['/bin/sh', '-c', `sleep 1000 & echo $$ $! > ${pids}; wait`], { timeoutMs: 300, graceMs: 1000 });
  t.true(r.timedOut);
  t.is(r.exitCode, null);
  t.is(r.signal, 'SIGTERM');
  t.true(r.durationMs >= 250 && r.durationMs < 3000, `took ${r.durationMs} ms`);
  const [leader, grandchild] = readFileSync(pids, 'utf8').trim().split(/\s+/).map(Number);
  t.true(Number.isInteger(leader) && Number.isInteger(grandchild));
  t.true(await eventually(() => gone(leader!)), 'the script is gone');
  t.true(await eventually(() => gone(grandchild!)), 'its grandchild `sleep 1000` is gone');
});

test('a script that ignores SIGTERM gets SIGKILL after the grace period, with its children', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vck-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pids = join(dir, 'pids');
  const started = performance.now();
  const r = await runScript(['/bin/sh', '-c', `trap "" TERM; sleep 1000 & echo $$ $! > ${pids}; wait; wait; wait`], {
    timeoutMs: 200,
    graceMs: 400,
  });
  const took = performance.now() - started;
  t.true(r.timedOut);
  t.is(r.signal, 'SIGKILL');
  t.true(took >= 550 && took < 4000, `took ${took} ms`);
  const [leader, grandchild] = readFileSync(pids, 'utf8').trim().split(/\s+/).map(Number);
  t.true(await eventually(() => gone(leader!) && gone(grandchild!)));
});

test('a script that cannot run comes back with an error code, never a throw', async (t) => {
  const missing = await runScript(['/nonexistent/vigil-script'], { timeoutMs: 1000 });
  t.is(missing.error, 'ENOENT');
  t.is(missing.exitCode, null);
  const dir = mkdtempSync(join(tmpdir(), 'vck-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const notExec = join(dir, 'script.sh');
  writeFileSync(notExec, '#!/bin/sh\nexit 0\n');
  chmodSync(notExec, 0o644);
  const r = await runScript([notExec], { timeoutMs: 1000 });
  t.is(r.error, 'EACCES');
  const empty = await runScript([], { timeoutMs: 1000 });
  t.is(empty.error, 'EINVAL');
  t.is((await runScript(['/bin/true'], { timeoutMs: 1000, uid: -5 })).error, 'EINVAL');
  t.is((await runScript(['/bin/true'], { timeoutMs: 1000, gid: 1.5 })).error, 'EINVAL');
});

test('env and cwd are passed to the script', async (t) => {
  const r = await runScript(['/bin/sh', '-c', 'echo "$VCK_X $(pwd)"'], { timeoutMs: 5000, env: { VCK_X: 'hello', PATH: '/usr/bin:/bin' }, cwd: '/tmp' });
  t.is(r.output.trim(), 'hello /tmp');
});

test('uid/gid drop privileges in the child', async (t) => {
  if (!requireRoot(t)) {
    t.pass();
    return;
  }
  const r = await runScript(['/bin/sh', '-c', 'echo "$(id -u) $(id -g) $(id -G)"'], { timeoutMs: 5000, uid: 65534, gid: 65534 });
  t.is(r.exitCode, 0);
  t.is(r.output.trim(), '65534 65534 65534', 'uid, gid and no supplementary groups of root');
});

test('a script that exits leaving a child holding its stdout returns at its own exit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vck-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pidFile = join(dir, 'pid');
  const r = await runScript(['/bin/sh', '-c', `sleep 30 & echo $! > ${pidFile}; echo done; exit 0`], { timeoutMs: 5000 });
  const child = Number(readFileSync(pidFile, 'utf8').trim());
  t.teardown(() => {
    try {
      process.kill(child, 'SIGKILL');
    } catch {
      // gone
    }
  });
  t.is(r.exitCode, 0);
  t.false(r.timedOut);
  t.true(r.durationMs < 2000, `returned after ${r.durationMs} ms`);
  t.true(r.output.includes('done'));
});
