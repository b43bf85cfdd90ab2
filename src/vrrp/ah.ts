/**
 * VRRPv2 authenticated with IP AH (RFC 2402) as keepalived 2.2 puts it on the wire
 * (`auth_type AH`): IPv4 protocol 51, a 24-byte AH header, then the VRRPv2 message (auth
 * type 2, its 8 auth-data bytes zero). Pure: bytes in, value out (STYLE.md habit 1).
 *
 *   0  IPv4 header, 20 bytes: TOS 0xc0, id per advert, no fragment, TTL 255, protocol 51
 *   20 next header 112 | payload length 4 (32-bit words minus 2) | reserved 0
 *   24 SPI: the sender's IPv4 address
 *   28 sequence number
 *   32 ICV: HMAC-MD5 truncated to 96 bits (RFC 2403)
 *   44 the VRRPv2 message
 *
 * The ICV covers the IP header, the AH header with its ICV zeroed, and the VRRP message,
 * keyed with the 8-byte auth_pass (zero padded: HMAC pads a short key with zeros anyway).
 * Which IP fields are zeroed as mutable is keepalived's choice, not RFC 2402 §3.3.3.1.1.1's:
 * TOS, flags/fragment offset and checksum always; TTL only for unicast (a multicast advert's
 * TTL 255 is covered). test/fixtures/vrrp-ah/ holds adverts captured from keepalived.
 */
import type * as NodeCrypto from 'node:crypto';
import { createRequire } from 'node:module';
import { IPPROTO_VRRP, internetChecksum } from './checksum.ts';
import { VrrpCodecError, addrBytes, sameBytes, type Decoded, type DropReason } from './packet.ts';

// node's crypto loads with the first AH advert, not into every VRRP thread (see sameBytes)
const requireNode = createRequire(import.meta.url);
let createHmac: typeof NodeCrypto.createHmac | undefined;

/** IANA protocol number of AH (RFC 2402). */
export const IPPROTO_AH = 51;
/** bytes: next header, payload length, reserved, SPI, sequence number, 12-byte ICV */
export const AH_HEADER_LEN = 24;
/** bytes of HMAC-MD5 kept (HMAC-MD5-96, RFC 2403 §2) */
export const AH_ICV_LEN = 12;
/** RFC 2402 §2.2: the AH length in 32-bit words minus 2 (6 words with a 96-bit ICV) */
export const AH_PAYLOAD_LEN = 4;
/** the IPv4 header vigil writes (no options) */
const IP_HEADER_LEN = 20;
const ICV_AT = 12;
/** keepalived treats the counter as cycled from here on (0xFFFFFFFD, ~136 years of 1 s adverts) */
const SEQ_LAST = 0xfffffffd;

/** The HMAC key: keepalived keys with the 8-byte auth data field, the password zero padded. */
export function ahKey(pass: string): Buffer {
  const k = Buffer.alloc(8);
  Buffer.from(pass, 'utf8').copy(k, 0, 0, 8);
  return k;
}

function icv(key: Buffer, ip: Buffer, ah: Buffer, vrrp: Buffer, unicast: boolean): Buffer {
  const h = Buffer.from(ip);
  h[1] = 0; // TOS
  h.writeUInt16BE(0, 6); // flags, fragment offset
  h.writeUInt16BE(0, 10); // header checksum
  if (unicast) h[8] = 0; // TTL
  const a = Buffer.from(ah);
  a.fill(0, ICV_AT, ICV_AT + AH_ICV_LEN);
  createHmac ??= (requireNode('node:crypto') as typeof NodeCrypto).createHmac;
  return createHmac('md5', key).update(h).update(a).update(vrrp).digest().subarray(0, AH_ICV_LEN);
}

export interface AhSendFields {
  src: string;
  dst: string;
  /** IPv4 identification, 1..65535 (0 would be rewritten by the kernel after the ICV is made) */
  id: number;
  seq: number;
  key: Buffer;
  unicast: boolean;
}

/**
 * The whole IPv4 packet for an IP_HDRINCL raw socket of protocol 51. Throws VrrpCodecError
 * only on values vigil built itself (addresses not IPv4).
 */
