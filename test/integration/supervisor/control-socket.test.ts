import test from 'ava';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ControlExit, controlRequest, runControlCommand } from '../../../src/supervisor/control-client.ts';
import { ControlError, startControlServer } from '../../../src/supervisor/control-socket.ts';
import { sampleStatus } from '../../unit/supervisor/status-fixture.ts';

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-ctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function capture(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  let s = '';
  stream.setEncoding('utf8').on('data', (d: string) => (s += d));
  return { stream, text: () => s };
}

test('status: the client prints what getStatus gives, for people and as JSON; socket is 0600', async (t) => {
  const path = join(tmp(t), 'vigil.sock');
  const seen: string[] = [];
  const srv = await startControlServer({ path, handlers: { status: () => sampleStatus, reload: () => ({ ok: true, diagnostics: [] }) }, onRequest: (c) => seen.push(c) });
  t.teardown(() => srv.close());
  t.is(statSync(path).mode & 0o777, 0o600);

  const out = capture();
  t.is(await runControlCommand('status', path, { out: out.stream }), ControlExit.OK);
  const text = out.text();
  t.regex(text, /^vigil pid 4242, router_id lb1/);
  t.regex(text, /^INSTANCE\s+VRID\s+IF\s+STATE\s+PRIO\s+ADV TX\/RX\s+VIPS$/m);
  t.regex(text, /^VI_1 \(G1\)\s+51\s+eth0\s+MASTER\s+140\/150\s+3600\/12\s+10\.0\.0\.100\/24 dev eth0$/m);
  t.regex(text, /^\[10\.0\.0\.100\]:tcp:80 wlc NAT quorum UP, 1\/2 real servers up$/m);
  t.regex(text, /^ {2}\[10\.0\.1\.2\]:tcp:80\s+DOWN weight 2/m);

  const js = capture();
  t.is(await runControlCommand('status', path, { json: true, out: js.stream }), ControlExit.OK);
  t.deepEqual(JSON.parse(js.text()), sampleStatus);
  t.deepEqual(seen, ['status', 'status']);
});

test('reload: applied → 0; refused with diagnostics → 1 and they are printed; a throwing handler is an error answer', async (t) => {
  const path = join(tmp(t), 'vigil.sock');
  let next: unknown = { ok: true, diagnostics: [] };
  let calls = 0;
  const srv = await startControlServer({
    path,
    handlers: {
      status: () => {
        throw new Error('worker not answering');
      },
      reload: async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 20));
        return next;
      },
    },
  });
  t.teardown(() => srv.close());
  const o1 = capture();
  t.is(await runControlCommand('reload', path, { out: o1.stream }), ControlExit.OK);
  t.is(o1.text(), 'configuration reloaded\n');
  next = { ok: false, diagnostics: ['keepalived.conf:3:5: error: unknown keyword [unknown-keyword]'] };
  const o2 = capture();
  t.is(await runControlCommand('reload', path, { out: o2.stream }), ControlExit.FAILED);
  t.is(o2.text(), 'configuration refused; the daemon keeps running the previous one\n  keepalived.conf:3:5: error: unknown keyword [unknown-keyword]\n');
  t.is(calls, 2);
  const e = capture();
  t.is(await runControlCommand('status', path, { err: e.stream }), ControlExit.FAILED);
  t.regex(e.text(), /status failed: worker not answering \[CONTROL_HANDLER_FAILED\]/);
});

test('bad requests get coded errors; answers come back in order on one connection; oversize lines close it', async (t) => {
  const path = join(tmp(t), 'vigil.sock');
  const errors: string[] = [];
  const srv = await startControlServer({
    path,
    handlers: { status: async () => (await new Promise((r) => setTimeout(r, 30)), 'S'), reload: () => 'R' },
    onError: (e) => errors.push((e as ControlError).code),
  });
  t.teardown(() => srv.close());
  const lines = await new Promise<string[]>((resolve, reject) => {
    const c = createConnection(path);
    let buf = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      buf += d;
      const got = buf.split('\n').filter((l) => l !== '');
      if (got.length === 4) (c.destroy(), resolve(got));
    });
    c.on('error', reject);
    c.write('{"cmd":"status"}\n{"cmd":"reload"}\nnot json\n{"cmd":"rm -rf"}\n');
  });
  t.deepEqual(lines.map((l) => JSON.parse(l) as unknown), [
    { ok: true, result: 'S' },
    { ok: true, result: 'R' },
    { ok: false, error: { code: 'CONTROL_BAD_REQUEST', message: 'request is not JSON' } },
    { ok: false, error: { code: 'CONTROL_UNKNOWN_COMMAND', message: 'unknown command "rm -rf"; want status, reload, restart-vrrp-worker, drain or undrain' } },
  ]);
  const closed = await new Promise<boolean>((resolve) => {
    const c = createConnection(path);
    c.on('error', () => {});
    c.on('close', () => resolve(true));
    c.write('x'.repeat(70 * 1024));
  });
  t.true(closed);
  t.true(errors.includes('CONTROL_BAD_REQUEST'));
  // the server still answers after all that
  t.deepEqual(await controlRequest('reload', path), { ok: true, result: 'R' });
});

test('a stale socket file is replaced; a live one and a non-socket are refused; close removes the file', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'vigil.sock');
  // a socket file whose server is gone: what a vigil killed with SIGKILL leaves
  const dead = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((r) => dead.stdout.once('data', () => r()));
  dead.kill('SIGKILL');
  await new Promise((r) => dead.once('exit', r));
  t.true(existsSync(path), 'socket file left behind');
  const srv = await startControlServer({ path, handlers: { status: () => 1, reload: () => 2 } });
  t.deepEqual(await controlRequest('status', path), { ok: true, result: 1 });

  const err = await t.throwsAsync(startControlServer({ path, handlers: { status: () => 1, reload: () => 2 } }), { instanceOf: ControlError });
  t.is(err?.code, 'CONTROL_IN_USE');
  await srv.close();
  t.false(existsSync(path));

  const file = join(dir, 'notasocket');
  writeFileSync(file, 'x');
  const err2 = await t.throwsAsync(startControlServer({ path: file, handlers: { status: () => 1, reload: () => 2 } }), { instanceOf: ControlError });
  t.is(err2?.code, 'CONTROL_NOT_SOCKET');
  t.true(existsSync(file));
});

test('no daemon: the client says so and exits 3', async (t) => {
  const e = capture();
  t.is(await runControlCommand('status', join(tmp(t), 'absent.sock'), { err: e.stream }), ControlExit.UNREACHABLE);
  t.regex(e.text(), /cannot reach the daemon .* \(is vigil running\?\)/);
});
