import test from 'ava';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { httpAttempt } from '../../../src/check/http.ts';
import type { HttpTask, HttpUrlTask } from '../../../src/check/task.ts';
import { runGenhash } from '../../../src/check/genhash.ts';
import { httpServer, httpsServer, rawServer, selfSigned } from './servers.ts';

const md5 = (s: string | Buffer): string => createHash('md5').update(s).digest('hex');

function task(port: number, urls: HttpUrlTask[], over: Partial<HttpTask> = {}): HttpTask {
  return { kind: 'http', ssl: false, address: '127.0.0.1', port, connectTimeoutMs: 1000, urls, sni: false, tlsVerify: false, ...over };
}

const url = (path: string, over: Partial<HttpUrlTask> = {}): HttpUrlTask => ({ path, statusCodes: [], ...over });

test('healthy: status 2xx and the right digest; keepalived request line and headers', async (t) => {
  const seen: Array<{ url?: string; host?: string; ua?: string; method?: string }> = [];
  const body = 'vigil healthy\n';
  const port = await httpServer(t, (req, res) => {
    seen.push({ url: req.url!, host: req.headers.host!, ua: req.headers['user-agent']!, method: req.method! });
    res.end(body);
  });
  const r = await httpAttempt(task(port, [url('/health', { digest: md5(body) }), url('/other')]));
  t.true(r.ok, JSON.stringify(r));
  t.deepEqual(seen, [
    { url: '/health', host: `127.0.0.1:${port}`, ua: 'KeepAliveClient', method: 'GET' },
    { url: '/other', host: `127.0.0.1:${port}`, ua: 'KeepAliveClient', method: 'GET' },
  ]);
});

test('wrong status fails with the status as reason; ranges and explicit codes are honoured', async (t) => {
  const port = await httpServer(t, (req, res) => {
    res.statusCode = Number(req.url!.slice(1));
    res.end('x');
  });
  t.like(await httpAttempt(task(port, [url('/503')])), { ok: false, reason: 'status 503' });
  t.like(await httpAttempt(task(port, [url('/301')])), { ok: false, reason: 'status 301' }, 'default range is 200-299');
  t.like(await httpAttempt(task(port, [url('/301', { statusCodes: [{ from: 300, to: 399 }] })])), { ok: true });
  t.like(await httpAttempt(task(port, [url('/204', { statusCodes: [{ from: 200, to: 200 }, { from: 204, to: 204 }] })])), { ok: true });
  t.like(await httpAttempt(task(port, [url('/200', { statusCodes: [{ from: 204, to: 204 }] })])), { ok: false, reason: 'status 200' });
  // every url must pass: the second one fails the attempt
  t.like(await httpAttempt(task(port, [url('/200'), url('/500')])), { ok: false, reason: 'status 500' });
});

test('digest mismatch fails; the digest is of the decoded body, chunked or not', async (t) => {
  const port = await httpServer(t, (req, res) => {
    if (req.url === '/chunked') {
      res.write('part one, ');
      setTimeout(() => res.end('part two'), 20);
      return;
    }
    res.end('some page');
  });
  t.like(await httpAttempt(task(port, [url('/', { digest: md5('another page') })])), { ok: false, reason: 'digest mismatch' });
  t.like(await httpAttempt(task(port, [url('/chunked', { digest: md5('part one, part two') })])), { ok: true });
  t.like(await httpAttempt(task(port, [url('/', { digest: md5('some page').toUpperCase() })])), { ok: true });
});

test('slow beyond connect_timeout: response-timeout, and the attempt ends near the timeout', async (t) => {
  const port = await httpServer(t, (_req, res) => {
    setTimeout(() => res.end('late'), 1500);
  });
  const r = await httpAttempt(task(port, [url('/')], { connectTimeoutMs: 300 }));
  t.like(r, { ok: false, reason: 'response-timeout' });
  t.true(r.durationMs >= 250 && r.durationMs < 1200, `took ${r.durationMs} ms`);
  // within the timeout it passes
  t.like(await httpAttempt(task(port, [url('/')], { connectTimeoutMs: 3000 })), { ok: true });
});

