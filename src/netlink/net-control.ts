/**
 * NetControl: the narrow interface through which the supervisor changes the kernel's network
 * state (STYLE.md habit 6), and its real implementation over rtnetlink.
 *
 * Idempotent by design: adding what is already there answers 'present', removing what is
 * already gone answers 'absent' — neither is an error, so the supervisor can replay its
 * desired state after a restart or a reload. Everything else fails with a NetlinkError whose
 * `code` is stable (`VIGIL_NL_ENODEV`, `VIGIL_NL_TIMEOUT`, `VIGIL_NL_INVALID_SPEC`, …) and
 * whose message names the object. Every request has a deadline (`timeoutMs`).
 *
 * Main thread only: the socket lives in the network namespace of the process that opened
 * it, and the design keeps netlink off worker threads.
 */
import { FlagsNew, rt } from 'netlink';
import { describeAddress, fromAddressMessage, toAddressMessage } from './addresses.ts';
import {
  NetlinkError,
  NL_CLOSED,
  NL_EADDRNOTAVAIL,
  NL_EEXIST,
  NL_ENODEV,
  NL_ENOENT,
  NL_ESRCH,
  NL_TIMEOUT,
} from './errors.ts';
import { LinkWatch } from './link-watch.ts';
import { DeletionWatch, type Deletion } from './deletion-watch.ts';
import {
  addrGenModeNoneMessage,
  checkIfname,
  deleteLinkMessage,
  linkByNameMessage,
  linkUpMessage,
  toLinkInfo,
} from './links.ts';
import { MACVLAN_MODE_PRIVATE, macText, macvlanCreateMessage, macvlanState, vrrpVirtualMac } from './macvlan.ts';
import { describeRoute, toRouteMessage } from './routes.ts';
import { describeRule, toRuleMessage } from './rules.ts';
import { encodeRtMessage, Rtnl } from './rtnl.ts';
import { PARENT_SETTINGS, readIpv4Conf, VMAC_SETTINGS, writeIpv4Conf } from './sysctl.ts';
import type { Ipv4ConfKey } from './sysctl.ts';
import type { RawReply, RtnlOptions } from './rtnl.ts';

export { vrrpVirtualMac };

export interface AddressSpec {
  ifname: string;
  /** Text form, e.g. `192.0.2.10` or `2001:db8::10`. */
  address: string;
  prefixLen: number;
  family: 4 | 6;
  /** IPv4 only (the kernel has no IPv6 labels; ignored for IPv6). At most 15 bytes. */
  label?: string;
  /** `host|link|global|site|nowhere` or 0..255. */
  scope?: string;
  /** IPv4 broadcast address, or `+` / `-` (host bits set / clear, as iproute2). */
  broadcast?: string;
  /** Point-to-point peer (IFA_ADDRESS; the address itself goes in IFA_LOCAL). */
  peer?: string;
  /** IFA_F_NOPREFIXROUTE: no prefix route for this address. */
  noPrefixRoute?: boolean;
}

export interface LinkInfo {
  ifindex: number;
  ifname: string;
  /** Hardware address; empty for links without one. */
  mac: Buffer;
  /** IFF_UP: administratively up. */
  up: boolean;
  /** IFF_RUNNING: operationally up (carrier). */
  running: boolean;
  /** bytes */
  mtu: number;
}

