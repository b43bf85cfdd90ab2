/**
 * Address ranges of `virtual_server_group` entries (keepalived check_data.c alloc_vsg_entry):
 * `10.0.0.1-10` (last octet, or last hextet for IPv6), `10.0.0.1-10.0.1.5` (a full end
 * address) and `10.0.0.0/29` (every address of the prefix, network and broadcast included;
 * host bits set in the address are an error, as in keepalived). Each address becomes one IPVS
 * service, so vigil refuses a range of more than MAX_RANGE_ADDRESSES.
 */
import net from 'node:net';
import ipaddr from 'ipaddr.js';

export const MAX_RANGE_ADDRESSES = 65_536;

export function addressToBigInt(address: string): bigint {
  return ipaddr
    .parse(address)
    .toByteArray()
    .reduce((n, b) => (n << 8n) | BigInt(b), 0n);
}

export function bigIntToAddress(n: bigint, family: 4 | 6): string {
  const bytes: number[] = [];
  for (let i = 0; i < (family === 4 ? 4 : 16); i++) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** `ADDR/LEN` as its first and last address, or the reason it is not one. */
export function cidrRange(text: string): { start: string; end: string; family: 4 | 6 } | { error: string } {
  const slash = text.indexOf('/');
  const addr = text.slice(0, slash);
  const fam = net.isIP(addr);
  if (fam === 0) return { error: `\`${addr}\` is not an IP address` };
  const bits = fam === 4 ? 32 : 128;
  const lenText = text.slice(slash + 1);
  const len = /^[0-9]+$/.test(lenText) ? Number(lenText) : NaN;
  if (!(len >= 1 && len <= bits)) return { error: `\`/${lenText}\` is not a prefix length in 1-${bits}` };
  const host = (1n << BigInt(bits - len)) - 1n;
  const start = addressToBigInt(addr);
  if ((start & host) !== 0n) return { error: `${text} has host bits set (keepalived: "Address mask bits not empty")` };
  if (host + 1n > BigInt(MAX_RANGE_ADDRESSES)) return { error: `${text} is ${host + 1n} addresses, more than vigil's ${MAX_RANGE_ADDRESSES} services per range` };
  const family = fam as 4 | 6;
  return { start: bigIntToAddress(start, family), end: bigIntToAddress(start | host, family), family };
}

/** Every address from `start` to `end` inclusive (same family, start ≤ end). */
export function addressesBetween(start: string, end: string, family: 4 | 6): string[] {
  const out: string[] = [];
  const last = addressToBigInt(end);
  for (let n = addressToBigInt(start); n <= last && out.length < MAX_RANGE_ADDRESSES; n++) out.push(bigIntToAddress(n, family));
  return out;
}