test('accepting but never answering: response-timeout', async (t) => {
  const port = await rawServer(t);
  const r = await httpAttempt(task(port, [url('/')], { connectTimeoutMs: 300 }));
  t.like(r, { ok: false, reason: 'response-timeout' });
});

test('a body that stalls after the headers: read-timeout when the digest needs it', async (t) => {
  const port = await httpServer(t, (_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('only part');
  });
  t.like(await httpAttempt(task(port, [url('/', { digest: md5('x') })], { connectTimeoutMs: 300 })), { ok: false, reason: 'read-timeout' });
  // without a digest the body is not read: the status alone decides
  t.like(await httpAttempt(task(port, [url('/')], { connectTimeoutMs: 300 })), { ok: true });
});

test('a body longer than the cap fails a digest check', async (t) => {
  const big = Buffer.alloc(200_000, 'a');
  const port = await httpServer(t, (_req, res) => res.end(big));
  t.like(await httpAttempt(task(port, [url('/', { digest: md5(big) })], { maxBodyBytes: 100_000 })), { ok: false, reason: 'body-too-large' });
  t.like(await httpAttempt(task(port, [url('/', { digest: md5(big) })])), { ok: true });
});

test('resetting the connection: reset', async (t) => {
  const closer = await rawServer(t, (s) => s.once('data', () => s.destroy()));
  t.like(await httpAttempt(task(closer, [url('/')])), { ok: false, reason: 'reset' });
  const rst = await rawServer(t, (s) => s.once('data', () => s.resetAndDestroy()));
  t.like(await httpAttempt(task(rst, [url('/')])), { ok: false, reason: 'reset' });
  const garbage = await rawServer(t, (s) => s.once('data', () => s.end('this is not http\r\n\r\n')));
  t.like(await httpAttempt(task(garbage, [url('/')])), { ok: false, reason: 'bad-response' });
});

test('connection refused: connect-refused', async (t) => {
  // port 1 (tcpmux) has no listener on loopback
  t.like(await httpAttempt(task(1, [url('/')])), { ok: false, reason: 'connect-refused' });
});

test('virtualhost: Host header per url, else the checker\'s', async (t) => {
  const hosts: string[] = [];
  const port = await httpServer(t, (req, res) => {
    hosts.push(req.headers.host ?? '');
    res.end();
  });
  const r = await httpAttempt(task(port, [url('/a', { virtualhost: 'a.example.test' }), url('/b')], { virtualhost: 'www.example.test' }));
  t.true(r.ok);
  t.deepEqual(hosts, ['a.example.test', 'www.example.test']);
});

test('bindto and bind_port: the server sees the chosen source address and port', async (t) => {
  const peers: string[] = [];
  const port = await httpServer(t, (req, res) => {
    peers.push(`${req.socket.remoteAddress}:${req.socket.remotePort}`);
    res.end();
  });
  t.true((await httpAttempt(task(port, [url('/')], { bindTo: '127.0.0.2' }))).ok);
  t.regex(peers[0]!, /^127\.0\.0\.2:\d+$/);
  const srcPort = 20000 + Math.floor(Math.random() * 20000);
  const r = await httpAttempt(task(port, [url('/')], { bindTo: '127.0.0.3', bindPort: srcPort }));
  t.true(r.ok, JSON.stringify(r));
  t.is(peers[1], `127.0.0.3:${srcPort}`);
  // a source address this host does not have
  t.like(await httpAttempt(task(port, [url('/')], { bindTo: '192.0.2.1' })), { ok: false, reason: 'bind EADDRNOTAVAIL' });
});

test('IPv6 loopback: Host is [::1]:port', async (t) => {
  const hosts: string[] = [];
  const port = await httpServer(
    t,
    (req, res) => {
      hosts.push(req.headers.host ?? '');
      res.end();
    },
    '::1',
  );
  t.true((await httpAttempt(task(port, [url('/')], { address: '::1' }))).ok);
  t.deepEqual(hosts, [`[::1]:${port}`]);
});

