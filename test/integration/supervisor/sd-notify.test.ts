import test from 'ava';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { monotonicUsec, readyMessage, reloadingMessage, SdNotifyError, SdState, sdNotify, sdNotifyStrict, startWatchdog, statusMessage } from '../../../src/supervisor/sd-notify.ts';

const helper = fileURLToPath(new URL('./fixtures/dgram-listen.py', import.meta.url));

/** A real AF_UNIX datagram socket bound by python3, standing where systemd's would. */
async function listen(name: string): Promise<{ next(): Promise<string>; close(): void }> {
  const p: ChildProcessByStdio<null, Readable, Readable> = spawn('python3', [helper, name], { stdio: ['ignore', 'pipe', 'pipe'] });
  const queue: string[] = [];
  const waiters: ((s: string) => void)[] = [];
  let buf = '';
  let readyResolve: () => void = () => {};
  const ready = new Promise<void>((r) => (readyResolve = r));
  p.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === 'ready') readyResolve();
      else {
        const msg = JSON.parse(line) as string;
        const w = waiters.shift();
        if (w) w(msg);
        else queue.push(msg);
      }
    }
  });
  await ready;
  return {
    next: () => {
      const q = queue.shift();
      if (q !== undefined) return Promise.resolve(q);
      return new Promise((r, j) => {
        const timer = setTimeout(() => j(new Error('no datagram within 10 s')), 10_000);
        waiters.push((s) => (clearTimeout(timer), r(s)));
      });
    },
    close: () => p.kill('SIGKILL'),
  };
}

test('READY, STATUS, RELOADING with MONOTONIC_USEC, STOPPING reach a socket bound at a path', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sd-'));
  const path = join(dir, 'notify');
  const l = await listen(path);
  t.teardown(() => (l.close(), rmSync(dir, { recursive: true, force: true })));
  const env = { NOTIFY_SOCKET: path };
  t.true(sdNotify(readyMessage('2 instances'), env));
  t.is(await l.next(), 'READY=1\nSTATUS=2 instances');
  const before = monotonicUsec();
  t.true(sdNotify(reloadingMessage(), env));
  const after = monotonicUsec();
  const msg = await l.next();
  const m = /^RELOADING=1\nMONOTONIC_USEC=(\d+)$/.exec(msg);
  t.truthy(m, msg);
  const usec = BigInt(m?.[1] ?? '0');
  t.true(usec >= before && usec <= after);
  t.true(sdNotify(statusMessage('reloading\nconfig'), env));
  t.is(await l.next(), 'STATUS=reloading config');
  t.true(sdNotify(SdState.stopping, env));
  t.is(await l.next(), 'STOPPING=1');
});

test('abstract @name sockets work too', async (t) => {
  const name = `@vigil-sd-test-${process.pid}-${Date.now()}`;
  const l = await listen(name);
  t.teardown(() => l.close());
  t.true(sdNotify('READY=1', { NOTIFY_SOCKET: name }));
  t.is(await l.next(), 'READY=1');
});

test('no NOTIFY_SOCKET: a no-op; nobody listening or a bad name: false (sdNotify) or an error with a code (strict)', (t) => {
  t.false(sdNotify('READY=1', {}));
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const e1 = t.throws(() => sdNotifyStrict('READY=1', { NOTIFY_SOCKET: join(dir, 'absent') }), { instanceOf: SdNotifyError });
  t.is(e1?.code, 'SD_NOTIFY_SYSCALL');
  const seen: SdNotifyError[] = [];
  t.false(sdNotify('READY=1', { NOTIFY_SOCKET: join(dir, 'absent') }, (e) => seen.push(e)));
  t.is(seen[0]?.code, 'SD_NOTIFY_SYSCALL');
  const e2 = t.throws(() => sdNotifyStrict('READY=1', { NOTIFY_SOCKET: 'relative' }), { instanceOf: SdNotifyError });
  t.is(e2?.code, 'SD_NOTIFY_BAD_SOCKET');
});

test('monotonicUsec is CLOCK_MONOTONIC: it agrees with /proc/uptime-scale hrtime, not wall time', (t) => {
  // libuv's hrtime is CLOCK_MONOTONIC on Linux; both read the same clock within a few ms.
  const a = monotonicUsec();
  const h = process.hrtime.bigint() / 1000n;
  t.true(h - a >= 0n && h - a < 1_000_000n, `${a} vs ${h}`);
  t.true(a < BigInt(Date.now()) * 1000n / 10n, 'far below epoch µs');
});

test('watchdog: pings at half WATCHDOG_USEC to the real socket; WATCHDOG_PID of another process disables it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sd-'));
  const path = join(dir, 'notify');
  const l = await listen(path);
  const wd = startWatchdog({ env: { NOTIFY_SOCKET: path, WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid) } });
  t.teardown(() => (wd?.stop(), l.close(), rmSync(dir, { recursive: true, force: true })));
  t.is(wd?.intervalMs, 100);
  t.is(await l.next(), 'WATCHDOG=1');
  t.is(await l.next(), 'WATCHDOG=1');
  t.is(await l.next(), 'WATCHDOG=1');
  t.is(startWatchdog({ env: { NOTIFY_SOCKET: path, WATCHDOG_USEC: '200000', WATCHDOG_PID: '1' } }), undefined);
  t.is(startWatchdog({ env: { NOTIFY_SOCKET: path } }), undefined);
});