export function encodeAhPacket(vrrp: Buffer, f: AhSendFields): Buffer {
  const src = addrBytes(f.src, 4);
  const dst = addrBytes(f.dst, 4);
  if (!src || !dst) throw new VrrpCodecError(`AH: src ${f.src} / dst ${f.dst} not IPv4 addresses`);
  const pkt = Buffer.alloc(IP_HEADER_LEN + AH_HEADER_LEN + vrrp.length);
  pkt[0] = 0x45;
  pkt[1] = 0xc0; // internetwork control, as keepalived
  pkt.writeUInt16BE(pkt.length, 2);
  pkt.writeUInt16BE(f.id & 0xffff, 4);
  pkt[8] = 255; // RFC 3768 §5.2.3
  pkt[9] = IPPROTO_AH;
  pkt.set(src, 12);
  pkt.set(dst, 16);
  const ah = pkt.subarray(IP_HEADER_LEN, IP_HEADER_LEN + AH_HEADER_LEN);
  ah[0] = IPPROTO_VRRP;
  ah[1] = AH_PAYLOAD_LEN;
  ah.set(src, 4); // SPI: keepalived's choice, the sender's address
  ah.writeUInt32BE(f.seq >>> 0, 8);
  vrrp.copy(pkt, IP_HEADER_LEN + AH_HEADER_LEN);
  icv(f.key, pkt.subarray(0, IP_HEADER_LEN), ah, vrrp, f.unicast).copy(ah, ICV_AT);
  // The kernel fills the checksum of an IP_HDRINCL packet anyway; written here so the bytes are the wire's.
  pkt.writeUInt16BE(internetChecksum(pkt.subarray(0, IP_HEADER_LEN)), 10);
  return pkt;
}

export interface AhVerified {
  seq: number;
  /** the VRRP message after the AH header (a view into the input) */
  vrrp: Buffer;
}

function bad(reason: DropReason, detail: string): Decoded<AhVerified> {
  return { ok: false, reason, detail };
}

/**
 * Checks a whole received IPv4 packet of protocol 51 (header already checked by the socket
 * layer): AH header shape, ICV under `key`, SPI equal to the source address. The sequence
 * number is the caller's to check (AhSequence), as it is per instance.
 */
export function verifyAhPacket(pkt: Buffer, key: Buffer, unicast: boolean): Decoded<AhVerified> {
  if (pkt.length < IP_HEADER_LEN) return bad('too-short', `${pkt.length} bytes; an IPv4 header is at least 20`);
  const ihl = ((pkt[0] as number) & 0x0f) * 4;
  if (ihl < IP_HEADER_LEN) return bad('ip-header', `IHL ${ihl} bytes`);
  if (pkt.length < ihl + AH_HEADER_LEN) return bad('too-short', `${pkt.length} bytes; IP header ${ihl} and AH ${AH_HEADER_LEN}`);
  if (pkt[9] !== IPPROTO_AH) return bad('protocol', `IP protocol ${String(pkt[9])}; expected ${IPPROTO_AH}`);
  const ah = pkt.subarray(ihl, ihl + AH_HEADER_LEN);
  // keepalived drops AH for another protocol without counting it as an error.
  if (ah[0] !== IPPROTO_VRRP) return bad('ah-header', `AH next header ${String(ah[0])}; expected ${IPPROTO_VRRP}`);
  if (ah[1] !== AH_PAYLOAD_LEN) return bad('ah-header', `AH payload length ${String(ah[1])}; HMAC-MD5-96 needs ${AH_PAYLOAD_LEN}`);
  const vrrp = pkt.subarray(ihl + AH_HEADER_LEN);
  const want = icv(key, pkt.subarray(0, ihl), ah, vrrp, unicast);
  if (!sameBytes(want, ah.subarray(ICV_AT, ICV_AT + AH_ICV_LEN))) return bad('auth', 'AH HMAC-MD5 mismatch (wrong auth_pass, or altered in transit)');
  if (!ah.subarray(4, 8).equals(pkt.subarray(12, 16))) return bad('auth', 'AH SPI is not the source address');
  return { ok: true, value: { seq: ah.readUInt32BE(8), vrrp } };
}

/**
 * An instance's AH sequence counter, keepalived's anti-replay: one number both sent and
 * received. A verified advert is accepted only with a number above it and then becomes it;
 * each advert sent takes the next one. So a router that was backup continues above its
 * master's numbers when it takes over, and a returning master that preempts is heard.
 */
export class AhSequence {
  /** last number sent or accepted */
  private seq = 0;
  /** the counter ran out (SEQ_LAST): it restarts at 0 on becoming master */
  private cycled = false;

  /** The number for the next advert (once per advert, however many unicast peers it goes to). */
  next(): number {
    if (this.seq > SEQ_LAST) this.cycled = true;
    else this.seq++;
    return this.seq;
  }

  /** A verified advert's number: false if it is not above the counter (a replay, or a peer behind us). */
  accept(seq: number): boolean {
    if (seq <= this.seq) return false;
    this.seq = seq;
    this.cycled = false;
    return true;
  }

  /**
   * As master, an accepted advert of lower priority: keepalived moves past its number so the
   * other router hears our next one ("IPSEC-AH : Syncing seq_num").
   */
  syncPast(seq: number): void {
    this.seq = Math.min(seq + 1, 0xffffffff);
    this.cycled = false;
  }

  /** Becoming master: a counter that ran out starts again (keepalived vrrp_state_goto_master). */
  becomeMaster(): void {
    if (!this.cycled) return;
    this.cycled = false;
    this.seq = 0;
  }

  get current(): number {
    return this.seq;
  }
}
