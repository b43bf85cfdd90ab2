/**
 * Deletions of addresses, routes and rules, as the kernel announces them (RTM_DELADDR,
 * RTM_DELROUTE, RTM_DELRULE on the IPv4/IPv6 address, route and rule groups), for
 * keepalived's tracking of what an instance holds: a VIP, virtual route or virtual rule
 * deleted by someone else makes a master step down and come back (keepalived_netlink.c
 * address_is_ours, netlink_route_filter, netlink_rule_filter) unless it has `no_track`.
 *
 * - Only deletions are reported; the listener decides whether one is its own.
 * - A deletion lost in an overflow is counted (`overruns`, event-socket.ts), not recovered:
 *   there is no table to re-read a deletion from.
 * - The socket exists while anyone is subscribed.
 */
import { rt } from 'netlink';
import type { NetlinkMessage } from 'netlink';
import { Listeners, openRouteEvents, type RouteEventSocket } from './event-socket.ts';
import { ipText } from './addresses.ts';

/** linux/rtnetlink.h RTNLGRP_*: IPv4/IPv6 addresses, routes, rules */
const GROUPS = [5, 9, 7, 11, 8, 19];
const RTM_DELADDR = 21;
const RTM_DELROUTE = 25;
const RTM_DELRULE = 33;
const AF_INET = 2;
const AF_INET6 = 10;
/** bytes: a burst of deletions (a link going down takes its routes with it) */
const RCVBUF = 1 << 20;
/**
 * ms between reads of the socket's drop counter, which only feeds a counter here (a lost
 * deletion is not recovered). Matches the link watch's, so one read serves both
 * (event-socket.ts); each read of /proc/self/net/netlink costs the idle main thread ~0.3 ms.
 */
const DROP_POLL_MS = 2000;

export type Deletion =
  | { readonly kind: 'address'; readonly family: 4 | 6; readonly address: string; readonly ifindex: number }
  | { readonly kind: 'route'; readonly family: 4 | 6; readonly to: string; readonly prefixLen: number; readonly table: number; readonly protocol: number }
  | { readonly kind: 'rule'; readonly family: 4 | 6; readonly priority: number; readonly protocol: number };

export interface DeletionWatchCounters {
  /** deletions the kernel dropped for this socket (not recovered) */
  overruns: number;
  /** datagrams or messages that did not parse */
  malformed: number;
  listenerErrors: number;
  socketErrors: number;
}

function family(n: number | undefined): 4 | 6 | undefined {
  return n === AF_INET ? 4 : n === AF_INET6 ? 6 : undefined;
}

/** The deletion a message announces, or undefined for anything else (pure). */
export function parseDeletion(m: NetlinkMessage): Deletion | undefined {
  if (m.type === RTM_DELADDR) {
    const a = rt.parseAddressMessage(m.data);
    const f = family(a.data.family);
    const bytes = a.attrs.local ?? a.attrs.address;
    if (f === undefined || bytes === undefined) return undefined;
    return { kind: 'address', family: f, address: ipText(bytes), ifindex: a.data.index ?? 0 };
  }
  if (m.type === RTM_DELROUTE) {
    const r = rt.parseRouteMessage(m.data);
    const f = family(r.data.family);
    if (f === undefined) return undefined;
    const to = r.attrs.dst ? ipText(r.attrs.dst) : f === 4 ? '0.0.0.0' : '::';
    return { kind: 'route', family: f, to, prefixLen: r.data.dstLen ?? 0, table: r.attrs.table ?? r.data.table ?? 0, protocol: Number(r.data.protocol ?? 0) };
  }
  if (m.type === RTM_DELRULE) {
    const r = rt.parseRuleMessage(m.data);
    const f = family(r.data.family);
    if (f === undefined) return undefined;
    return { kind: 'rule', family: f, priority: r.attrs.priority ?? 0, protocol: r.attrs.protocol ?? 0 };
  }
  return undefined;
}

export class DeletionWatch {
  readonly counters: DeletionWatchCounters = { overruns: 0, malformed: 0, listenerErrors: 0, socketErrors: 0 };
  private readonly listeners = new Listeners<[Deletion]>(
    () => this.start(),
    () => this.stop(),
    () => this.counters.listenerErrors++,
  );
  private sock: RouteEventSocket | undefined;

  subscribe(fn: (d: Deletion) => void): () => void {
    return this.listeners.add(fn);
  }

  stop(): void {
    this.listeners.clear();
    this.sock?.close();
    this.sock = undefined;
  }

  private start(): void {
    this.sock = openRouteEvents({
      groups: GROUPS,
      rcvbufBytes: RCVBUF,
      dropPollMs: DROP_POLL_MS,
      onMessage: (m) => {
        const d = parseDeletion(m);
        if (d !== undefined) this.listeners.emit(d);
      },
      onMalformed: () => this.counters.malformed++,
      onOverrun: (n) => (this.counters.overruns += n),
      onError: () => this.counters.socketErrors++,
    });
  }

}
