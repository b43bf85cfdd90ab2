/**
 * Virtual addresses on the wire: AddressSpec ⇄ RTM_NEWADDR/RTM_DELADDR (struct ifaddrmsg +
 * IFA_* attributes). Pure: no socket here; the conversions live in this one place
 * (STYLE.md habit 5) and are unit-tested byte by byte.
 *
 * What goes on the wire, and why (keepalived `netlink_ipaddress()` in vrrp_ipaddress.c,
 * iproute2 `ipaddr_modify()`):
 * - IFA_LOCAL is the address itself; IFA_ADDRESS is the peer for a point-to-point address and
 *   otherwise the address again (the kernel reads IFA_ADDRESS as "the prefix address").
 * - IPv6 VIPs are added with IFA_F_NODAD, as keepalived does: the address is usable at once
 *   and a transient split brain cannot leave it stuck in `dadfailed`; VRRP is the DAD here.
 * - An IPv6 /128 VIP is added deprecated (IFA_CACHEINFO preferred 0, valid forever), as
 *   keepalived 2.2.7 does (seen with `ip addr`: `nodad deprecated … preferred_lft 0sec`), so
 *   the host never picks it as the source address of its own connections (RFC 6724 rule 3);
 *   health checks from the master would otherwise leave from the VIP.
 * - IFA_LABEL (IPv4 only — the kernel has no IPv6 labels, keepalived drops them with a
 *   warning, so do we) is at most 15 bytes (IFNAMSIZ-1; the kernel rejects longer with
 *   EINVAL). By convention it starts with the device name (`eth0:vip`, for ifconfig); the
 *   kernel does not require that (checked on 6.18: `label foo` on eth0 is accepted) and
 *   neither does keepalived, so it is not enforced here.
 * - IFA_BROADCAST only when asked (keepalived sends none by default); `+`/`-` as iproute2:
 *   host bits all ones / all zeros, for prefixes up to /30.
 * - Deleting sends IFA_LOCAL and IFA_ADDRESS with the prefix length, so the kernel removes
 *   only an address with the same prefix (an operator's 10.0.0.1/16 survives the removal of
 *   a VIP 10.0.0.1/24), and no label, so a relabelled address is still found.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { rt } from 'netlink';
import { invalidSpec } from './errors.ts';
import type { AddressSpec } from './net-control.ts';

/** linux/socket.h */
export const AF_INET = 2;
export const AF_INET6 = 10;
/** s. linux/if_addr.h: an address lifetime of 0xffffffff is forever. */
const INFINITY_LIFE_TIME = 0xffffffff;
/** IFNAMSIZ - 1: the longest interface name or address label, in bytes. */
export const IFNAME_MAX = 15;

/** rtnetlink.h rt_scope_t, with iproute2's names (`/etc/iproute2/rt_scopes`). */
const SCOPES: ReadonlyArray<readonly [string, number]> = [
  ['global', 0],
  ['universe', 0],
  ['site', 200],
  ['link', 253],
  ['host', 254],
  ['nowhere', 255],
];

/** `global|universe|site|link|host|nowhere` or 0–255 → number; undefined if not a scope. */
export function scopeNumber(scope: string): number | undefined {
  const s = scope.trim().toLowerCase();
  for (const [name, n] of SCOPES) if (name === s) return n;
  if (/^\d{1,3}$/.test(s)) {
    const n = Number(s);
    if (n <= 255) return n;
  }
  return undefined;
}

/** Number → iproute2's name (`global` for 0), or the number as text. */
export function scopeName(n: number): string {
  if (n === 0) return 'global';
  for (const [name, v] of SCOPES) if (v === n) return name;
  return String(n);
}

export function familyNumber(family: 4 | 6): number {
  return family === 4 ? AF_INET : AF_INET6;
}

/** Parses `s` as an address of `family` into network-order bytes, or throws VIGIL_NL_INVALID_SPEC. */
export function ipBytes(s: string, family: 4 | 6, op: string, object: string, what = 'address'): Buffer {
  // node:net's check is the strict dotted-quad / RFC 4291 text form; ipaddr.js alone also
  // takes inet_aton forms such as "10.1" or "0x0a.0.0.1", which an operator never means.
  const kind = isIP(s.trim());
  if (kind === 0) throw invalidSpec(op, object, `${what} "${s}" is not an IP address`);
  if (kind !== family) throw invalidSpec(op, object, `${what} "${s}" is not IPv${family}`);
  return Buffer.from(ipaddr.parse(s.trim()).toByteArray());
}

/** Network-order bytes → text (IPv6 in RFC 5952 form). */
export function ipText(b: Uint8Array): string {
  return ipaddr.fromByteArray([...b]).toString();
}

export function describeAddress(a: Pick<AddressSpec, 'address' | 'prefixLen' | 'ifname'> & { peer?: string }): string {
  return `${a.address}${a.peer ? ` peer ${a.peer}` : ''}/${a.prefixLen} dev ${a.ifname}`;
}

function checkPrefix(a: AddressSpec, op: string, object: string): void {
  const max = a.family === 4 ? 32 : 128;
  if (!Number.isInteger(a.prefixLen) || a.prefixLen < 0 || a.prefixLen > max) {
    throw invalidSpec(op, object, `prefix length ${a.prefixLen} is not in 0..${max}`);
  }
}

