/**
 * Netlink attributes (struct nlattr, include/uapi/linux/netlink.h): pure TLV encoding and
 * decoding. Bytes in, value out; decoders return a reason instead of throwing.
 *
 * Layout: u16 nla_len (header + payload, unpadded), u16 nla_type (low 14 bits type,
 * 0x8000 NLA_F_NESTED, 0x4000 NLA_F_NET_BYTEORDER), payload, padding to 4 bytes.
 * Integers are in host byte order unless the kernel's policy says big-endian (be16/be32).
 */
import { endianness } from 'node:os';

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string; readonly detail: string };

export const ok = <T>(value: T): Decoded<T> => ({ ok: true, value });
/** `reason` is a short stable label (a metric label); `detail` is for humans. */
export const bad = <T = never>(reason: string, detail: string): Decoded<T> => ({ ok: false, reason, detail });

export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
const NLA_TYPE_MASK = 0x3fff;

const LE = endianness() === 'LE';
const align4 = (n: number): number => (n + 3) & ~3;

// Encoders allocate once per attribute (from Buffer's pool) and write the header and the
// value in place: programming 10,000 destinations encodes ~60,000 attributes.

function put16(b: Buffer, v: number, off: number): void {
  if (LE) b.writeUInt16LE(v, off);
  else b.writeUInt16BE(v, off);
}

function put32(b: Buffer, v: number, off: number): void {
  if (LE) b.writeUInt32LE(v >>> 0, off);
  else b.writeUInt32BE(v >>> 0, off);
}

/** One attribute with its padding, as a single Buffer. */
export function nlaBytes(type: number, payload: Uint8Array): Buffer {
  const len = NLA_HDRLEN + payload.length;
  const out = Buffer.allocUnsafe(align4(len));
  put16(out, len, 0);
  put16(out, type, 2);
  out.set(payload, NLA_HDRLEN);
  out.fill(0, len);
  return out;
}

export function nlaU16(type: number, v: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  put16(out, 6, 0);
  put16(out, type, 2);
  put16(out, v, 4);
  out.writeUInt16LE(0, 6);
  return out;
}

/** A host-order u32 as 4 bytes (for fields of structs carried in an attribute). */
export function u32Bytes(v: number): Buffer {
  const p = Buffer.allocUnsafe(4);
  put32(p, v, 0);
  return p;
}

export function nlaU32(type: number, v: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  put16(out, 8, 0);
  put16(out, type, 2);
  put32(out, v, 4);
  return out;
}

/** Big-endian u16 (the kernel's NLA_U16 policy with a __be16 value, e.g. ports). */
export function nlaBe16(type: number, v: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  put16(out, 6, 0);
  put16(out, type, 2);
  out.writeUInt16BE(v, 4);
  out.writeUInt16LE(0, 6);
  return out;
}

/** NUL-terminated string (NLA_NUL_STRING). */
export function nlaString(type: number, s: string): Buffer {
  return nlaBytes(type, Buffer.from(`${s}\0`, 'utf8'));
}

/** A nested attribute; children are already-padded attributes. */
export function nlaNested(type: number, children: readonly Buffer[]): Buffer {
  let len = NLA_HDRLEN;
  for (const c of children) len += c.length;
  const out = Buffer.allocUnsafe(len);
  put16(out, len, 0);
  put16(out, type | NLA_F_NESTED, 2);
  let off = NLA_HDRLEN;
  for (const c of children) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/**
 * Splits an attribute stream into type → payload (the last of a repeated type wins, as
 * nla_parse does). Unknown types are kept; truncation is a reason.
 */
export function parseAttrs(buf: Uint8Array): Decoded<Map<number, Buffer>> {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + NLA_HDRLEN <= b.length) {
    const len = LE ? b.readUInt16LE(off) : b.readUInt16BE(off);
    const type = (LE ? b.readUInt16LE(off + 2) : b.readUInt16BE(off + 2)) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN) return bad('nla-len', `attribute at offset ${off} has length ${len} < ${NLA_HDRLEN}`);
    if (off + len > b.length) return bad('nla-truncated', `attribute type ${type} at offset ${off} needs ${len} bytes, ${b.length - off} left`);
    out.set(type, b.subarray(off + NLA_HDRLEN, off + len));
    off += align4(len);
  }
  return ok(out);
}

export function getU16(p: Buffer): number | undefined {
  if (p.length < 2) return undefined;
  return LE ? p.readUInt16LE(0) : p.readUInt16BE(0);
}

export function getBe16(p: Buffer): number | undefined {
  return p.length < 2 ? undefined : p.readUInt16BE(0);
}

export function getU32(p: Buffer): number | undefined {
  if (p.length < 4) return undefined;
  return LE ? p.readUInt32LE(0) : p.readUInt32BE(0);
}

/** u64 as a number (exact below 2^53; counters beyond that lose low bits). */
export function getU64(p: Buffer): number | undefined {
  if (p.length < 8) return undefined;
  return Number(LE ? p.readBigUInt64LE(0) : p.readBigUInt64BE(0));
}

/** NUL-terminated (or not) string. */
export function getString(p: Buffer): string {
  const nul = p.indexOf(0);
  return p.toString('utf8', 0, nul === -1 ? p.length : nul);
}
