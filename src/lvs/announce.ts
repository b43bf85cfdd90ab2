/**
 * Which VIPs this director announces (vigil's `announce_route`), from the config and the
 * virtual servers' quorum state. Pure: same inputs, same answer.
 *
 * - Every address of a virtual server with `announce_route` (its own, or each address of
 *   its virtual_server_group) stands for one route `VIP/32` (`/128`) in the block's table,
 *   with its protocol and metric. Virtual servers that share a VIP and the same block
 *   settings share that route: it is wanted while any of them is up.
 * - Up is the quorum state computed by desired.ts (keepalived's quorum with hysteresis):
 *   the route goes the moment quorum is lost, and comes back when it is regained.
 * - A drained director wants nothing announced (reason `drain`); a stopping one neither
 *   (reason `stop`); one without IPVS neither (reason `ipvs`: it could not forward what it
 *   attracts). Stop wins over drain, drain over ipvs, ipvs over quorum.
 * - The VIP itself (`VIP/32` on `lo`, so that IPVS sees the packets the router sends here)
 *   is wanted while the virtual server is configured, up or not: `vipsOnLo`.
 */
import type { AnnounceRoute, Family, VirtualServer } from '../config/model.ts';
import { expandGroupEntry, vsStateKey, type LvsConfig, type LvsState } from './desired.ts';

export interface AnnouncedRoute {
  readonly address: string;
  readonly family: Family;
  /** 32 or 128 */
  readonly prefixLen: number;
  readonly table: number;
  readonly protocol: number;
  readonly metric?: number;
}

/** quorum lost; drained by the operator; stopping; no IPVS to forward with */
export type WithdrawReason = 'quorum' | 'drain' | 'stop' | 'ipvs';

export interface Announcement {
  readonly route: AnnouncedRoute;
  readonly up: boolean;
  /** why it is not up (when up is false) */
  readonly reason?: WithdrawReason;
  /** the virtual servers behind it (vsStateKey), in config order */
  readonly vsKeys: readonly string[];
}

export interface AnnounceMode {
  readonly drained: boolean;
  readonly stopping: boolean;
  /** IPVS is programmed here; default true */
  readonly ipvs?: boolean;
}

/** `198/248/-/10.213.9.10/32`: one kernel route (the kernel's own identity of it: table, prefix, metric; plus protocol). */
export function announcedRouteKey(r: AnnouncedRoute): string {
  return `${r.table}/${r.protocol}/${r.metric ?? '-'}/${r.address}/${r.prefixLen}`;
}

/** `10.213.9.10/32 table 198 proto 248` */
export function describeAnnounced(r: AnnouncedRoute): string {
  return `${r.address}/${r.prefixLen} table ${r.table} proto ${r.protocol}${r.metric !== undefined ? ` metric ${r.metric}` : ''}`;
}

/** The addresses a virtual server stands for (none for fwmark services). */
export function vsAddresses(vs: VirtualServer, config: LvsConfig): Array<{ address: string; family: Family }> {
  const k = vs.key;
  switch (k.kind) {
    case 'ip':
      return [{ address: k.address, family: k.family }];
    case 'fwmark':
      return [];
    case 'group': {
      const g = config.virtualServerGroups.find((x) => x.name === k.name);
      const out: Array<{ address: string; family: Family }> = [];
      for (const e of g?.entries ?? []) {
        if (e.kind === 'ip') for (const address of expandGroupEntry(e)) out.push({ address, family: e.family });
      }
      return out;
    }
  }
}

/**
 * The metric as the kernel reports it back: IPv4 has none unless given (0 is none); an IPv6
 * route without one gets IP6_RT_PRIO_USER (1024, include/net/ip6_route.h). Keeping the
 * kernel's value makes a route found at start match the one the config wants.
 */
function kernelMetric(family: Family, metric: number | undefined): number | undefined {
  if (family === 6) return metric === undefined || metric === 0 ? 1024 : metric;
  return metric === 0 ? undefined : metric;
}

function routeOf(a: { address: string; family: Family }, ar: AnnounceRoute): AnnouncedRoute {
  const metric = kernelMetric(a.family, ar.metric);
  return {
    address: a.address,
    family: a.family,
    prefixLen: a.family === 4 ? 32 : 128,
    table: ar.table,
    protocol: ar.protocol,
    ...(metric !== undefined ? { metric } : {}),
  };
}

/**
 * Every route the config can announce, keyed by `announcedRouteKey`, with whether it is
 * wanted now. `state` is desired.ts's (undefined before the first computation: nothing is up).
 */
export function announcements(config: LvsConfig, state: LvsState | undefined, mode: AnnounceMode): Map<string, Announcement> {
  const out = new Map<string, { route: AnnouncedRoute; anyUp: boolean; vsKeys: string[] }>();
  for (const vs of config.virtualServers) {
    const ar = vs.announceRoute;
    if (ar === undefined) continue;
    const vsKey = vsStateKey(vs);
    const up = state?.vs.get(vsKey)?.quorumUp ?? false;
    for (const a of vsAddresses(vs, config)) {
      const route = routeOf(a, ar);
      const key = announcedRouteKey(route);
      const cur = out.get(key);
      if (cur === undefined) out.set(key, { route, anyUp: up, vsKeys: [vsKey] });
      else {
        cur.anyUp ||= up;
        if (!cur.vsKeys.includes(vsKey)) cur.vsKeys.push(vsKey);
      }
    }
  }
  const result = new Map<string, Announcement>();
  for (const [key, a] of out) {
    const reason: WithdrawReason | undefined = mode.stopping ? 'stop' : mode.drained ? 'drain' : mode.ipvs === false ? 'ipvs' : a.anyUp ? undefined : 'quorum';
    result.set(key, { route: a.route, up: reason === undefined, ...(reason !== undefined ? { reason } : {}), vsKeys: a.vsKeys });
  }
  return result;
}

/** VIPs to hold on `lo` (one per address, whatever the block settings), in config order. */
export function vipsOnLo(config: LvsConfig): Array<{ address: string; family: Family }> {
  const seen = new Set<string>();
  const out: Array<{ address: string; family: Family }> = [];
  for (const vs of config.virtualServers) {
    if (vs.announceRoute === undefined) continue;
    for (const a of vsAddresses(vs, config)) {
      if (seen.has(a.address)) continue;
      seen.add(a.address);
      out.push(a);
    }
  }
  return out;
}

/** ms to keep serving after the withdrawal on stop: the longest withdraw_grace configured (0 without announcements). */
export function withdrawGraceMs(config: LvsConfig): number {
  let ms = 0;
  for (const vs of config.virtualServers) if (vs.announceRoute !== undefined) ms = Math.max(ms, vs.announceRoute.withdrawGraceMs);
  return ms;
}

/** The (table, protocol) pairs vigil writes, to find its stale routes at start. */
export function announceTables(config: LvsConfig): Array<{ table: number; protocol: number }> {
  const seen = new Set<string>();
  const out: Array<{ table: number; protocol: number }> = [];
  for (const vs of config.virtualServers) {
    const ar = vs.announceRoute;
    if (ar === undefined) continue;
    const k = `${ar.table}/${ar.protocol}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ table: ar.table, protocol: ar.protocol });
  }
  return out;
}
