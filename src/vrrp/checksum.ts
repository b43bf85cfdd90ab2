/**
 * The Internet checksum (RFC 1071) and the pseudo-headers VRRP uses.
 *
 * VRRPv2 (RFC 3768 §5.3.8): the checksum covers the VRRP message only.
 * VRRPv3 (RFC 5798 §5.2.8): the checksum covers a pseudo-header and the VRRP message —
 * for IPv4 the one of RFC 768/RFC 793 (src, dst, zero, protocol 112, VRRP length as 16 bits),
 * for IPv6 the one of RFC 2460 §8.1 (src, dst, upper-layer length as 32 bits, three zero
 * bytes, next header 112).
 */

/** IP protocol number of VRRP (IANA; RFC 3768 §5.2.4, RFC 5798 §5.1.1.3). */
export const IPPROTO_VRRP = 112;

/**
 * One's-complement sum of 16-bit big-endian words, folded to 16 bits (RFC 1071 §4.1).
 * An odd trailing byte is padded with a zero byte. `initial` chains sums over several buffers;
 * a chained buffer other than the last must have an even length.
 */
export function onesComplementSum(buf: Uint8Array, initial = 0): number {
  let sum = initial;
  const even = buf.length & ~1;
  for (let i = 0; i < even; i += 2) sum += ((buf[i] as number) << 8) | (buf[i + 1] as number);
  if (buf.length & 1) sum += (buf[buf.length - 1] as number) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The checksum to put on the wire: the complement of the sum (RFC 1071). */
export function internetChecksum(buf: Uint8Array, initial = 0): number {
  return ~onesComplementSum(buf, initial) & 0xffff;
}

/** RFC 768 pseudo-header for IPv4: src(4) dst(4) zero(1) protocol(1) length(2). */
export function ipv4PseudoHeader(src: Uint8Array, dst: Uint8Array, length: number): Buffer {
  const ph = Buffer.alloc(12);
  ph.set(src, 0);
  ph.set(dst, 4);
  ph[8] = 0;
  ph[9] = IPPROTO_VRRP;
  ph.writeUInt16BE(length & 0xffff, 10);
  return ph;
}

/** RFC 2460 §8.1 pseudo-header for IPv6: src(16) dst(16) length(4) zero(3) next header(1). */
export function ipv6PseudoHeader(src: Uint8Array, dst: Uint8Array, length: number): Buffer {
  const ph = Buffer.alloc(40);
  ph.set(src, 0);
  ph.set(dst, 16);
  ph.writeUInt32BE(length >>> 0, 32);
  ph[39] = IPPROTO_VRRP;
  return ph;
}

/**
 * Checksum of a VRRP message whose checksum field (bytes 6..7) is taken as zero.
 * `pseudo` is the pseudo-header for VRRPv3, omitted for VRRPv2.
 */
export function vrrpChecksum(msg: Uint8Array, pseudo?: Uint8Array): number {
  const copy = Buffer.from(msg);
  if (copy.length >= 8) copy.writeUInt16BE(0, 6);
  const initial = pseudo ? onesComplementSum(pseudo) : 0;
  return internetChecksum(copy, initial);
}