export interface RouteSpec {
  to: string;
  prefixLen: number;
  family: 4 | 6;
  via?: string;
  src?: string;
  ifname?: string;
  /** Routing table id, default main (254). */
  table?: number;
  metric?: number;
  scope?: string;
  /** unicast (default), local, broadcast, anycast, multicast, blackhole, unreachable, prohibit, throw, nat */
  type?: string;
  /** rtm_protocol, default RTPROT_KEEPALIVED (18) */
  protocol?: number;
  /** a second gateway: the route is multipath over `via` and this (keepalived's `or`) */
  orVia?: string;
  /** a multipath route: one next hop each (weight 1..256) */
  nexthops?: Array<{ via?: string; ifname?: string; weight?: number; onlink?: boolean }>;
  /** RTNH_F_ONLINK */
  onlink?: boolean;
  /** rtm_tos */
  tos?: number;
  /**
   * RTA_METRICS by ip-route(8) name: mtu, advmss, window, cwnd, ssthresh, initcwnd, initrwnd,
   * hoplimit, reordering, quickack, fastopen_no_cookie, and rtt (1/8 ms), rttvar (1/4 ms),
   * rto_min (ms) in the kernel's units
   */
  metrics?: Record<string, number>;
  /** metrics to lock (RTAX_LOCK) */
  lockedMetrics?: string[];
  /** RTAX_FEATURES ecn */
  ecn?: boolean;
  /** RTA_FLOW: realms, FROM << 16 | TO (IPv4) */
  realms?: number;
  /** RTAX_CC_ALGO: TCP congestion control algorithm name (lockable as `congctl`) */
  congctl?: string;
  /** RTA_PREF: RFC 4191 preference as the kernel codes it, low 3, medium 0, high 1 (IPv6) */
  pref?: number;
  /** RTA_EXPIRES: seconds until the kernel removes the route (IPv6) */
  expires?: number;
  /** NLM_F_APPEND (`append`) or plain NLM_F_CREATE (`prepend`); default NLM_F_EXCL (`add`) */
  insert?: 'append' | 'prepend';
  /** RTA_ENCAP_TYPE / RTA_ENCAP: a lightweight IP tunnel (id as decimal text, u64) */
  encap?: { type: 'ip' | 'ip6'; id?: string; dst?: string; src?: string; tos?: number; ttl?: number; flags?: number };
}

/** An `ip rule`: selectors, a preference and an action (table lookup, goto, or blackhole/unreachable/prohibit/nop). */
export interface RuleSpec {
  family: 4 | 6;
  from?: { address: string; prefixLen: number };
  to?: { address: string; prefixLen: number };
  invert?: boolean;
  iif?: string;
  oif?: string;
  fwmark?: number;
  fwmask?: number;
  tos?: number;
  /** FRA_PRIORITY: the rule's preference */
  priority?: number;
  table?: number;
  goto?: number;
  action?: 'blackhole' | 'unreachable' | 'prohibit' | 'nop';
  /** FRA_L3MDEV */
  l3mdev?: boolean;
  /** FRA_PROTOCOL, default RTPROT_KEEPALIVED (18) */
  protocol?: number;
  uidRange?: { start: number; end: number };
  sport?: { start: number; end: number };
  dport?: { start: number; end: number };
  suppressPrefixLength?: number;
  /** FRA_FLOW: realms, FROM << 16 | TO (IPv4) */
  realms?: number;
  /** FRA_SUPPRESS_IFGROUP */
  suppressIfgroup?: number;
  /** FRA_IP_PROTO */
  ipProto?: number;
}

export interface NetControl {
  addAddress(a: AddressSpec): Promise<'added' | 'present'>;
  removeAddress(a: AddressSpec): Promise<'removed' | 'absent'>;
  listAddresses(ifname?: string): Promise<Array<AddressSpec & { ifindex: number }>>;
  getLink(ifname: string): Promise<LinkInfo | undefined>;
  listLinks(): Promise<LinkInfo[]>;
  /** link up/down/added/removed events (for track_interface); returns an unsubscribe */
  watchLinks(onChange: (l: LinkInfo, kind: 'new' | 'del') => void): () => void;
  /** addresses, routes and rules the kernel deleted (deletion-watch.ts); returns an unsubscribe */
  watchDeletions(onDelete: (d: Deletion) => void): () => void;
  addRoute(r: RouteSpec): Promise<'added' | 'present'>;
  removeRoute(r: RouteSpec): Promise<'removed' | 'absent'>;
  /** policy routing rules (virtual_rules, static_rules), protocol keepalived */
  addRule(r: RuleSpec): Promise<'added' | 'present'>;
  removeRule(r: RuleSpec): Promise<'removed' | 'absent'>;
  /** use_vmac: macvlan (mode private) on `parent` named `name` with the VRRP virtual MAC, up */
  addMacvlan(parent: string, name: string, mac: Buffer): Promise<'added' | 'present'>;
  deleteLink(name: string): Promise<'removed' | 'absent'>;
  close(): Promise<void>;
}

