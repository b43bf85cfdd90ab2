/**
 * `use_vmac`: a macvlan carrying the VRRP virtual MAC, pure message builders.
 *
 * RFC 5798 §7.3 (RFC 3768 §7.3): the virtual router MAC is 00-00-5E-00-01-{VRID} for IPv4
 * and 00-00-5E-00-02-{VRID} for IPv6. keepalived (vrrp_vmac.c `netlink_link_add_vmac`)
 * creates it as RTM_NEWLINK with IFLA_LINKINFO{kind "macvlan", data{IFLA_MACVLAN_MODE =
 * MACVLAN_MODE_PRIVATE}}, IFLA_LINK = the parent's index, IFLA_IFNAME and IFLA_ADDRESS; in
 * private mode the macvlan takes only frames for its own MAC and never talks to sibling
 * macvlans. Then it turns off IPv6 link-local generation and sets the link up.
 */
import { getU32, parseAttributes, putU32 } from 'netlink';
import type { rt } from 'netlink';
import { invalidSpec } from './errors.ts';
import { IFLA_INFO_DATA, IFLA_INFO_KIND, linkKind, lowerIndex, nla } from './links.ts';

/** linux/if_link.h */
export const IFLA_MACVLAN_MODE = 1;
export const MACVLAN_MODE_PRIVATE = 1;
export const MACVLAN_MODE_VEPA = 2;
export const MACVLAN_MODE_BRIDGE = 4;
export const MACVLAN_MODE_PASSTHRU = 8;
export const MACVLAN_MODE_SOURCE = 16;

/** 00:00:5e:00:01:VRID (IPv4) or 00:00:5e:00:02:VRID (IPv6). RFC 5798 §7.3. */
export function vrrpVirtualMac(vrid: number, family: 4 | 6): Buffer {
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) {
    throw invalidSpec('make virtual MAC', `VRID ${vrid}`, 'VRID must be an integer in 1..255');
  }
  return Buffer.from([0x00, 0x00, 0x5e, 0x00, family === 4 ? 0x01 : 0x02, vrid]);
}

export { macText } from '../io/wire.ts';

/** RTM_NEWLINK (with NLM_F_CREATE|NLM_F_EXCL) creating macvlan `name` in private mode on `parentIndex`. */
export function macvlanCreateMessage(parentIndex: number, name: string, mac: Uint8Array): rt.LinkMessage {
  if (mac.length !== 6) throw invalidSpec('add macvlan', name, `MAC must be 6 bytes, got ${mac.length}`);
  const infoData = nla(IFLA_MACVLAN_MODE, putU32(MACVLAN_MODE_PRIVATE));
  const linkinfo = Buffer.concat([nla(IFLA_INFO_KIND, Buffer.from('macvlan', 'latin1')), nla(IFLA_INFO_DATA, infoData)]);
  return {
    kind: 'link',
    data: {},
    attrs: { ifname: name, address: Buffer.from(mac), link: putU32(parentIndex), linkinfo },
  };
}

export interface MacvlanState {
  readonly parentIndex: number | undefined;
  readonly mode: number | undefined;
  readonly mac: Buffer;
}

/** The macvlan details of a link, or undefined if it is not a macvlan. */
export function macvlanState(m: rt.LinkMessage): MacvlanState | undefined {
  const k = linkKind(m);
  if (!k || k.kind !== 'macvlan') return undefined;
  let mode: number | undefined;
  if (k.data) {
    // IFLA_INFO_DATA of a macvlan: a nest whose IFLA_MACVLAN_MODE is a u32.
    try {
      parseAttributes(k.data, (a) => {
        if (a.type === IFLA_MACVLAN_MODE && a.data.length >= 4) mode = getU32(a.data.subarray(0, 4));
      });
    } catch {
      /* a malformed nest leaves the mode unknown */
    }
  }
  return { parentIndex: lowerIndex(m), mode, mac: m.attrs.address ? Buffer.from(m.attrs.address) : Buffer.alloc(0) };
}
