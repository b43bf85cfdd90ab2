/**
 * Links on the wire: RTM_GETLINK/RTM_NEWLINK/RTM_DELLINK messages and LinkInfo, pure.
 *
 * `up` is IFF_UP (administratively up) and `running` IFF_RUNNING (RFC 2863 OPER_UP: carrier
 * and not dormant); keepalived's track_interface treats an interface as usable only when
 * both are set (`IF_ISUP()` = IFF_UP && IFF_RUNNING in vrrp_if.h).
 */
import { formatAttribute, pad, parseAttributes, getU32 } from 'netlink';
import type { rt } from 'netlink';
import { invalidSpec } from './errors.ts';
import { AF_INET6, IFNAME_MAX } from './addresses.ts';
import type { LinkInfo } from './net-control.ts';

/** linux/if_link.h */
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const IFLA_INET6_ADDR_GEN_MODE = 8;
/** linux/if_link.h enum in6_addr_gen_mode */
export const IN6_ADDR_GEN_MODE_NONE = 1;

/** One netlink attribute, padded to 4 bytes so attributes can be concatenated into a nest. */
export function nla(type: number, data: Uint8Array): Buffer {
  return Buffer.concat(pad(formatAttribute({ type, data })));
}

/**
 * Checks an interface name the way the kernel's dev_valid_name() does, so a bad name gives a
 * clear VIGIL_NL_INVALID_SPEC instead of a bare EINVAL.
 */
export function checkIfname(name: string, op: string): void {
  const object = `interface ${JSON.stringify(name)}`;
  if (name === '' || name === '.' || name === '..') throw invalidSpec(op, object, 'not a valid interface name');
  if (Buffer.byteLength(name) > IFNAME_MAX) throw invalidSpec(op, object, `longer than ${IFNAME_MAX} bytes`);
  if (/[/:\s]/.test(name)) throw invalidSpec(op, object, 'contains "/", ":" or white space');
}

/** RTM_GETLINK for one interface by name (IFLA_IFNAME); the kernel answers ENODEV if absent. */
export function linkByNameMessage(name: string): rt.LinkMessage {
  return { kind: 'link', data: {}, attrs: { ifname: name } };
}

/** RTM_NEWLINK on an existing interface that sets IFF_UP (`ip link set NAME up`). */
export function linkUpMessage(ifindex: number): rt.LinkMessage {
  return { kind: 'link', data: { index: ifindex, flags: { up: true }, change: { up: true } }, attrs: {} };
}

/** RTM_DELLINK by index. */
export function deleteLinkMessage(ifindex: number): rt.LinkMessage {
  return { kind: 'link', data: { index: ifindex }, attrs: {} };
}

/**
 * RTM_NEWLINK that stops the kernel from generating an IPv6 link-local address from the MAC
 * (IFLA_AF_SPEC → AF_INET6 → IFLA_INET6_ADDR_GEN_MODE = NONE). A VRRP virtual MAC is shared
 * by every router of the virtual router, so its EUI-64 link-local address would be a
 * duplicate; RFC 5798 §7.4 and keepalived's vrrp_vmac.c do the same.
 */
export function addrGenModeNoneMessage(ifindex: number): rt.LinkMessage {
  const inet6 = nla(IFLA_INET6_ADDR_GEN_MODE, Buffer.from([IN6_ADDR_GEN_MODE_NONE]));
  return { kind: 'link', data: { index: ifindex }, attrs: { afSpec: new Map([[AF_INET6, inet6]]) } };
}

/** A dumped or fetched link as LinkInfo; undefined if it lacks an index or a name. */
export function toLinkInfo(m: rt.LinkMessage): LinkInfo | undefined {
  const ifindex = m.data.index;
  const ifname = m.attrs.ifname;
  if (ifindex === undefined || ifindex <= 0 || ifname === undefined) return undefined;
  return {
    ifindex,
    ifname,
    mac: m.attrs.address ? Buffer.from(m.attrs.address) : Buffer.alloc(0),
    up: m.data.flags?.up === true,
    running: m.data.flags?.running === true,
    mtu: m.attrs.mtu ?? 0,
  };
}

export function sameLinkState(a: LinkInfo, b: LinkInfo): boolean {
  return (
    a.ifindex === b.ifindex &&
    a.ifname === b.ifname &&
    a.up === b.up &&
    a.running === b.running &&
    a.mtu === b.mtu &&
    a.mac.equals(b.mac)
  );
}

/** IFLA_LINKINFO → { kind, data } (IFLA_INFO_KIND, IFLA_INFO_DATA); undefined for a plain device. */
export function linkKind(m: rt.LinkMessage): { kind: string; data: Buffer | undefined } | undefined {
  const li = m.attrs.linkinfo;
  if (!li) return undefined;
  let kind: string | undefined;
  let data: Buffer | undefined;
  try {
    parseAttributes(li, (a) => {
      if (a.type === IFLA_INFO_KIND) kind = a.data.toString('latin1').replace(/\0+$/, '');
      else if (a.type === IFLA_INFO_DATA) data = a.data;
    });
  } catch {
    return undefined; // a malformed nest: treat as a plain device, never as ours
  }
  return kind === undefined ? undefined : { kind, data };
}

/** IFLA_LINK: the index of the lower device (a macvlan's parent); undefined if none. */
export function lowerIndex(m: rt.LinkMessage): number | undefined {
  const b = m.attrs.link;
  return b && b.length >= 4 ? getU32(b) : undefined;
}
