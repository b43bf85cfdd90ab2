/**
 * Pure encoders and decoders for the kernel's socket structures and for the IPv4 header the
 * kernel hands a raw IPv4 socket. Bytes in, value out: no sockets here (STYLE.md habit 1).
 *
 * Native structures are laid out for Linux on little-endian 64-bit hosts (x86_64, aarch64):
 * host-order fields are written little-endian, network-order fields big-endian.
 */
import ipaddr from 'ipaddr.js';

/** 6 MAC bytes → `00:00:5e:00:01:33`. */
export function macText(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** `00:00:5e:00:01:33` → its bytes (the inverse of macText). */
export function macBytes(text: string): Buffer {
  return Buffer.from(text.split(':').map((h) => parseInt(h, 16)));
}

/** IPv4/IPv6 literal → network-order bytes, or undefined if it is not one of `family`. */
export function addrBytes(addr: string, family: 4 | 6): Buffer | undefined {
  const bare = family === 6 ? addr.replace(/%.*$/, '') : addr;
  if (family === 4 ? !ipaddr.IPv4.isValidFourPartDecimal(bare) : !ipaddr.IPv6.isValid(bare)) return undefined;
  return Buffer.from(ipaddr.parse(bare).toByteArray());
}

/** network-order bytes → canonical text (ipaddr.js toString, as the config model uses). */
export function addrText(bytes: Uint8Array): string {
  return ipaddr.fromByteArray(Array.from(bytes)).toString();
}

/** struct sockaddr_in (16 bytes): family, port 0, address. */
export function sockaddrIn(addr: Buffer): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(2, 0);
  addr.copy(b, 4, 0, 4);
  return b;
}

/** struct sockaddr_in6 (28 bytes): family, port 0, flowinfo 0, address, scope id. */
export function sockaddrIn6(addr: Buffer, scopeId: number): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16LE(10, 0);
  addr.copy(b, 8, 0, 16);
  b.writeUInt32LE(scopeId, 24);
  return b;
}

/** struct sockaddr_ll (20 bytes). `protocol` is the ethertype, stored in network order. */
export function sockaddrLl(ifindex: number, protocol: number, mac?: Buffer): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16LE(17, 0);
  b.writeUInt16BE(protocol, 2);
  b.writeInt32LE(ifindex, 4);
  b.writeUInt16LE(1, 8); // ARPHRD_ETHER
  if (mac) {
    b.writeUInt8(mac.length, 11);
    mac.copy(b, 12, 0, Math.min(mac.length, 8));
  }
  return b;
}

/** struct ip_mreqn (12 bytes): group, local address (0 = any), ifindex. */
export function ipMreqn(group: Buffer | undefined, local: Buffer | undefined, ifindex: number): Buffer {
  const b = Buffer.alloc(12);
  group?.copy(b, 0, 0, 4);
  local?.copy(b, 4, 0, 4);
  b.writeInt32LE(ifindex, 8);
  return b;
}

/** struct ipv6_mreq (20 bytes): group, ifindex. */
export function ipv6Mreq(group: Buffer, ifindex: number): Buffer {
  const b = Buffer.alloc(20);
  group.copy(b, 0, 0, 16);
  b.writeUInt32LE(ifindex, 16);
  return b;
}

/** struct in6_pktinfo (20 bytes): address, ifindex. As a sticky option it fixes the source. */
export function in6Pktinfo(addr: Buffer, ifindex: number): Buffer {
  const b = Buffer.alloc(20);
  addr.copy(b, 0, 0, 16);
  b.writeInt32LE(ifindex, 16);
  return b;
}

/** The source address of a received datagram, from the sockaddr recvmsg() filled in. */
export function parseSockaddr(name: Uint8Array): string | undefined {
  const b = Buffer.from(name.buffer, name.byteOffset, name.byteLength);
  if (b.length >= 8 && b.readUInt16LE(0) === 2) return addrText(b.subarray(4, 8));
  if (b.length >= 24 && b.readUInt16LE(0) === 10) return addrText(b.subarray(8, 24));
  return undefined;
}

