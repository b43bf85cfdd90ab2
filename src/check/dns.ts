/**
 * DNS_CHECK: one attempt sends one recursive query over UDP to the server and waits up to
 * connect_timeout for a response with the same id (keepalived check_dns.c): RCODE 0 passes,
 * any other RCODE fails, a datagram with another id, or that is not a response, is ignored.
 * The socket is connected, so an ICMP port unreachable fails the attempt at once.
 */
import { randomInt } from 'node:crypto';
import type { Endpoint } from './endpoint.ts';
import { dnsTypeCode, encodeQuery, judgeResponse } from './dns-packet.ts';
import { fail, pass, type AttemptResult } from './result.ts';
import { udpExchange } from './udp-exchange.ts';

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

  return udpExchange(task, {
    payload: query.value,
    onReply: (msg) => {
      const v = judgeResponse(msg, id);
      if (v.verdict === 'pass') return pass(started);
      if (v.verdict === 'fail') {
        const name = RCODES[v.rcode] ?? String(v.rcode);
        return fail(started, `rcode ${name}`, `server answered ${task.queryType} ${task.name} with ${name}`);
      }
      return undefined;
    },
    onTimeout: () => fail(started, 'timeout', `no response within ${task.connectTimeoutMs} ms`),
  });
}
