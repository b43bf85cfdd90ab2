/**
 * The two DNS messages DNS_CHECK needs, pure: a query to encode and a response header to
 * judge. RFC 1035 §4.1.1 (header) and §4.1.2 (question); types from keepalived check_dns.c.
 */

/** RFC 1035 §3.2.2, RFC 3596 (AAAA), RFC 4034 (RRSIG, DNSKEY) */
export const DNS_TYPES: Readonly<Record<string, number>> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  RRSIG: 46,
  DNSKEY: 48,
};

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string; detail: string };

const bad = <T>(reason: string, detail: string): Decoded<T> => ({ ok: false, reason, detail });

export function dnsTypeCode(name: string): number | undefined {
  return DNS_TYPES[name.toUpperCase()];
}

/**
 * A recursive (RD) query for one name and type, class IN.
 * `name` "." or "" is the root; a trailing dot is allowed. Labels are at most 63 bytes and
 * the encoded name at most 255 (RFC 1035 §2.3.4).
 */
export function encodeQuery(id: number, name: string, type: number): Decoded<Buffer> {
  const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  let nameLen = 1;
  for (const label of labels) {
    const b = Buffer.from(label, 'ascii');
    if (b.length === 0) return bad('name', `empty label in ${JSON.stringify(name)}`);
    if (b.length > 63) return bad('name', `label ${JSON.stringify(label)} is ${b.length} bytes; at most 63`);
    nameLen += 1 + b.length;
    parts.push(Buffer.from([b.length]), b);
  }
  if (nameLen > 255) return bad('name', `name is ${nameLen} bytes encoded; at most 255`);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  const tail = Buffer.alloc(5);
  tail.writeUInt8(0, 0); // root label
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(1, 3); // class IN
  return { ok: true, value: Buffer.concat([header, ...parts, tail]) };
}

export interface DnsResponseHeader {
  readonly id: number;
  readonly qr: boolean;
  readonly rcode: number;
}

/** The 12-byte header of a received message. */
export function decodeHeader(buf: Uint8Array): Decoded<DnsResponseHeader> {
  if (buf.length < 12) return bad('short', `message is ${buf.length} bytes; a header is 12`);
  const id = (buf[0]! << 8) | buf[1]!;
  const flags = (buf[2]! << 8) | buf[3]!;
  return { ok: true, value: { id, qr: (flags & 0x8000) !== 0, rcode: flags & 0x000f } };
}

/**
 * What a received datagram means for a pending query (keepalived dns_recv_thread):
 * `ignore` a runt, another id or a query — keep waiting; `fail` on a non-zero RCODE;
 * `pass` on a response with RCODE 0.
 */
export function judgeResponse(buf: Uint8Array, id: number): { verdict: 'pass' } | { verdict: 'fail'; rcode: number } | { verdict: 'ignore'; reason: string } {
  const h = decodeHeader(buf);
  if (!h.ok) return { verdict: 'ignore', reason: h.reason };
  if (h.value.id !== id) return { verdict: 'ignore', reason: 'id' };
  if (!h.value.qr) return { verdict: 'ignore', reason: 'not-response' };
  if (h.value.rcode !== 0) return { verdict: 'fail', rcode: h.value.rcode };
  return { verdict: 'pass' };
}
