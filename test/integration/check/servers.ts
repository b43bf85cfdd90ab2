/**
 * Real servers on loopback for the checker tests, each closed by the test's teardown.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';

export async function listen<S extends net.Server>(
  t: ExecutionContext,
  server: S,
  host = '127.0.0.1',
  beforeClose: () => void = () => {},
): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        beforeClose();
        if ('closeAllConnections' in server && typeof server.closeAllConnections === 'function') server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

export async function httpServer(t: ExecutionContext, handler: http.RequestListener, host = '127.0.0.1'): Promise<number> {
  return listen(t, http.createServer(handler), host);
}

/** A TCP server that accepts and then does what `onSocket` says (nothing: never answers). */
export async function rawServer(t: ExecutionContext, onSocket: (s: net.Socket) => void = () => {}): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    onSocket(s);
  });
  return listen(t, server, '127.0.0.1', () => {
    for (const s of sockets) s.destroy();
  });
}

/**
 * A self-signed certificate for CN=`cn` (with SAN), made by openssl for this test run.
 * Async: a blocked event loop would skew the timing of every other test in the file.
 */
export async function selfSigned(t: ExecutionContext, cn: string): Promise<{ key: Buffer; cert: Buffer }> {
  const dir = mkdtempSync(join(tmpdir(), 'vck-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`,
  ]);
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

export async function httpsServer(
  t: ExecutionContext,
  tlsOpts: { key: Buffer; cert: Buffer },
  handler: (req: http.IncomingMessage & { socket: import('node:tls').TLSSocket }, res: http.ServerResponse) => void,
): Promise<number> {
  return listen(t, https.createServer(tlsOpts, handler as http.RequestListener));
}

/** A UDP DNS responder; `answer` builds the reply to a query, or null to stay silent. */
export async function dnsServer(
  t: ExecutionContext,
  answer: (query: Buffer) => Buffer[] | null,
): Promise<{ port: number; queries: Buffer[] }> {
  const socket = dgram.createSocket('udp4');
  const queries: Buffer[] = [];
  socket.on('message', (msg, rinfo) => {
    queries.push(msg);
    for (const reply of answer(msg) ?? []) socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { port: socket.address().port, queries };
}

/** A DNS reply header for `query`: same id and question, QR set, given RCODE. */
export function dnsReply(query: Buffer, rcode: number, id = query.readUInt16BE(0)): Buffer {
  const r = Buffer.from(query);
  r.writeUInt16BE(id, 0);
  r.writeUInt16BE(0x8180 | rcode, 2);
  return r;
}

/** Open file descriptors of this process (the one readdir itself uses is not counted). */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length - 1;
}