export interface NetControlOptions {
  /** ms, deadline of each kernel request (default 3000). */
  timeoutMs?: number;
}

/** Opens the real rtnetlink NetControl in the caller's network namespace. */
export async function openNetControl(opts: NetControlOptions = {}): Promise<NetControl> {
  return new RtNetControl(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs });
}

function hasCode(e: unknown, code: string): boolean {
  return e instanceof NetlinkError && e.code === code;
}

const CREATE_EXCL = FlagsNew.CREATE | FlagsNew.EXCL;

/** 00:00:5e:00:01:xx — the VRRP virtual MAC of an IPv4 virtual router (RFC 5798 §7.3). */
function isIpv4VrrpMac(mac: Uint8Array): boolean {
  return mac.length === 6 && mac[0] === 0 && mac[1] === 0 && mac[2] === 0x5e && mac[3] === 0 && mac[4] === 1;
}
const M = rt.MessageType;

/**
 * The rtnetlink implementation. Exported (besides the interface) so tests can open it on a
 * channel pointed at a silent peer (`RtnlOptions.peerPort`) to prove deadlines and close().
 */
export class RtNetControl implements NetControl {
  private readonly rtnl: Rtnl;
  private readonly watch: LinkWatch;
  private readonly deletions = new DeletionWatch();
  /** Parent ifindex → its ARP sysctls before the first IPv4 VMAC went on it, to put back. */
  private readonly savedParentConf = new Map<number, Array<readonly [Ipv4ConfKey, string]>>();

  constructor(opts: RtnlOptions & { linkEventBufferBytes?: number } = {}) {
    this.rtnl = new Rtnl(opts);
    this.watch = new LinkWatch(
      () => this.listLinks(),
      opts.linkEventBufferBytes === undefined ? {} : { rcvbufBytes: opts.linkEventBufferBytes },
    );
  }

  /** The channel's counters (stale replies, malformed datagrams) and the link watch's. */
  get counters(): { rtnl: Rtnl['counters']; links: LinkWatch['counters'] } {
    return { rtnl: this.rtnl.counters, links: this.watch.counters };
  }

  async addAddress(a: AddressSpec): Promise<'added' | 'present'> {
    const op = 'add address';
    const object = describeAddress(a);
    toAddressMessage(a, 1, 'add'); // validate before touching the kernel
    const ifindex = await this.ifindexOf(a.ifname, op, object);
    const msg = toAddressMessage(a, ifindex, 'add');
    try {
      await this.rtnl.request({ type: M.NEWADDR, body: encodeRtMessage(msg), kind: 'ack', flags: CREATE_EXCL, op, object });
      return 'added';
    } catch (e) {
      if (hasCode(e, NL_EEXIST)) return 'present';
      throw e;
    }
  }

  async removeAddress(a: AddressSpec): Promise<'removed' | 'absent'> {
    const op = 'remove address';
    const object = describeAddress(a);
    toAddressMessage(a, 1, 'del');
    let ifindex: number;
    try {
      ifindex = await this.ifindexOf(a.ifname, op, object);
    } catch (e) {
      // The interface is gone, and its addresses with it.
      if (hasCode(e, NL_ENODEV)) return 'absent';
      throw e;
    }
    const msg = toAddressMessage(a, ifindex, 'del');
    try {
      await this.rtnl.request({ type: M.DELADDR, body: encodeRtMessage(msg), kind: 'ack', op, object });
      return 'removed';
    } catch (e) {
      if (hasCode(e, NL_EADDRNOTAVAIL) || hasCode(e, NL_ENODEV)) return 'absent';
      throw e;
    }
  }

