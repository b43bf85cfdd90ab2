import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tcpAttempt } from '../../../src/check/tcp.ts';
import { dnsAttempt } from '../../../src/check/dns.ts';
import { miscAttempt } from '../../../src/check/misc.ts';
import type { DnsTask, MiscTask } from '../../../src/check/task.ts';
import { dnsReply, dnsServer, rawServer } from './servers.ts';

test('TCP_CHECK: connect passes, refused fails, bindto is the source', async (t) => {
  const peers: string[] = [];
  const port = await rawServer(t, (s) => peers.push(s.remoteAddress ?? ''));
  t.like(await tcpAttempt({ kind: 'tcp', address: '127.0.0.1', port, connectTimeoutMs: 1000 }), { ok: true });
  t.like(await tcpAttempt({ kind: 'tcp', address: '127.0.0.1', port, connectTimeoutMs: 1000, bindTo: '127.0.0.9' }), { ok: true });
  t.like(await tcpAttempt({ kind: 'tcp', address: '127.0.0.1', port: 1, connectTimeoutMs: 1000 }), { ok: false, reason: 'connect-refused' });
  t.like(await tcpAttempt({ kind: 'tcp', address: 'not an address', port, connectTimeoutMs: 300 }), { ok: false });
  await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(peers, ['127.0.0.1', '127.0.0.9']);
});

function dns(port: number, over: Partial<DnsTask> = {}): DnsTask {
  return { kind: 'dns', address: '127.0.0.1', port, connectTimeoutMs: 500, queryType: 'A', name: 'www.example.test', ...over };
}

test('DNS_CHECK: a NOERROR response with our id passes; the server saw our question', async (t) => {
  const srv = await dnsServer(t, (q) => [dnsReply(q, 0)]);
  t.like(await dnsAttempt(dns(srv.port, { queryType: 'AAAA' })), { ok: true });
  const q = srv.queries[0]!;
  t.is(q.readUInt16BE(2) & 0x0100, 0x0100, 'RD set');
  t.is(q.readUInt16BE(4), 1, 'one question');
  const qname = q.subarray(12, q.length - 4);
  t.deepEqual([...qname], [3, ...Buffer.from('www'), 7, ...Buffer.from('example'), 4, ...Buffer.from('test'), 0]);
  t.is(q.readUInt16BE(q.length - 4), 28, 'QTYPE AAAA');
  t.is(q.readUInt16BE(q.length - 2), 1, 'QCLASS IN');
});

test('DNS_CHECK: an error RCODE fails with its name', async (t) => {
  const srv = await dnsServer(t, (q) => [dnsReply(q, 3)]);
  t.like(await dnsAttempt(dns(srv.port)), { ok: false, reason: 'rcode NXDOMAIN' });
});

test('DNS_CHECK: replies with another id are ignored, the matching one counts', async (t) => {
  const srv = await dnsServer(t, (q) => [dnsReply(q, 2, q.readUInt16BE(0) ^ 0xffff), dnsReply(q, 0)]);
  t.like(await dnsAttempt(dns(srv.port)), { ok: true });
  const only = await dnsServer(t, (q) => [dnsReply(q, 0, q.readUInt16BE(0) ^ 0xffff)]);
  t.like(await dnsAttempt(dns(only.port, { connectTimeoutMs: 300 })), { ok: false, reason: 'timeout' });
});

test('DNS_CHECK: a silent server times out; a closed port is refused at once', async (t) => {
  const srv = await dnsServer(t, () => null);
  const r = await dnsAttempt(dns(srv.port, { connectTimeoutMs: 300 }));
  t.like(r, { ok: false, reason: 'timeout' });
  t.true(r.durationMs >= 250 && r.durationMs < 2000);
  const closed = await dnsAttempt(dns(1));
  t.like(closed, { ok: false, reason: 'connect-refused' });
  t.like(await dnsAttempt(dns(srv.port, { queryType: 'BOGUS' })), { ok: false, reason: 'bad-type' });
});

function misc(script: string, over: Partial<MiscTask> = {}): MiscTask {
  return { kind: 'misc', argv: ['/bin/sh', '-c', script], timeoutMs: 5000, dynamic: false, ...over };
}