test('SSL_GET: self-signed accepted as keepalived does, SNI only with enable_sni, verify when asked', async (t) => {
  const creds = await selfSigned(t, 'www.example.test');
  const names: Array<string | false> = [];
  const port = await httpsServer(t, creds, (req, res) => {
    const sni = (req.socket as TLSSocket & { servername?: string | false }).servername ?? false;
    names.push(sni);
    // this server insists on the right name, as a virtual-hosting TLS front does
    res.statusCode = sni === 'www.example.test' ? 200 : 421;
    res.end('tls page');
  });
  const base = task(port, [url('/', { digest: md5('tls page') })], { ssl: true, virtualhost: 'www.example.test' });
  t.like(await httpAttempt({ ...base, sni: true }), { ok: true });
  t.like(await httpAttempt({ ...base, sni: false }), { ok: false, reason: 'status 421' });
  t.deepEqual(names, ['www.example.test', false]);
  // tls_verify: a self-signed certificate is refused
  t.like(await httpAttempt({ ...base, sni: true, tlsVerify: true }), { ok: false, reason: 'tls' });
  // plain HTTP to a TLS port: the handshake never completes, the attempt still ends
  const r = await httpAttempt(task(port, [url('/')], { connectTimeoutMs: 500 }));
  t.false(r.ok);
});

test('genhash prints the digest of the body, like keepalived\'s genhash', async (t) => {
  const body = Buffer.from('genhash body\n'.repeat(500));
  const port = await httpServer(t, (_req, res) => {
    res.setHeader('x-vigil-test', 'genhash');
    res.end(body);
  });
  let out = '';
  let err = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } };
  t.is(await runGenhash(['-s', '127.0.0.1', '-p', String(port), '-u', '/page'], io), 0);
  t.is(out, `${md5(body)}\n`);
  if (existsSync('/usr/bin/genhash')) {
    // async: the server answering it lives in this process
    const theirs = await promisify(execFile)('/usr/bin/genhash', ['-s', '127.0.0.1', '-p', String(port), '-u', '/page'], { timeout: 10_000 });
    t.is(theirs.stdout.trim(), out.trim(), 'same digest as keepalived genhash');
  } else {
    t.log('keepalived genhash not installed: compared with md5 only');
  }
  out = '';
  t.is(await runGenhash(['--verbose', '--server', '127.0.0.1', '--port', String(port), '--url', '/page'], io), 0);
  t.regex(out, /HTML hash final resulting/);
  t.regex(out, /\r?\nx-vigil-test: genhash\r\n/, 'the response headers, in the header dump');
  t.regex(out, new RegExp(`\\n${md5(body)}\\n`));
  t.regex(out, /Global response time for \[\/page\] = \d+ usecs/);
  // failures: genhash's message on stdout, exit 1; bad usage: exit 1 with usage
  out = '';
  t.is(await runGenhash(['-s', '127.0.0.1', '-p', '1', '-u', '/'], io), 1);
  t.is(out, 'Connection failed\n');
  t.is(await runGenhash(['-s', 'localhost', '-p', '80', '-u', '/'], io), 1);
  t.regex(err, /server should be an IP/);
  t.is(await runGenhash(['-p', '80'], io), 1);
  t.regex(err, /Usage: vigil genhash/);
});

test('genhash over SSL with SNI', async (t) => {
  const creds = await selfSigned(t, 'sni.example.test');
  const port = await httpsServer(t, creds, (req, res) => {
    res.end(`name=${(req.socket as TLSSocket & { servername?: string }).servername ?? ''}`);
  });
  let out = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true } };
  t.is(await runGenhash(['-S', '-I', '-V', 'sni.example.test', '-s', '127.0.0.1', '-p', String(port), '-u', '/'], io), 0);
  t.is(out, `${md5('name=sni.example.test')}\n`);
});