  async listAddresses(ifname?: string): Promise<Array<AddressSpec & { ifindex: number }>> {
    const links = await this.listLinks();
    const names = new Map(links.map((l) => [l.ifindex, l.ifname]));
    const replies = await this.rtnl.request({
      type: M.GETADDR,
      body: encodeRtMessage({ kind: 'address', data: {}, attrs: {} }),
      kind: 'dump',
      op: 'dump',
      object: 'addresses',
    });
    const out: Array<AddressSpec & { ifindex: number }> = [];
    for (const r of replies) {
      if (r.type !== M.NEWADDR) continue;
      const a = fromAddressMessage(rt.parseAddressMessage(r.data), (i) => names.get(i));
      if (a && (ifname === undefined || a.ifname === ifname)) out.push(a);
    }
    return out;
  }

  async getLink(ifname: string): Promise<LinkInfo | undefined> {
    const m = await this.fetchLink(ifname, 'get link');
    return m ? toLinkInfo(m) : undefined;
  }

  async listLinks(): Promise<LinkInfo[]> {
    const out: LinkInfo[] = [];
    for (const m of await this.dumpLinkMessages()) {
      const l = toLinkInfo(m);
      if (l) out.push(l);
    }
    return out;
  }

  private async dumpLinkMessages(): Promise<rt.LinkMessage[]> {
    const replies = await this.rtnl.request({
      type: M.GETLINK,
      body: encodeRtMessage({ kind: 'link', data: {}, attrs: {} }),
      kind: 'dump',
      op: 'dump',
      object: 'links',
    });
    return replies.filter((r) => r.type === M.NEWLINK).map((r) => rt.parseLinkMessage(r.data));
  }

  watchLinks(onChange: (l: LinkInfo, kind: 'new' | 'del') => void): () => void {
    if (this.rtnl.isClosed) throw new NetlinkError(NL_CLOSED, 'netlink channel closed', { op: 'watch', object: 'links' });
    return this.watch.subscribe(onChange);
  }

  watchDeletions(onDelete: (d: Deletion) => void): () => void {
    if (this.rtnl.isClosed) throw new NetlinkError(NL_CLOSED, 'netlink channel closed', { op: 'watch', object: 'deletions' });
    return this.deletions.subscribe(onDelete);
  }

  async addRoute(r: RouteSpec): Promise<'added' | 'present'> {
    const op = 'add route';
    const object = describeRoute(r);
    toRouteMessage(r, undefined, 'add');
    const oif = r.ifname === undefined ? undefined : await this.ifindexOf(r.ifname, op, object);
    const hopIfs: Array<number | undefined> = [];
    for (const h of r.nexthops ?? []) hopIfs.push(h.ifname === undefined ? undefined : await this.ifindexOf(h.ifname, op, object));
    const msg = toRouteMessage(r, oif, 'add', hopIfs);
    try {
      const flags = r.insert === 'append' ? FlagsNew.CREATE | FlagsNew.APPEND : r.insert === 'prepend' ? FlagsNew.CREATE : CREATE_EXCL;
      await this.rtnl.request({ type: M.NEWROUTE, body: encodeRtMessage(msg), kind: 'ack', flags, op, object });
      return 'added';
    } catch (e) {
      if (hasCode(e, NL_EEXIST)) return 'present';
      throw e;
    }
  }

  async removeRoute(r: RouteSpec): Promise<'removed' | 'absent'> {
    const op = 'remove route';
    const object = describeRoute(r);
    toRouteMessage(r, undefined, 'del');
    let oif: number | undefined;
    const hopIfs: Array<number | undefined> = [];
    try {
      oif = r.ifname === undefined ? undefined : await this.ifindexOf(r.ifname, op, object);
      for (const h of r.nexthops ?? []) hopIfs.push(h.ifname === undefined ? undefined : await this.ifindexOf(h.ifname, op, object));
    } catch (e) {
      // Routes through a device go away with the device.
      if (hasCode(e, NL_ENODEV)) return 'absent';
      throw e;
    }
    const msg = toRouteMessage(r, oif, 'del', hopIfs);
    try {
      await this.rtnl.request({ type: M.DELROUTE, body: encodeRtMessage(msg), kind: 'ack', op, object });
      return 'removed';
    } catch (e) {
      if (hasCode(e, NL_ESRCH) || hasCode(e, NL_ENODEV)) return 'absent';
      throw e;
    }
  }

