/**
 * VRRP advertisement codec: VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798), IPv4 and IPv6.
 *
 * Pure: bytes in, value out. Decoders never throw; they return a `DropReason` (a metric
 * label) and a human detail. Encoders take values vigil itself built and throw a coded
 * `VrrpCodecError` only on a programming error (e.g. VRRPv2 over IPv6).
 *
 * Wire layouts (all big-endian):
 *
 *   v2 (RFC 3768 §5.1)                      v3 (RFC 5798 §5.1)
 *   0  version(4) type(4)                   0  version(4) type(4)
 *   1  VRID                                 1  VRID
 *   2  priority                             2  priority
 *   3  count IP addrs                       3  count IPvX addrs
 *   4  auth type                            4  rsvd(4) max advert int(12), centiseconds
 *   5  advert int, seconds                  5
 *   6  checksum                             6  checksum (with pseudo-header)
 *   8  IPv4 addresses (4 bytes each)        8  IPv4 (4 bytes) or IPv6 (16 bytes) addresses
 *   …  auth data, 8 bytes
 *
 * The IP header is the kernel's on send; on receive an IPv4 raw socket hands us the whole
 * IPv4 packet (decodeIpv4Packet), an IPv6 raw socket only the payload (hop limit and
 * destination then come from ancillary data, IPV6_HOPLIMIT / IPV6_PKTINFO).
 */
import ipaddr from 'ipaddr.js';
import { IPPROTO_VRRP, internetChecksum, ipv4PseudoHeader, ipv6PseudoHeader, vrrpChecksum } from './checksum.ts';

/**
 * Whether `a` and `b` hold the same bytes, in a time that does not depend on where they
 * differ (crypto.timingSafeEqual's promise, without loading node's crypto into the VRRP
 * thread for an 8-byte password: 17 modules, 0.2 MB of heap and ~6 ms on its way to the
 * first advert on this host).
 */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export interface Advert {
  version: 2 | 3;
  vrid: number;
  priority: number;
  /** ms; v2: whole seconds on the wire, v3: centiseconds */
  advertIntMs: number;
  addresses: readonly string[];
  /** 0 none, 1 simple text password (v2 PASS), 2 IP AH (v2 only; the AH header itself is ah.ts's) */
  authType: 0 | 1 | 2;
  /** v2 PASS, ≤8 bytes */
  authData?: string;
}

/** Whether two adverts encode to the same bytes (for the same source and destination). */
export function sameAdvert(a: Advert, b: Advert): boolean {
  if (
    a.version !== b.version ||
    a.vrid !== b.vrid ||
    a.priority !== b.priority ||
    a.advertIntMs !== b.advertIntMs ||
    a.authType !== b.authType ||
    a.authData !== b.authData
  ) {
    return false;
  }
  if (a.addresses === b.addresses) return true;
  if (a.addresses.length !== b.addresses.length) return false;
  for (let i = 0; i < a.addresses.length; i++) if (a.addresses[i] !== b.addresses[i]) return false;
  return true;
}

/** Every reason a packet is dropped; each is a metric label (vrrp_dropped_total{reason}). */
export const DROP_REASONS = [
  /** fewer bytes than the fixed header */
  'too-short',
  /** IPv4 header malformed: version not 4, IHL < 5 or beyond the buffer, total length < IHL */
  'ip-header',
  /** IPv4 header checksum wrong */
  'ip-checksum',
  /** a fragment (the kernel reassembles before raw delivery, so only hostile input) */
  'fragment',
  /** IPv4 protocol is not 112 (or, on an AH instance's socket, not 51) */
  'protocol',
  /** TTL / hop limit not 255 (RFC 3768 §7.1, RFC 5798 §7.1); unicast: outside the peer's min_ttl..max_ttl */
  'ttl',
  /** check_unicast_src: a unicast advert from an address that is not a unicast_peer */
  'unicast-src',
  /** length does not match the address count, or the IP total length does not match */
  'length',
  /** version not 2 or 3, not the instance's version, or v2 over IPv6 */
  'version',
  /** type not 1 (ADVERTISEMENT) */
  'type',
  /** VRRP checksum wrong (v3: with the pseudo-header) */
  'checksum',
  /** VRID 0 or not the instance's */
  'vrid',
  /** address count differs from the instance's number of VIPs */
  'addr-count',
  /** an address of the instance is missing from the advert */
  'addr-list',
  /** v2: advert interval differs from ours; any: interval 0 */
  'advert-int',
  /** unknown auth type, or not the one configured */
  'auth-type',
  /** v2 PASS: password differs; AH: HMAC-MD5 or SPI wrong (ah.ts) */
  'auth',
  /** AH: next header not VRRP, or a payload length other than HMAC-MD5-96's (ah.ts) */
  'ah-header',
  /** AH: sequence number not above the instance's counter (a replay; ah.ts AhSequence) */
  'ah-replay',
  /** ctx family not 4/6, or src/dst not addresses of that family */
  'family',
  /** multicast packet on a unicast instance or the reverse (keepalived does the same check) */
  'cast',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: DropReason; detail: string };

