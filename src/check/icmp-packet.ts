/**
 * The ICMP messages PING_CHECK needs, pure: an echo request to encode and, from what a raw
 * socket reads, the echo reply or destination-unreachable error that answers one of ours.
 * IPv4: RFC 792 (a raw IPv4 socket reads the IP header too); IPv6: RFC 4443 (a raw ICMPv6
 * socket reads the ICMPv6 message alone, and the kernel fills in its checksum).
 */

/** RFC 792 / RFC 4443 */
const ECHO_REQUEST = { 4: 8, 6: 128 } as const;
const ECHO_REPLY = { 4: 0, 6: 129 } as const;
const DEST_UNREACH = { 4: 3, 6: 1 } as const;

/** bytes of data after the 8-byte echo header (keepalived check_ping.c sends 56, as ping(8)) */
export const ECHO_DATA_BYTES = 56;

/** RFC 1071 one's-complement sum, for IPv4 ICMP (the kernel does ICMPv6). */
export function inetChecksum(buf: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (buf.length % 2 === 1) sum += buf[buf.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function encodeEcho(family: 4 | 6, id: number, seq: number): Buffer {
  const b = Buffer.alloc(8 + ECHO_DATA_BYTES);
  b[0] = ECHO_REQUEST[family];
  b.writeUInt16BE(id & 0xffff, 4);
  b.writeUInt16BE(seq & 0xffff, 6);
  for (let i = 8; i < b.length; i++) b[i] = i & 0xff;
  if (family === 4) b.writeUInt16BE(inetChecksum(b), 2);
  return b;
}

export type IcmpAnswer =
  | { readonly kind: 'reply'; readonly id: number; readonly seq: number }
  | { readonly kind: 'unreachable'; readonly id: number; readonly seq: number; readonly code: number };

/** What a datagram read from the raw socket answers, or undefined when it answers no echo of ours. */
export function decodeAnswer(family: 4 | 6, datagram: Uint8Array): IcmpAnswer | undefined {
  let icmp = datagram;
  if (family === 4) {
    if (datagram.length < 20 || datagram[0]! >> 4 !== 4) return undefined;
    icmp = datagram.subarray((datagram[0]! & 0x0f) * 4);
  }
  if (icmp.length < 8) return undefined;
  const view = new DataView(icmp.buffer, icmp.byteOffset, icmp.byteLength);
  if (icmp[0] === ECHO_REPLY[family]) return { kind: 'reply', id: view.getUint16(4), seq: view.getUint16(6) };
  if (icmp[0] !== DEST_UNREACH[family]) return undefined;
  // the invoking packet follows the 8-byte header: its IP header, then our echo header
  const inner = icmp.subarray(8);
  let echo: Uint8Array;
  if (family === 4) {
    if (inner.length < 20 || inner[0]! >> 4 !== 4) return undefined;
    echo = inner.subarray((inner[0]! & 0x0f) * 4);
  } else echo = inner.subarray(40);
  if (echo.length < 8 || echo[0] !== ECHO_REQUEST[family]) return undefined;
  const ev = new DataView(echo.buffer, echo.byteOffset, echo.byteLength);
  return { kind: 'unreachable', id: ev.getUint16(4), seq: ev.getUint16(6), code: icmp[1]! };
}
