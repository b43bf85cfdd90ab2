/** UDP_CHECK against real UDP servers on loopback: an echo server, a silent one, a closed port. */
import test, { type ExecutionContext } from 'ava';
import dgram from 'node:dgram';
import { runAttempt } from '../../../src/check/registry.ts';
import type { UdpTask } from '../../../src/check/task.ts';

/** A UDP server on 127.0.0.1 that answers each datagram with `answer(datagram)` (nothing: stays silent). */
async function udpServer(t: ExecutionContext, answer: (msg: Buffer) => Buffer | undefined, family: 'udp4' | 'udp6' = 'udp4'): Promise<{ port: number; seen: Buffer[] }> {
  const s = dgram.createSocket(family);
  const seen: Buffer[] = [];
  s.on('message', (msg, rinfo) => {
    seen.push(msg);
    const a = answer(msg);
    if (a !== undefined) s.send(a, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => s.bind(0, family === 'udp4' ? '127.0.0.1' : '::1', resolve));
  t.teardown(() => new Promise<void>((resolve) => s.close(() => resolve())));
  return { port: s.address().port, seen };
}

/** A port nothing listens on: bound, noted, closed. */
async function closedPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const base = (port: number, o: Partial<UdpTask> = {}): UdpTask => ({
  kind: 'udp',
  address: '127.0.0.1',
  port,
  connectTimeoutMs: 300,
  requireReply: false,
  minReplyLength: 0,
  maxReplyLength: 255,
  ...o,
});

test('an echo server passes; the payload is what the config says, else 32 bytes', async (t) => {
  const echo = await udpServer(t, (m) => m);
  t.like(await runAttempt(base(echo.port, { payload: Uint8Array.from([1, 2, 3]), requireReply: true })), { ok: true });
  t.deepEqual([...echo.seen[0]!], [1, 2, 3]);
  t.like(await runAttempt(base(echo.port)), { ok: true });
  t.is(echo.seen[1]!.length, 32);
});

test('a closed port fails at once on the ICMP port unreachable, well before connect_timeout', async (t) => {
  const port = await closedPort();
  const r = await runAttempt(base(port, { connectTimeoutMs: 3000 }));
  t.like(r, { ok: false, reason: 'connect-refused' });
  t.true(r.durationMs < 1000, `took ${r.durationMs} ms`);
});

test('a silent server passes without require_reply and fails with it after connect_timeout', async (t) => {
  const silent = await udpServer(t, () => undefined);
  t.like(await runAttempt(base(silent.port)), { ok: true });
  const r = await runAttempt(base(silent.port, { requireReply: true }));
  t.like(r, { ok: false, reason: 'timeout' });
  t.true(r.durationMs >= 290, `took ${r.durationMs} ms`);
});

test('require_reply HEX_STR: the reply must match over the shorter length, X bits ignored, within the length bounds', async (t) => {
  let reply = Buffer.from([0xca, 0xfe, 0x01]);
  const srv = await udpServer(t, () => reply);
  const want = { requireReply: true, reply: { data: Uint8Array.from([0xca, 0xfe, 0x00]), mask: Uint8Array.from([0, 0, 0xff]) } };
  t.like(await runAttempt(base(srv.port, want)), { ok: true });
  reply = Buffer.from([0xca, 0xff, 0x01]);
  t.like(await runAttempt(base(srv.port, want)), { ok: false, reason: 'reply mismatch' });
  reply = Buffer.from([0xca]); // shorter than the pattern: only what came is compared
  t.like(await runAttempt(base(srv.port, want)), { ok: true });
  t.like(await runAttempt(base(srv.port, { ...want, minReplyLength: 2 })), { ok: false, reason: 'reply mismatch' });
  reply = Buffer.alloc(300, 0xca);
  t.like(await runAttempt(base(srv.port, { requireReply: true, reply: { data: Uint8Array.from([0xca]) } })), { ok: false, reason: 'reply mismatch' });
});

test('IPv6 and bindto: the check leaves from the address it is bound to', async (t) => {
  const froms: string[] = [];
  const s = dgram.createSocket('udp6');
  s.on('message', (m, r) => {
    froms.push(r.address);
    s.send(m, r.port, r.address);
  });
  await new Promise<void>((resolve) => s.bind(0, '::1', resolve));
  t.teardown(() => new Promise<void>((resolve) => s.close(() => resolve())));
  t.like(await runAttempt(base(s.address().port, { address: '::1', bindTo: '::1', requireReply: true })), { ok: true });
  t.deepEqual(froms, ['::1']);
});