/** Thrown only for values vigil built itself that cannot be encoded (a bug, not input). */
export class VrrpCodecError extends Error {
  readonly code = 'VRRP_ENCODE_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'VrrpCodecError';
  }
}

/** RFC 3768 §5.3.1 / RFC 5798 §5.2.1 */
export const VRRP_TYPE_ADVERTISEMENT = 1;
/** RFC 3768 §5.2.3 / RFC 5798 §5.1.1.3: TTL / hop limit on send and required on receive */
export const VRRP_TTL = 255;
/** RFC 3768 §5.3.10: authentication data is 8 bytes */
export const VRRP_AUTH_LEN = 8;
/** bytes before the address list */
export const VRRP_HEADER_LEN = 8;
/** RFC 5798 §5.2.7: 12-bit field, centiseconds */
export const V3_MAX_ADVERT_CS = 0x0fff;

function bad<T>(reason: DropReason, detail: string): Decoded<T> {
  return { ok: false, reason, detail };
}

/** Parse a textual address strictly in the given family; undefined if it is not one. */
export function addrBytes(addr: string, family: 4 | 6): Uint8Array | undefined {
  if (family === 4) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(addr)) return undefined;
    return Uint8Array.from(ipaddr.IPv4.parse(addr).toByteArray());
  }
  if (!ipaddr.IPv6.isValid(addr)) return undefined;
  const a = ipaddr.IPv6.parse(addr);
  return Uint8Array.from(a.toByteArray());
}

/** Canonical text (ipaddr.js `toString()`, as config/model.ts stores addresses). */
export function addrText(bytes: Uint8Array): string {
  return ipaddr.fromByteArray(Array.from(bytes)).toString();
}

function isMulticast(bytes: Uint8Array, family: 4 | 6): boolean {
  const first = bytes[0] as number;
  return family === 4 ? (first & 0xf0) === 0xe0 : first === 0xff;
}

/** Encode the VRRP message (no IP header). */
export function encodeAdvert(a: Advert, ctx: { family: 4 | 6; src: string; dst: string }): Buffer {
  const alen = ctx.family === 4 ? 4 : 16;
  if (a.version === 2 && ctx.family !== 4) throw new VrrpCodecError('VRRPv2 is IPv4 only (RFC 3768)');
  if (!Number.isInteger(a.vrid) || a.vrid < 1 || a.vrid > 255) throw new VrrpCodecError(`VRID ${a.vrid} not in 1..255`);
  if (!Number.isInteger(a.priority) || a.priority < 0 || a.priority > 255) throw new VrrpCodecError(`priority ${a.priority} not in 0..255`);
  if (a.addresses.length > 255) throw new VrrpCodecError(`${a.addresses.length} addresses; at most 255`);
  const body = Buffer.alloc(VRRP_HEADER_LEN + a.addresses.length * alen + (a.version === 2 ? VRRP_AUTH_LEN : 0));
  body[0] = (a.version << 4) | VRRP_TYPE_ADVERTISEMENT;
  body[1] = a.vrid;
  body[2] = a.priority;
  body[3] = a.addresses.length;
  if (a.version === 2) {
    // RFC 3768 §5.3.7: whole seconds. keepalived rounds the configured interval to whole seconds.
    const secs = Math.round(a.advertIntMs / 1000);
    if (secs < 1 || secs > 255) throw new VrrpCodecError(`v2 advert interval ${a.advertIntMs} ms not in 1..255 s`);
    body[4] = a.authType;
    body[5] = secs;
  } else {
    // RFC 5798 §5.2.7: centiseconds, 12 bits, the 4 reserved bits zero.
    const cs = Math.round(a.advertIntMs / 10);
    if (cs < 1 || cs > V3_MAX_ADVERT_CS) throw new VrrpCodecError(`v3 advert interval ${a.advertIntMs} ms not in 10..40950 ms`);
    body.writeUInt16BE(cs, 4);
  }
  let off = VRRP_HEADER_LEN;
  for (const addr of a.addresses) {
    const b = addrBytes(addr, ctx.family);
    if (!b) throw new VrrpCodecError(`${addr} is not an IPv${ctx.family} address`);
    body.set(b, off);
    off += alen;
  }
  if (a.version === 2 && a.authType === 1 && a.authData !== undefined) {
    // RFC 3768 §5.3.10: up to 8 bytes, zero padded.
    Buffer.from(a.authData, 'utf8').subarray(0, VRRP_AUTH_LEN).copy(body, off);
  }
  let pseudo: Buffer | undefined;
  if (a.version === 3) {
    const src = addrBytes(ctx.src, ctx.family);
    const dst = addrBytes(ctx.dst, ctx.family);
    if (!src || !dst) throw new VrrpCodecError(`src ${ctx.src} / dst ${ctx.dst} not IPv${ctx.family} addresses`);
    pseudo = ctx.family === 4 ? ipv4PseudoHeader(src, dst, body.length) : ipv6PseudoHeader(src, dst, body.length);
  }
  body.writeUInt16BE(vrrpChecksum(body, pseudo), 6);
  return body;
}

