/**
 * One datagram out and the replies back, on a connected UDP socket: what DNS_CHECK and
 * UDP_CHECK share. Connected, so that an ICMP error for the datagram (port, host or net
 * unreachable) arrives as a socket error and ends the attempt at once.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Endpoint } from './endpoint.ts';
import { afterIo, errorMessage, fail, socketReason, type AttemptResult } from './result.ts';

export interface UdpExchange {
  readonly payload: Uint8Array;
  /** the verdict on a datagram received, or undefined to keep waiting */
  readonly onReply: (msg: Buffer) => AttemptResult | undefined;
  /** the verdict when connect_timeout passes */
  readonly onTimeout: () => AttemptResult;
}

/** Never throws; the socket is closed before the promise settles. */
export function udpExchange(e: Endpoint, x: UdpExchange): Promise<AttemptResult> {
  const started = performance.now();
  return new Promise<AttemptResult>((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(e.address) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (r: AttemptResult): void => {
      if (done) return;
      done = true;
      cancel();
      try {
        socket.close();
      } catch {
        // already closed
      }
      resolve(r);
    };
    const cancel = afterIo(e.connectTimeoutMs, () => finish(x.onTimeout()));
    socket.on('error', (err) => finish(fail(started, socketReason(err), errorMessage(err))));
    socket.on('message', (msg) => {
      const r = x.onReply(msg);
      if (r !== undefined) finish(r);
    });
    const connectAndSend = (): void => {
      socket.connect(e.port, e.address, (err?: Error) => {
        if (done) return;
        if (err) {
          finish(fail(started, socketReason(err), errorMessage(err)));
          return;
        }
        try {
          socket.send(x.payload, (sendErr) => {
            if (sendErr) finish(fail(started, socketReason(sendErr), errorMessage(sendErr)));
          });
        } catch (sendErr) {
          finish(fail(started, socketReason(sendErr), errorMessage(sendErr)));
        }
      });
    };
    try {
      if (e.bindTo !== undefined || e.bindPort !== undefined) {
        socket.bind({ port: e.bindPort ?? 0, ...(e.bindTo !== undefined ? { address: e.bindTo } : {}) }, connectAndSend);
      } else {
        connectAndSend();
      }
    } catch (err) {
      finish(fail(started, 'bad-address', errorMessage(err)));
    }
  });
}