  async addRule(r: RuleSpec): Promise<'added' | 'present'> {
    const op = 'add rule';
    const object = describeRule(r);
    const msg = toRuleMessage(r, 'add');
    try {
      await this.rtnl.request({ type: M.NEWRULE, body: encodeRtMessage(msg), kind: 'ack', flags: CREATE_EXCL, op, object });
      return 'added';
    } catch (e) {
      if (hasCode(e, NL_EEXIST)) return 'present';
      throw e;
    }
  }

  async removeRule(r: RuleSpec): Promise<'removed' | 'absent'> {
    const op = 'remove rule';
    const object = describeRule(r);
    const msg = toRuleMessage(r, 'del');
    try {
      await this.rtnl.request({ type: M.DELRULE, body: encodeRtMessage(msg), kind: 'ack', op, object });
      return 'removed';
    } catch (e) {
      if (hasCode(e, NL_ENOENT) || hasCode(e, NL_ESRCH)) return 'absent';
      throw e;
    }
  }

  async addMacvlan(parent: string, name: string, mac: Buffer): Promise<'added' | 'present'> {
    const op = 'add macvlan';
    const object = `${name} link ${parent} address ${macText(mac)}`;
    checkIfname(name, op);
    checkIfname(parent, op);
    macvlanCreateMessage(1, name, mac); // validate the MAC before touching the kernel
    const parentIndex = await this.ifindexOf(parent, op, object);
    const existing = await this.fetchLink(name, op);
    if (existing) {
      const st = macvlanState(existing);
      const ifindex = existing.data.index ?? 0;
      if (!st) {
        // Never take over (or later delete) a device vigil did not make.
        throw new NetlinkError(NL_EEXIST, `interface ${name} exists and is not a macvlan`, { op, object, errno: 'EEXIST' });
      }
      if (st.parentIndex === parentIndex && st.mac.equals(mac) && st.mode === MACVLAN_MODE_PRIVATE) {
        await this.prepareVmac(ifindex, op, object);
        await this.vmacSysctls(parent, parentIndex, name, mac);
        return 'present';
      }
      // A macvlan of ours from an earlier configuration with another parent or MAC: replace it,
      // as keepalived does ("Removing old VMAC interface … due to conflicting interface or MAC").
      await this.deleteIndex(ifindex, op, object);
      if (st.parentIndex !== undefined) await this.restoreParentSysctls(st.parentIndex);
    }
    await this.rtnl.request({
      type: M.NEWLINK,
      body: encodeRtMessage(macvlanCreateMessage(parentIndex, name, mac)),
      kind: 'ack',
      flags: CREATE_EXCL,
      op,
      object,
    });
    const created = await this.fetchLink(name, op);
    const ifindex = created?.data.index;
    if (!created || ifindex === undefined) {
      throw new NetlinkError(NL_ENODEV, `interface ${name} vanished right after it was created`, { op, object, errno: 'ENODEV' });
    }
    try {
      await this.prepareVmac(ifindex, op, object);
      await this.vmacSysctls(parent, parentIndex, name, mac);
    } catch (e) {
      // Do not leave a half-made interface behind.
      await this.deleteIndex(ifindex, op, object).catch(() => undefined);
      throw e;
    }
    return 'added';
  }

  async deleteLink(name: string): Promise<'removed' | 'absent'> {
    const op = 'delete link';
    const object = `interface ${name}`;
    checkIfname(name, op);
    const m = await this.fetchLink(name, op);
    const ifindex = m?.data.index;
    if (!m || ifindex === undefined) return 'absent';
    const parentIndex = macvlanState(m)?.parentIndex;
    try {
      await this.deleteIndex(ifindex, op, object);
    } catch (e) {
      if (hasCode(e, NL_ENODEV)) return 'absent';
      throw e;
    }
    if (parentIndex !== undefined) await this.restoreParentSysctls(parentIndex);
    return 'removed';
  }