/** IPv4: decode a whole IPv4 packet as a raw IPv4 socket delivers it (header included). */
export function decodeIpv4Packet(
  buf: Buffer,
  opts: { checkTtl?: boolean } = {},
): Decoded<{ src: string; dst: string; ttl: number; payload: Buffer }> {
  if (buf.length < 20) return bad('too-short', `${buf.length} bytes; an IPv4 header is at least 20`);
  const b0 = buf[0] as number;
  if (b0 >> 4 !== 4) return bad('ip-header', `IP version ${b0 >> 4}; expected 4`);
  const ihl = (b0 & 0x0f) * 4;
  if (ihl < 20 || ihl > buf.length) return bad('ip-header', `IHL ${ihl} bytes with ${buf.length} received`);
  const total = buf.readUInt16BE(2);
  if (total < ihl) return bad('ip-header', `total length ${total} below header length ${ihl}`);
  // keepalived (vrrp_check_packet): the IP total length must match what was received.
  if (total !== buf.length) return bad('length', `IP total length ${total}; received ${buf.length}`);
  if (internetChecksum(buf.subarray(0, ihl)) !== 0) return bad('ip-checksum', 'IPv4 header checksum mismatch');
  const frag = buf.readUInt16BE(6);
  if (frag & 0x3fff) return bad('fragment', `fragment (flags/offset 0x${frag.toString(16)})`);
  const proto = buf[9] as number;
  if (proto !== IPPROTO_VRRP) return bad('protocol', `IP protocol ${proto}; expected ${IPPROTO_VRRP}${proto === 51 ? ' (AH: see ah.ts verifyAhPacket)' : ''}`);
  const ttl = buf[8] as number;
  if ((opts.checkTtl ?? true) && ttl !== VRRP_TTL) return bad('ttl', `TTL is ${ttl}; must be ${VRRP_TTL}`);
  return {
    ok: true,
    value: {
      src: addrText(buf.subarray(12, 16)),
      dst: addrText(buf.subarray(16, 20)),
      ttl,
      payload: buf.subarray(ihl, total),
    },
  };
}

export interface DecodeExpect {
  vrid: number;
  version: 2 | 3;
  /** v2: 0 none, 1 PASS, 2 AH (the AH header was verified before: ah.ts) */
  authType?: 0 | 1 | 2;
  authPass?: string;
  /** v2: must match (RFC 3768 §7.1); ignored for v3 (the backup learns it) */
  advertIntMs?: number;
  /** the instance's VIPs of this family: the count must match and each must be present (keepalived addr_list_err) */
  addresses?: readonly string[];
}

export interface DecodeCtx {
  family: 4 | 6;
  src: string;
  dst: string;
  ttlOrHopLimit: number;
  /** a unicast instance: TTL not checked (keepalived), and a multicast destination is dropped; the reverse when false */
  unicast?: boolean;
  expect?: DecodeExpect;
}

/**
 * Validates the VRRP message against the receiving instance (RFC 3768 §7.1, RFC 5798 §7.1):
 * length, version, type, checksum (v3 pseudo-header), TTL, VRID, auth (v2), advert interval
 * (v2 must match), address count and list.
 */