/** What the IPv6 ancillary data of one datagram says. */
export interface Ipv6Ancillary {
  hopLimit?: number;
  dst?: string;
  ifindex?: number;
}

const CMSG_HDR = 16; // struct cmsghdr on 64-bit: size_t len, int level, int type
const IPPROTO_IPV6 = 41;
const IPV6_PKTINFO = 50;
const IPV6_HOPLIMIT = 52;

/**
 * Walks the control buffer of recvmsg() (CMSG_FIRSTHDR/CMSG_NXTHDR, 8-byte alignment) and
 * picks IPV6_HOPLIMIT and IPV6_PKTINFO. Malformed lengths end the walk; nothing throws.
 */
export function parseIpv6Cmsgs(control: Uint8Array): Ipv6Ancillary {
  const b = Buffer.from(control.buffer, control.byteOffset, control.byteLength);
  const out: Ipv6Ancillary = {};
  let off = 0;
  while (off + CMSG_HDR <= b.length) {
    const len = Number(b.readBigUInt64LE(off));
    if (len < CMSG_HDR || off + len > b.length) break;
    const level = b.readInt32LE(off + 8);
    const type = b.readInt32LE(off + 12);
    const data = off + CMSG_HDR;
    if (level === IPPROTO_IPV6 && type === IPV6_HOPLIMIT && len >= CMSG_HDR + 4) out.hopLimit = b.readInt32LE(data);
    if (level === IPPROTO_IPV6 && type === IPV6_PKTINFO && len >= CMSG_HDR + 20) {
      out.dst = addrText(b.subarray(data, data + 16));
      out.ifindex = b.readInt32LE(data + 16);
    }
    off += (len + 7) & ~7;
  }
  return out;
}

/** Why an IPv4 datagram from the raw socket was not delivered; each is a metric label. */
export type Ipv4DropReason = 'ip-short' | 'ip-version' | 'ip-header-length' | 'ip-total-length' | 'ip-protocol';

export interface Ipv4Packet {
  readonly src: string;
  readonly dst: string;
  readonly ttl: number;
  readonly tos: number;
  /** The IP payload (the VRRP message), a view into the input. */
  readonly payload: Buffer;
}

export type Ipv4Parsed =
  | { readonly ok: true; readonly packet: Ipv4Packet }
  | { readonly ok: false; readonly reason: Ipv4DropReason; readonly detail: string };

function bad(reason: Ipv4DropReason, detail: string): Ipv4Parsed {
  return { ok: false, reason, detail };
}

/**
 * A raw IPv4 socket delivers the datagram with its IP header (raw(7)). The kernel has
 * already checked the header checksum and reassembled fragments; this checks what a
 * hostile or truncated datagram could still get wrong, and strips the header (and its
 * options: IHL may exceed 5). RFC 791 §3.1.
 */
export function parseIpv4(buf: Buffer, protocol = 112): Ipv4Parsed {
  if (buf.length < 20) return bad('ip-short', `datagram is ${buf.length} bytes; an IPv4 header needs 20`);
  const vihl = buf.readUInt8(0);
  if (vihl >> 4 !== 4) return bad('ip-version', `IP version is ${vihl >> 4}; expected 4`);
  const hlen = (vihl & 0x0f) * 4;
  if (hlen < 20 || hlen > buf.length) return bad('ip-header-length', `IHL gives ${hlen} bytes of header in a ${buf.length}-byte datagram`);
  const total = buf.readUInt16BE(2);
  if (total < hlen || total > buf.length) return bad('ip-total-length', `total length ${total} does not fit header ${hlen} and datagram ${buf.length}`);
  const proto = buf.readUInt8(9);
  if (proto !== protocol) return bad('ip-protocol', `protocol is ${proto}; expected ${protocol}`);
  return {
    ok: true,
    packet: {
      src: addrText(buf.subarray(12, 16)),
      dst: addrText(buf.subarray(16, 20)),
      ttl: buf.readUInt8(8),
      tos: buf.readUInt8(1),
      payload: buf.subarray(hlen, total),
    },
  };
}