test('MISC_CHECK: exit 0 up, exit 1 down, other exits down unless misc_dynamic', async (t) => {
  t.like(await miscAttempt(misc('exit 0')), { ok: true });
  t.like(await miscAttempt(misc('exit 1')), { ok: false, reason: 'exit 1' });
  t.like(await miscAttempt(misc('exit 7')), { ok: false, reason: 'exit 7' });
  const dyn = await miscAttempt(misc('exit 7', { dynamic: true }));
  t.like(dyn, { ok: true, weight: 5 });
  t.like(await miscAttempt(misc('exit 2', { dynamic: true })), { ok: true, weight: 0 });
  t.like(await miscAttempt(misc('exit 255', { dynamic: true })), { ok: true, weight: 253 });
  t.like(await miscAttempt(misc('exit 1', { dynamic: true })), { ok: false, reason: 'exit 1' });
  const zero = await miscAttempt(misc('exit 0', { dynamic: true }));
  t.true(zero.ok);
  t.is(zero.weight, undefined, 'exit 0 restores the configured weight');
  t.like(await miscAttempt(misc('kill -SEGV $$')), { ok: false, reason: 'signal SIGSEGV' });
  t.like(await miscAttempt({ kind: 'misc', argv: ['/nonexistent/check'], timeoutMs: 1000, dynamic: false }), { ok: false, reason: 'spawn ENOENT' });
});

test('MISC_CHECK: a hung script is killed at misc_timeout, with what it started', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vck-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pids = join(dir, 'pids');
  const r = await miscAttempt(misc(`sleep 1000 & echo $! > ${pids}; wait`, { timeoutMs: 300, graceMs: 500 }));
  t.like(r, { ok: false, reason: 'timeout' });
  t.true(r.durationMs < 3000);
  const grandchild = Number(readFileSync(pids, 'utf8').trim());
  const end = performance.now() + 2000;
  const isGone = (): boolean => {
    if (!existsSync(`/proc/${grandchild}/stat`)) return true;
    const stat = readFileSync(`/proc/${grandchild}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  };
  while (!isGone() && performance.now() < end) await new Promise((res) => setTimeout(res, 20));
  t.true(isGone(), 'the sleep it started is dead');
});

test('hostile tasks fail with bad-task, never throw', async (t) => {
  const { runAttempt } = await import('../../../src/check/registry.ts');
  const url = [{ path: '/', statusCodes: [] }];
  const http = { kind: 'http' as const, ssl: false, connectTimeoutMs: 300, sni: false, tlsVerify: false, urls: url };
  const bad = [
    { ...http, address: '127.0.0.1', port: 70000 },
    { ...http, address: 'www.example.com', port: 80 },
    { ...http, address: '127.0.0.1', port: 80, urls: [{ path: 'no-slash', statusCodes: [] }] },
    { ...http, address: '127.0.0.1', port: 80, urls: [{ path: '/\r\nX-Injected: 1', statusCodes: [] }] },
    { ...http, address: '127.0.0.1', port: 80, bindTo: 'eth0' },
    { kind: 'tcp' as const, address: '127.0.0.1', port: 0, connectTimeoutMs: 100 },
    { kind: 'dns' as const, address: 'resolver', port: 53, connectTimeoutMs: 100, queryType: 'A', name: 'x' },
    { kind: 'dns' as const, address: '127.0.0.1', port: 53, connectTimeoutMs: 0, queryType: 'A', name: 'x' },
  ];
  for (const task of bad) t.like(await runAttempt(task), { ok: false, reason: 'bad-task' }, JSON.stringify(task));
  t.like(await runAttempt({ kind: 'nope' } as never), { ok: false, reason: 'bad-task' });
});

test('a loop blocked past the deadline does not turn a refused connection into a timeout', async (t) => {
  const { runAttempt } = await import('../../../src/check/registry.ts');
  const busy = (ms: number): void => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      // a GC pause or a burst of work in the checker thread
    }
  };
  const tcp = runAttempt({ kind: 'tcp', address: '127.0.0.1', port: 1, connectTimeoutMs: 30 });
  const http = runAttempt({ kind: 'http', ssl: false, address: '127.0.0.1', port: 1, connectTimeoutMs: 30, urls: [{ path: '/', statusCodes: [] }], sni: false, tlsVerify: false });
  await new Promise((r) => setImmediate(r)); // let the connects start
  busy(150);
  t.like(await tcp, { ok: false, reason: 'connect-refused' });
  t.like(await http, { ok: false, reason: 'connect-refused' });
});