  async close(): Promise<void> {
    this.watch.stop();
    this.deletions.stop();
    await this.rtnl.close();
  }

  /**
   * ARP behaviour for an IPv4 VMAC (see sysctl.ts): the parent answers ARP only for its own
   * addresses, so the VIP is answered from the macvlan with the virtual MAC. keepalived does
   * this for IPv4 instances only; an IPv6 VMAC (00:00:5e:00:02:xx) needs no ARP settings.
   */
  private async vmacSysctls(parent: string, parentIndex: number, name: string, mac: Buffer): Promise<void> {
    if (!isIpv4VrrpMac(mac)) return;
    if (!this.savedParentConf.has(parentIndex)) {
      const before: Array<readonly [Ipv4ConfKey, string]> = [];
      for (const [key] of PARENT_SETTINGS) before.push([key, await readIpv4Conf(parent, key)]);
      this.savedParentConf.set(parentIndex, before);
    }
    for (const [key, value] of PARENT_SETTINGS) await writeIpv4Conf(parent, key, value);
    for (const [key, value] of VMAC_SETTINGS) await writeIpv4Conf(name, key, value);
  }

  /** Puts the parent's ARP sysctls back once no IPv4 VMAC of ours remains on it. */
  private async restoreParentSysctls(parentIndex: number): Promise<void> {
    const saved = this.savedParentConf.get(parentIndex);
    if (!saved) return;
    const links = await this.dumpLinkMessages();
    if (links.some((l) => {
      const st = macvlanState(l);
      return st !== undefined && st.parentIndex === parentIndex && isIpv4VrrpMac(st.mac);
    })) {
      return;
    }
    this.savedParentConf.delete(parentIndex);
    const parent = links.find((l) => l.data.index === parentIndex)?.attrs.ifname;
    if (parent === undefined) return; // the parent itself is gone
    for (const [key, value] of saved) await writeIpv4Conf(parent, key, value);
  }

  /** No IPv6 link-local from the shared virtual MAC, then up. */
  private async prepareVmac(ifindex: number, op: string, object: string): Promise<void> {
    try {
      await this.rtnl.request({ type: M.NEWLINK, body: encodeRtMessage(addrGenModeNoneMessage(ifindex)), kind: 'ack', op, object });
    } catch (e) {
      // A kernel without IPv6 (or with it disabled on the device) has no link-local to stop.
      if (hasCode(e, NL_TIMEOUT) || hasCode(e, NL_CLOSED)) throw e;
    }
    await this.rtnl.request({ type: M.NEWLINK, body: encodeRtMessage(linkUpMessage(ifindex)), kind: 'ack', op, object });
  }

  private async deleteIndex(ifindex: number, op: string, object: string): Promise<void> {
    await this.rtnl.request({ type: M.DELLINK, body: encodeRtMessage(deleteLinkMessage(ifindex)), kind: 'ack', op, object });
  }

  /** The full RTM_NEWLINK for `ifname`, or undefined if there is no such interface. */
  private async fetchLink(ifname: string, op: string): Promise<rt.LinkMessage | undefined> {
    checkIfname(ifname, op);
    let replies: RawReply[];
    try {
      replies = await this.rtnl.request({
        type: M.GETLINK,
        body: encodeRtMessage(linkByNameMessage(ifname)),
        kind: 'get',
        op,
        object: `interface ${ifname}`,
      });
    } catch (e) {
      if (hasCode(e, NL_ENODEV)) return undefined;
      throw e;
    }
    const r = replies.find((x) => x.type === M.NEWLINK);
    return r ? rt.parseLinkMessage(r.data) : undefined;
  }

  /** Index of `ifname`, or VIGIL_NL_ENODEV naming the interface and what it was needed for. */
  private async ifindexOf(ifname: string, op: string, object: string): Promise<number> {
    const m = await this.fetchLink(ifname, op);
    const ifindex = m?.data.index;
    if (ifindex === undefined) {
      throw new NetlinkError(NL_ENODEV, `interface ${ifname} does not exist`, { op, object, errno: 'ENODEV' });
    }
    return ifindex;
  }
}