export function decodeAdvert(payload: Buffer, ctx: DecodeCtx): Decoded<Advert> {
  if (ctx.family !== 4 && ctx.family !== 6) return bad('family', `family ${String(ctx.family)}`);
  const src = addrBytes(ctx.src, ctx.family);
  const dst = addrBytes(ctx.dst, ctx.family);
  if (!src || !dst) return bad('family', `src ${ctx.src} / dst ${ctx.dst} not IPv${ctx.family} addresses`);
  if (payload.length < VRRP_HEADER_LEN) return bad('too-short', `${payload.length} bytes; the VRRP header is ${VRRP_HEADER_LEN}`);

  const b0 = payload[0] as number;
  const version = b0 >> 4;
  if (version !== 2 && version !== 3) return bad('version', `VRRP version ${version}`);
  if (version === 2 && ctx.family === 6) return bad('version', 'VRRPv2 over IPv6');
  const type = b0 & 0x0f;
  const alen = ctx.family === 4 ? 4 : 16;
  const count = payload[3] as number;
  const expectedLen = VRRP_HEADER_LEN + count * alen + (version === 2 ? VRRP_AUTH_LEN : 0);
  if (payload.length !== expectedLen) {
    return bad('length', `${payload.length} bytes; ${count} address(es) in v${version} make ${expectedLen}`);
  }
  let pseudo: Buffer | undefined;
  if (version === 3) pseudo = ctx.family === 4 ? ipv4PseudoHeader(src, dst, payload.length) : ipv6PseudoHeader(src, dst, payload.length);
  const want = vrrpChecksum(payload, pseudo);
  const got = payload.readUInt16BE(6);
  if (want !== got) return bad('checksum', `checksum 0x${got.toString(16)}; computed 0x${want.toString(16)}`);
  if (type !== VRRP_TYPE_ADVERTISEMENT) return bad('type', `type ${type}; expected ${VRRP_TYPE_ADVERTISEMENT}`);
  if (!ctx.unicast && ctx.ttlOrHopLimit !== VRRP_TTL) {
    return bad('ttl', `${ctx.family === 4 ? 'TTL' : 'hop limit'} is ${ctx.ttlOrHopLimit}; must be ${VRRP_TTL}`);
  }
  const vrid = payload[1] as number;
  if (vrid === 0) return bad('vrid', 'VRID 0');
  const priority = payload[2] as number;

  let advertIntMs: number;
  let authType: 0 | 1 | 2 = 0;
  let authData: string | undefined;
  const addrEnd = VRRP_HEADER_LEN + count * alen;
  if (version === 2) {
    const at = payload[4] as number;
    if (at !== 0 && at !== 1 && at !== 2) return bad('auth-type', `auth type ${at}`);
    authType = at;
    const secs = payload[5] as number;
    if (secs === 0) return bad('advert-int', 'advert interval 0 s');
    advertIntMs = secs * 1000;
    if (authType === 1) {
      const raw = payload.subarray(addrEnd, addrEnd + VRRP_AUTH_LEN);
      const nul = raw.indexOf(0);
      authData = raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8');
    }
  } else {
    const cs = payload.readUInt16BE(4) & V3_MAX_ADVERT_CS; // RFC 5798 §5.2.6: rsvd ignored on receipt
    if (cs === 0) return bad('advert-int', 'advert interval 0 cs');
    advertIntMs = cs * 10;
  }
  const addresses: string[] = [];
  for (let off = VRRP_HEADER_LEN; off < addrEnd; off += alen) addresses.push(addrText(payload.subarray(off, off + alen)));

  const e = ctx.expect;
  if (e) {
    if (version !== e.version) return bad('version', `VRRPv${version}; instance runs v${e.version}`);
    if (vrid !== e.vrid) return bad('vrid', `VRID ${vrid}; instance is ${e.vrid}`);
    if (version === 2) {
      const wantAuth = e.authType ?? 0;
      if (authType !== wantAuth) return bad('auth-type', `auth type ${authType}; configured ${wantAuth}`);
      if (wantAuth === 1) {
        // keepalived compares all 8 bytes, zero padded, in constant time.
        const mine = Buffer.alloc(VRRP_AUTH_LEN);
        Buffer.from(e.authPass ?? '', 'utf8').subarray(0, VRRP_AUTH_LEN).copy(mine);
        const theirs = payload.subarray(addrEnd, addrEnd + VRRP_AUTH_LEN);
        if (!sameBytes(mine, theirs)) return bad('auth', 'PASS authentication data mismatch');
      }
      if (e.advertIntMs !== undefined && e.advertIntMs !== advertIntMs) {
        return bad('advert-int', `advert interval ${advertIntMs / 1000} s; configured ${e.advertIntMs / 1000} s`);
      }
    }
    if (e.addresses) {
      if (count !== e.addresses.length) return bad('addr-count', `${count} address(es); instance has ${e.addresses.length}`);
      const have = new Set(addresses);
      for (const a of e.addresses) {
        const b = addrBytes(a, ctx.family);
        if (!b || !have.has(addrText(b))) return bad('addr-list', `${a} missing from the advert`);
      }
    }
    if (ctx.unicast !== undefined && isMulticast(dst, ctx.family) === ctx.unicast) {
      return bad('cast', ctx.unicast ? `multicast to ${ctx.dst} on a unicast instance` : `unicast to ${ctx.dst} on a multicast instance`);
    }
  }
  const value: Advert = { version, vrid, priority, advertIntMs, addresses, authType };
  if (authData !== undefined) value.authData = authData;
  return { ok: true, value };
}
