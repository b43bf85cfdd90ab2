/**
 * DNS_CHECK: one attempt sends one recursive query over UDP to the server and waits up to
 * connect_timeout for a response with the same id (keepalived check_dns.c): RCODE 0 passes,
 * any other RCODE fails, a datagram with another id, or that is not a response, is ignored.
 * The socket is connected, so an ICMP port unreachable fails the attempt at once.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import type { Endpoint } from './endpoint.ts';
import { dnsTypeCode, encodeQuery, judgeResponse } from './dns-packet.ts';
import { afterIo, errorMessage, fail, pass, socketReason, type AttemptResult } from './result.ts';

export interface DnsTask extends Endpoint {
  readonly kind: 'dns';
  /** A, NS, CNAME, SOA, MX, TXT, AAAA, RRSIG, DNSKEY */
  readonly queryType: string;
  /** the name queried; "." is the root */
  readonly name: string;
}

/** RCODE names, RFC 1035 §4.1.1 */
const RCODES: readonly string[] = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export function dnsAttempt(task: DnsTask): Promise<AttemptResult> {
  const started = performance.now();
  const type = dnsTypeCode(task.queryType);
  if (type === undefined) return Promise.resolve(fail(started, 'bad-type', `unknown DNS type ${task.queryType}`));
  const id = randomInt(0, 0x10000);
  const query = encodeQuery(id, task.name, type);
  if (!query.ok) return Promise.resolve(fail(started, 'bad-name', query.detail));

  return new Promise<AttemptResult>((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(task.address) ? 'udp6' : 'udp4');
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
    const cancel = afterIo(task.connectTimeoutMs, () => finish(fail(started, 'timeout', `no response within ${task.connectTimeoutMs} ms`)));
    socket.on('error', (err) => finish(fail(started, socketReason(err), errorMessage(err))));
    socket.on('message', (msg) => {
      const v = judgeResponse(msg, id);
      if (v.verdict === 'pass') finish(pass(started));
      else if (v.verdict === 'fail') {
        const name = RCODES[v.rcode] ?? String(v.rcode);
        finish(fail(started, `rcode ${name}`, `server answered ${task.queryType} ${task.name} with ${name}`));
      }
    });
    const connectAndSend = (): void => {
      socket.connect(task.port, task.address, (err?: Error) => {
        if (done) return;
        if (err) {
          finish(fail(started, socketReason(err), errorMessage(err)));
          return;
        }
        try {
          socket.send(query.value, (sendErr) => {
            if (sendErr) finish(fail(started, socketReason(sendErr), errorMessage(sendErr)));
          });
        } catch (sendErr) {
          finish(fail(started, socketReason(sendErr), errorMessage(sendErr)));
        }
      });
    };
    try {
      if (task.bindTo !== undefined || task.bindPort !== undefined) {
        socket.bind({ port: task.bindPort ?? 0, ...(task.bindTo !== undefined ? { address: task.bindTo } : {}) }, connectAndSend);
      } else {
        connectAndSend();
      }
    } catch (err) {
      finish(fail(started, 'bad-address', errorMessage(err)));
    }
  });
}
