/**
 * Per-interface IPv4 sysctls for `use_vmac`, through /proc/sys/net/ipv4/conf/IF/ (which, like
 * the netlink socket, belongs to the network namespace of this process).
 *
 * With a VMAC the VIP lives on the macvlan, but Linux answers ARP for any local address on
 * any interface (weak host model): the parent would answer for the VIP with its own MAC and
 * clients would learn the wrong one, which defeats the virtual MAC. keepalived 2.2.7 sets,
 * observed in a namespace with an IPv4 `use_vmac` instance:
 *   parent: arp_ignore=1 (answer only for addresses on the receiving interface), arp_filter=1;
 *   vmac:   arp_ignore=1, accept_local=1 (take packets sourced from a local address — the
 *           parent and the vmac share the segment), rp_filter=0;
 * and on removal of the vmac it puts the parent's values back. vigil does the same.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { NetlinkError, NL_SYSCTL } from './errors.ts';

export type Ipv4ConfKey = 'arp_ignore' | 'arp_filter' | 'accept_local' | 'rp_filter';

function path(ifname: string, key: Ipv4ConfKey): string {
  // Interface names never contain '/', checked by checkIfname() before we get here.
  return `/proc/sys/net/ipv4/conf/${ifname}/${key}`;
}

export async function readIpv4Conf(ifname: string, key: Ipv4ConfKey): Promise<string> {
  try {
    return (await readFile(path(ifname, key), 'utf8')).trim();
  } catch (e) {
    throw new NetlinkError(NL_SYSCTL, `cannot read ${path(ifname, key)}: ${String(e)}`, { op: 'read sysctl', object: `${ifname} ${key}`, cause: e });
  }
}

export async function writeIpv4Conf(ifname: string, key: Ipv4ConfKey, value: string): Promise<void> {
  try {
    await writeFile(path(ifname, key), value);
  } catch (e) {
    throw new NetlinkError(NL_SYSCTL, `cannot write ${value} to ${path(ifname, key)}: ${String(e)}`, {
      op: 'write sysctl',
      object: `${ifname} ${key}`,
      cause: e,
    });
  }
}

/** What is set on a VMAC's parent, and the values to put back when its last VMAC goes. */
export const PARENT_SETTINGS: ReadonlyArray<readonly [Ipv4ConfKey, string]> = [
  ['arp_ignore', '1'],
  ['arp_filter', '1'],
];
export const VMAC_SETTINGS: ReadonlyArray<readonly [Ipv4ConfKey, string]> = [
  ['arp_ignore', '1'],
  ['accept_local', '1'],
  ['rp_filter', '0'],
];

/**
 * `net.ipv4.vs.sloppy_tcp`: IPVS picks up a TCP connection it did not see start (a flow the
 * router moved here from another director, announce_route); with a consistent scheduler (mh)
 * it goes to the same real server. Only the key below is written, never a path from outside.
 */
export async function setIpvsSloppyTcp(on: boolean): Promise<void> {
  const p = '/proc/sys/net/ipv4/vs/sloppy_tcp';
  try {
    await writeFile(p, on ? '1' : '0');
  } catch (e) {
    throw new NetlinkError(NL_SYSCTL, `cannot write ${on ? 1 : 0} to ${p}: ${String(e)}`, { op: 'write sysctl', object: 'net.ipv4.vs.sloppy_tcp', cause: e });
  }
}
