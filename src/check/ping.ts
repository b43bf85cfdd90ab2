/**
 * PING_CHECK: one attempt sends one ICMP (v4) or ICMPv6 echo request to the real server and
 * waits connect_timeout for the echo reply that carries its identifier and sequence number
 * (keepalived check_ping.c): that reply passes; silence fails with `timeout`; a destination
 * unreachable that quotes our request fails at once with `unreachable`.
 *
 * Where it runs: in the PING_CHECK process (workers/spawner.ts, src/check/spawner.ts), on its main thread. It needs
 * a raw socket, and raw-socket (the package DESIGN.md names) is a NAN addon that is not
 * context-aware and polls on uv_default_loop(): loaded in a worker thread it fails to
 * register or crashes the process (measured on Node 20: "Module did not self-register", then
 * SIGSEGV, exit 139). The checker pool's threads are workers, and the supervisor's main thread
 * is for netlink and the daemon's own work; the spawner's main thread is free, already
 * restarted when it dies, and already where the daemon sends tasks that cannot run in a pool.
 *
 * One raw socket per address family serves every ping in the process; replies are matched
 * to attempts by (source address, identifier, sequence). The identifier is random per
 * process, the sequence counts up, so two vigils on a host (or a ping(8)) do not mix.
 * Not carried: `bindto` (raw-socket cannot bind a socket) and `bind_if`/`fwmark` (no
 * checker carries them); targets.ts names them so the daemon warns once.
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { decodeAnswer, encodeEcho } from './icmp-packet.ts';
import { afterIo, errorMessage, fail, pass, type AttemptResult } from './result.ts';

export interface PingTask {
  readonly kind: 'ping';
  /** connect_ip, else the real server's address */
  readonly address: string;
  /** ms */
  readonly connectTimeoutMs: number;
}

/** The part of raw-socket used here (it ships no types). */
interface RawSocket {
  on(event: 'message', fn: (buf: Buffer, source: string) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  on(event: 'close', fn: () => void): void;
  send(buf: Buffer, offset: number, length: number, address: string, after: (err: Error | null, bytes: number) => void): void;
  close(): void;
}
interface RawSocketModule {
  createSocket(o: { protocol: number; addressFamily: number }): RawSocket;
  readonly AddressFamily: { readonly IPv4: number; readonly IPv6: number };
  readonly Protocol: { readonly ICMP: number; readonly ICMPv6: number };
}

let raw: RawSocketModule | undefined;
function rawSocket(): RawSocketModule {
  raw ??= createRequire(import.meta.url)('raw-socket') as RawSocketModule;
  return raw;
}

interface Waiter {
  readonly address: string;
  readonly done: (answer: 'reply' | 'unreachable') => void;
}

class Pinger {
  private socket: RawSocket | undefined;
  private readonly waiters = new Map<number, Waiter>();
  private readonly id = randomInt(0, 0x10000);
  private seq = randomInt(0, 0x10000);

  constructor(private readonly family: 4 | 6) {}

  /** Sends one echo; `done` is called for its answer, never after `cancel`. */
  send(address: string, onAnswer: Waiter['done'], onError: (err: Error) => void): () => void {
    const s = this.open();
    const seq = this.nextSeq();
    this.waiters.set(seq, { address, done: onAnswer });
    const pkt = encodeEcho(this.family, this.id, seq);
    s.send(pkt, 0, pkt.length, address, (err) => {
      if (err && this.waiters.delete(seq)) onError(err);
    });
    return () => {
      this.waiters.delete(seq);
      if (this.waiters.size === 0) this.close();
    };
  }

  private nextSeq(): number {
    // skip sequences still waited for (65,536 pings in flight would be needed to wrap onto one)
    do this.seq = (this.seq + 1) & 0xffff;
    while (this.waiters.has(this.seq));
    return this.seq;
  }

  private open(): RawSocket {
    if (this.socket) return this.socket;
    const r = rawSocket();
    const s =
      this.family === 4
        ? r.createSocket({ protocol: r.Protocol.ICMP, addressFamily: r.AddressFamily.IPv4 })
        : r.createSocket({ protocol: r.Protocol.ICMPv6, addressFamily: r.AddressFamily.IPv6 });
    s.on('message', (buf, source) => this.onMessage(buf, source));
    // raw-socket closes the socket after an error: the next ping opens a new one
    s.on('error', () => {
      if (this.socket === s) this.socket = undefined;
    });
    this.socket = s;
    return s;
  }

  /** The socket is closed when nothing waits, so an idle spawner holds no raw socket. */
  private close(): void {
    const s = this.socket;
    this.socket = undefined;
    try {
      s?.close();
    } catch {
      // already closed
    }
  }

  private onMessage(buf: Buffer, source: string): void {
    const a = decodeAnswer(this.family, buf);
    if (a === undefined || a.id !== this.id) return;
    const w = this.waiters.get(a.seq);
    if (w === undefined) return;
    // a reply must come from the address pinged; an unreachable comes from a router on the way
    if (a.kind === 'reply' && !sameAddress(source, w.address)) return;
    w.done(a.kind);
  }
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return ipaddr.parse(a).toNormalizedString() === ipaddr.parse(b).toNormalizedString();
  } catch {
    return false;
  }
}

const pingers = { 4: new Pinger(4), 6: new Pinger(6) };

export function pingAttempt(task: PingTask): Promise<AttemptResult> {
  const started = performance.now();
  const family = net.isIP(task.address);
  if (family === 0) return Promise.resolve(fail(started, 'bad-task', `address ${JSON.stringify(task.address)} is not an IP address`));
  if (!(task.connectTimeoutMs > 0)) return Promise.resolve(fail(started, 'bad-task', `connect_timeout ${task.connectTimeoutMs} ms is not positive`));
  return new Promise<AttemptResult>((resolve) => {
    let done = false;
    let cancelPing: () => void = () => undefined;
    const finish = (r: AttemptResult): void => {
      if (done) return;
      done = true;
      cancelTimer();
      cancelPing();
      resolve(r);
    };
    const cancelTimer = afterIo(task.connectTimeoutMs, () => finish(fail(started, 'timeout', `no echo reply within ${task.connectTimeoutMs} ms`)));
    try {
      cancelPing = pingers[family as 4 | 6].send(
        task.address,
        (answer) => finish(answer === 'reply' ? pass(started) : fail(started, 'unreachable', `${task.address} is unreachable`)),
        (err) => finish(fail(started, 'send-error', errorMessage(err))),
      );
    } catch (err) {
      // no raw socket: not root / no CAP_NET_RAW
      finish(fail(started, 'socket', errorMessage(err)));
    }
  });
}
