/**
 * Pure builders of the frames a new master sends for its virtual addresses (FRR's
 * vrrp_arp.c / vrrp_ndisc.c split). Whole Ethernet frames, sent as they are over AF_PACKET
 * by src/io/garp.ts.
 *
 * Gratuitous ARP: an ARP request with sender IP = target IP = the VIP, broadcast, from the
 * interface's MAC, target hardware address ff:ff:ff:ff:ff:ff — exactly keepalived 2.2.7's
 * frame (../shared/vectors/vrrpv2_garp.frame.hex; RFC 5227 §3 calls it an ARP
 * Announcement). 42 bytes: the NIC pads to the 60-byte minimum, as keepalived's is.
 *
 * Unsolicited neighbour advertisement: RFC 4861 §7.2.6, as keepalived 2.2.7 builds it
 * (vrrp_ndisc.c): to ff02::1 (33:33:00:00:00:01) from the VIP itself, hop limit 255,
 * Override set, Solicited clear, Router set when the interface forwards, target = VIP and
 * a Target Link-Layer Address option with the MAC.
 */
import ipaddr from 'ipaddr.js';

const ETH_HLEN = 14;
const BROADCAST = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

function ethernet(dst: Buffer, src: Buffer, type: number, payloadLen: number): Buffer {
  const f = Buffer.alloc(ETH_HLEN + payloadLen);
  dst.copy(f, 0);
  src.copy(f, 6);
  f.writeUInt16BE(type, 12);
  return f;
}

function assertMac(mac: Buffer): void {
  if (mac.length !== 6) throw new RangeError(`MAC address must be 6 bytes, got ${mac.length}`);
}

/** 4 network-order bytes of a dotted-quad IPv4 address; RangeError if it is not one. */
export function ipv4Bytes(addr: string): Buffer {
  if (!ipaddr.IPv4.isValidFourPartDecimal(addr)) throw new RangeError(`not an IPv4 address: ${addr}`);
  return Buffer.from(ipaddr.IPv4.parse(addr).toByteArray());
}

/** 16 network-order bytes of an IPv6 address (no zone); RangeError if it is not one. */
export function ipv6Bytes(addr: string): Buffer {
  if (!ipaddr.IPv6.isValid(addr) || addr.includes('%')) throw new RangeError(`not an IPv6 address: ${addr}`);
  return Buffer.from(ipaddr.IPv6.parse(addr).toByteArray());
}

/** The gratuitous ARP request for `vip` from `mac` (RFC 826 layout, op 1). 42 bytes. */
export function buildGarpFrame(mac: Buffer, vip: string): Buffer {
  assertMac(mac);
  const ip = ipv4Bytes(vip);
  const f = ethernet(BROADCAST, mac, 0x0806, 28);
  const a = ETH_HLEN;
  f.writeUInt16BE(1, a + 0); // hardware type: Ethernet
  f.writeUInt16BE(0x0800, a + 2); // protocol type: IPv4
  f.writeUInt8(6, a + 4); // hardware address length
  f.writeUInt8(4, a + 5); // protocol address length
  f.writeUInt16BE(1, a + 6); // op: request
  mac.copy(f, a + 8); // sender hardware address
  ip.copy(f, a + 14); // sender protocol address
  BROADCAST.copy(f, a + 18); // target hardware address (keepalived: broadcast)
  ip.copy(f, a + 24); // target protocol address
  return f;
}

/** RFC 1071 one's-complement sum of `parts`, folded to 16 bits, not yet inverted. */
function onesSum(parts: readonly Buffer[]): number {
  let sum = 0;
  for (const p of parts) {
    for (let i = 0; i + 1 < p.length; i += 2) sum += p.readUInt16BE(i);
    if (p.length % 2 === 1) sum += (p[p.length - 1] ?? 0) << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** ICMPv6 checksum (RFC 4443 §2.3) over the RFC 8200 §8.1 pseudo-header and `icmp`. */
export function icmpv6Checksum(src: Buffer, dst: Buffer, icmp: Buffer): number {
  const pseudo = Buffer.alloc(40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 16);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo.writeUInt8(58, 39);
  return ~onesSum([pseudo, icmp]) & 0xffff;
}

const ALL_NODES = ipv6Bytes('ff02::1');
const ALL_NODES_MAC = Buffer.from([0x33, 0x33, 0x00, 0x00, 0x00, 0x01]); // RFC 2464 §7

export interface NaOptions {
  /** Set the Router flag (keepalived sets it when the interface forwards IPv6). */
  router?: boolean;
}

/** The unsolicited neighbour advertisement for `vip6` from `mac`. 86 bytes. */
export function buildUnsolicitedNaFrame(mac: Buffer, vip6: string, opts: NaOptions = {}): Buffer {
  assertMac(mac);
  const target = ipv6Bytes(vip6);
  const icmp = Buffer.alloc(32);
  icmp.writeUInt8(136, 0); // type: Neighbor Advertisement
  icmp.writeUInt8(0, 1); // code
  icmp.writeUInt8((opts.router ? 0x80 : 0) | 0x20, 4); // flags R S O: R as asked, S=0, O=1
  target.copy(icmp, 8);
  icmp.writeUInt8(2, 24); // option: Target Link-Layer Address
  icmp.writeUInt8(1, 25); // length in units of 8 bytes
  mac.copy(icmp, 26);
  icmp.writeUInt16BE(icmpv6Checksum(target, ALL_NODES, icmp), 2);

  const f = ethernet(ALL_NODES_MAC, mac, 0x86dd, 40 + icmp.length);
  const h = ETH_HLEN;
  f.writeUInt32BE(0x60000000, h); // version 6, traffic class 0, flow label 0
  f.writeUInt16BE(icmp.length, h + 4); // payload length
  f.writeUInt8(58, h + 6); // next header: ICMPv6
  f.writeUInt8(255, h + 7); // hop limit: RFC 4861 §7.1.2 requires 255
  target.copy(f, h + 8); // source: the VIP
  ALL_NODES.copy(f, h + 24);
  icmp.copy(f, h + 40);
  return f;
}