/** `+`: host bits set; `-`: host bits clear (iproute2 `brd +/-`); otherwise an IPv4 address. */
export function broadcastBytes(a: AddressSpec, op: string, object: string): Buffer | undefined {
  const b = a.broadcast?.trim();
  if (b === undefined || b === '') return undefined;
  if (a.family !== 4) throw invalidSpec(op, object, 'IPv6 has no broadcast address');
  if (b === '+' || b === '-') {
    // iproute2 leaves /31 and /32 without a broadcast: there is no host part to fill.
    if (a.prefixLen > 30) return undefined;
    const local = ipBytes(a.address, 4, op, object).readUInt32BE(0);
    const mask = a.prefixLen === 0 ? 0 : (0xffffffff << (32 - a.prefixLen)) >>> 0;
    const v = b === '+' ? (local | ~mask) >>> 0 : (local & mask) >>> 0;
    const out = Buffer.alloc(4);
    out.writeUInt32BE(v, 0);
    return out;
  }
  return ipBytes(b, 4, op, object, 'broadcast');
}

/**
 * The RTM_NEWADDR (`add`) or RTM_DELADDR (`del`) message for a VIP on interface `ifindex`.
 * Throws VIGIL_NL_INVALID_SPEC (nothing sent) for a spec the kernel could not take.
 */
export function toAddressMessage(a: AddressSpec, ifindex: number, op: 'add' | 'del'): rt.AddressMessage {
  const opName = op === 'add' ? 'add address' : 'remove address';
  const object = describeAddress(a);
  if (a.family !== 4 && a.family !== 6) throw invalidSpec(opName, object, `family ${String(a.family)} is not 4 or 6`);
  checkPrefix(a, opName, object);
  const local = ipBytes(a.address, a.family, opName, object);
  const peer = a.peer !== undefined && a.peer.trim() !== '' ? ipBytes(a.peer, a.family, opName, object, 'peer') : undefined;
  let scope = 0;
  if (a.scope !== undefined && a.scope.trim() !== '') {
    const n = scopeNumber(a.scope);
    if (n === undefined) throw invalidSpec(opName, object, `scope "${a.scope}" is not host/link/global/site/nowhere or 0..255`);
    scope = n;
  }
  const data: rt.Address = { family: familyNumber(a.family), prefixlen: a.prefixLen, index: ifindex };
  if (scope !== 0) data.scope = scope;
  const attrs: rt.AddressAttrs = { local, address: peer ?? local };
  if (op === 'add') {
    if (a.family === 4 && a.label !== undefined && a.label !== '') {
      if (Buffer.byteLength(a.label) > IFNAME_MAX) {
        throw invalidSpec(opName, object, `label "${a.label}" is longer than ${IFNAME_MAX} bytes`);
      }
      attrs.label = a.label;
    }
    const brd = broadcastBytes(a, opName, object);
    if (brd) attrs.broadcast = brd;
    // IFA_FLAGS (u32) rather than ifa_flags (u8): IFA_F_NOPREFIXROUTE (0x200) does not fit a u8.
    const flags: rt.AddressFlags = {};
    if (a.family === 6) flags.nodad = true;
    if (a.noPrefixRoute) flags.noprefixroute = true;
    if (flags.nodad || flags.noprefixroute) attrs.flags = flags;
    if (a.family === 6 && a.prefixLen === 128) attrs.cacheInfo = { ifaPrefered: 0, ifaValid: INFINITY_LIFE_TIME };
  }
  return { kind: 'address', data, attrs };
}

/** A dumped address as an AddressSpec; undefined for families other than IPv4/IPv6 or no address. */
export function fromAddressMessage(
  m: rt.AddressMessage,
  ifnameOf: (ifindex: number) => string | undefined,
): (AddressSpec & { ifindex: number }) | undefined {
  const fam = m.data.family === AF_INET ? 4 : m.data.family === AF_INET6 ? 6 : undefined;
  if (fam === undefined) return undefined;
  const localB = m.attrs.local ?? m.attrs.address;
  if (!localB) return undefined;
  const ifindex = m.data.index ?? 0;
  const ifname = ifnameOf(ifindex) ?? `if${ifindex}`;
  const out: AddressSpec & { ifindex: number } = {
    ifname,
    ifindex,
    address: ipText(localB),
    prefixLen: m.data.prefixlen ?? 0,
    family: fam,
  };
  const scope = m.data.scope ?? 0;
  out.scope = scopeName(scope);
  if (m.attrs.local && m.attrs.address && !m.attrs.local.equals(m.attrs.address)) out.peer = ipText(m.attrs.address);
  // The kernel reports the device name as the label of an unlabelled IPv4 address.
  if (fam === 4 && m.attrs.label !== undefined && m.attrs.label !== ifname) out.label = m.attrs.label;
  if (m.attrs.broadcast) out.broadcast = ipText(m.attrs.broadcast);
  const flags = m.attrs.flags ?? m.data.flags;
  if (flags?.noprefixroute) out.noPrefixRoute = true;
  return out;
}

/** Same address on the same interface (what the kernel treats as "this address"). */
export function sameAddress(a: AddressSpec, b: AddressSpec): boolean {
  if (a.family !== b.family || a.ifname !== b.ifname || a.prefixLen !== b.prefixLen) return false;
  try {
    return ipaddr.parse(a.address).toNormalizedString() === ipaddr.parse(b.address).toNormalizedString();
  } catch {
    return false;
  }
}
