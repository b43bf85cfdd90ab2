/**
 * The desired IPVS table: config (virtual_server, virtual_server_group) + check results.
 * Pure: same inputs, same table; the previous state is passed in (quorum has hysteresis,
 * transitions are differences from it) and the new one handed back.
 *
 * Semantics follow keepalived's check/ipwrapper.c:
 * - a real server is up when its checks say so; before its first result it is up, unless
 *   alpha (virtual server or any of its checkers) says to start it down; a real server
 *   without checkers is always up;
 * - a down real server leaves the pool, or stays with weight 0 under inhibit_on_failure;
 * - MISC_CHECK misc_dynamic may report a weight, which replaces the configured one;
 * - quorum: live weight = sum of the weights of up real servers. Up → lost when the live
 *   weight is 0 or < quorum − hysteresis; down → gained when ≥ quorum + hysteresis. At
 *   start the quorum is up iff live weight ≥ quorum + hysteresis (set_quorum_states);
 * - while the quorum is lost and a sorry_server exists, the sorry server (weight 1) serves
 *   alone: the up real servers leave the pool (weight 0 with inhibit_on_failure); with
 *   sorry_server_inhibit the sorry server otherwise stays at weight 0;
 * - notifies: rs up/down and quorum up/down on changes; at start keepalived reports
 *   "starting with quorum down" only when a sorry server is configured; on stop (omega)
 *   every up real server goes down and quorum_down runs (see `stopTransitions`).
 */
import type { Config, LbKind, LvsTimeouts, RealServer, VirtualServer, VirtualServerGroup, VirtualServerGroupEntry } from '../config/model.ts';
import { normalizeDest, normalizeService, serviceKey } from '../netlink/ipvs/attrs.ts';
import type { IpvsError } from '../netlink/ipvs/errors.ts';
import type { IpvsDest, IpvsService, IpvsTimeouts } from '../netlink/ipvs/types.ts';
import ipaddr from 'ipaddr.js';
import { realServerKey, virtualServerKey } from './keys.ts';
import { addressesBetween } from '../config/vsg-range.ts';

/** The part of the config this layer reads. */
export type LvsConfig = Pick<Config, 'virtualServers' | 'virtualServerGroups'>;

export interface CheckResult {
  readonly up: boolean;
  /** misc_dynamic: the weight the check script reported (exit status − 2) */
  readonly weight?: number;
}

/** keyed by `realServerKey(vs, rs)` */
export type CheckResults = ReadonlyMap<string, CheckResult>;

export interface DesiredService {
  /** canonical form (normalizeService) */
  readonly service: IpvsService;
  /** canonical forms (normalizeDest), at most one per address:port */
  readonly dests: readonly IpvsDest[];
  /** the virtual server this service comes from */
  readonly vsKey: string;
}

export interface VsState {
  readonly quorumUp: boolean;
  /** sum of the weights of the up real servers */
  readonly liveWeight: number;
  readonly sorryActive: boolean;
  /** realServerKey → up */
  readonly rsUp: ReadonlyMap<string, boolean>;
}

export interface LvsState {
  /** keyed by `vsStateKey(vs)` */
  readonly vs: ReadonlyMap<string, VsState>;
}

export type LvsTransition =
  | {
      readonly type: 'rs-up' | 'rs-down';
      readonly vsKey: string;
      readonly rsKey: string;
      readonly vs: VirtualServer;
      readonly rs: RealServer;
    }
  | {
      readonly type: 'quorum-up' | 'quorum-down';
      readonly vsKey: string;
      readonly vs: VirtualServer;
      readonly liveWeight: number;
      /** the threshold crossed: quorum ± hysteresis */
      readonly threshold: number;
      /** at start (keepalived: "Starting with quorum down") */
      readonly init: boolean;
    };

export interface DesiredProblem {
  readonly vsKey: string;
  readonly error: IpvsError;
}

export interface DesiredResult {
  readonly services: readonly DesiredService[];
  readonly state: LvsState;
  /** rs transitions first, then quorum transitions, in config order */
  readonly transitions: readonly LvsTransition[];
  /** services that cannot be programmed (bad values); they are left out of `services` */
  readonly problems: readonly DesiredProblem[];
}

/** The virtual server's identity in LvsState: its key, plus the protocol for groups. */
export function vsStateKey(vs: VirtualServer): string {
  const k = virtualServerKey(vs);
  return vs.key.kind === 'group' ? `${k}/${vs.protocol}` : k;
}

/** Up before any check result: no checkers → up; alpha → down; else up. */
function initialUp(vs: VirtualServer, rs: RealServer): boolean {
  if (rs.checkers.length === 0) return true;
  return !(vs.alpha || rs.checkers.some((c) => c.alpha));
}

function rsUp(vs: VirtualServer, rs: RealServer, checks: CheckResults): boolean {
  // FILE_CHECKs report through `checks` too (their state is known from the start)
  if (rs.checkers.length === 0 && (rs.fileChecks ?? []).length === 0) return true;
  return checks.get(realServerKey(vs, rs))?.up ?? initialUp(vs, rs);
}

function effectiveWeight(vs: VirtualServer, rs: RealServer, checks: CheckResults): number {
  const w = checks.get(realServerKey(vs, rs))?.weight ?? rs.weight;
  return Math.max(0, Math.trunc(w));
}

/** Addresses of one group entry: `10.0.0.1-10` is .1 through .10 (last octet or hextet). */
export function expandGroupEntry(e: Extract<VirtualServerGroupEntry, { kind: 'ip' }>): string[] {
  if (e.rangeEnd === undefined) return [e.address];
  // a full end address (`10.0.0.1-10.0.1.5`, or a CIDR entry's last address)
  if (e.rangeEnd.includes('.') || e.rangeEnd.includes(':')) return addressesBetween(e.address, e.rangeEnd, e.family);
  const start = ipaddr.parse(e.address);
  if (start.kind() === 'ipv4') {
    const bytes = start.toByteArray();
    const from = bytes[3]!;
    const to = Number.parseInt(e.rangeEnd, 10);
    if (!Number.isInteger(to) || to < from || to > 255) return [e.address];
    const out: string[] = [];
    for (let i = from; i <= to; i++) out.push(ipaddr.fromByteArray([bytes[0]!, bytes[1]!, bytes[2]!, i]).toString());
    return out;
  }
  const parts = (start as ipaddr.IPv6).parts.slice();
  const from = parts[7]!;
  const to = Number.parseInt(e.rangeEnd, 16);
  if (!Number.isInteger(to) || to < from || to > 0xffff) return [e.address];
  const out: string[] = [];
  for (let i = from; i <= to; i++) {
    parts[7] = i;
    out.push(new ipaddr.IPv6(parts).toString());
  }
  return out;
}

/** The IPVS services one virtual server stands for (one, or one per group address/fwmark). */
function serviceIdentities(vs: VirtualServer, groups: ReadonlyMap<string, VirtualServerGroup>): IpvsService[] {
  const params = {
    protocol: vs.protocol,
    scheduler: vs.lbAlgo,
    ...(vs.persistenceTimeoutMs
      ? {
          persistent: {
            // keepalived's persistence_timeout is whole seconds; the model keeps ms
            timeoutS: Math.max(1, Math.round(vs.persistenceTimeoutMs / 1000)),
            ...(vs.persistenceGranularity !== undefined ? { netmask: vs.persistenceGranularity } : {}),
          },
        }
      : {}),
    ...(vs.schedFlags.length > 0 ? { flags: [...vs.schedFlags] } : {}),
  };
  const k = vs.key;
  switch (k.kind) {
    case 'ip':
      return [{ family: k.family, address: k.address, port: k.port, ...params }];
    case 'fwmark':
      return [{ family: k.family, fwmark: k.fwmark, ...params }];
    case 'group': {
      const g = groups.get(k.name);
      if (!g) return [];
      // a fwmark entry has no family of its own: take the real servers' (keepalived: vs->af)
      const fwmFamily = vs.realServers[0]?.family ?? (vs.sorryServer?.address.includes(':') ? 6 : 4);
      const out: IpvsService[] = [];
      for (const e of g.entries) {
        if (e.kind === 'fwmark') out.push({ family: fwmFamily, fwmark: e.fwmark, ...params });
        else for (const address of expandGroupEntry(e)) out.push({ family: e.family, address, port: e.port, ...params });
      }
      return out;
    }
  }
}

function dest(address: string, family: 4 | 6, port: number, forward: LbKind, weight: number, rs?: RealServer): IpvsDest {
  return {
    address,
    family,
    port,
    forward,
    weight,
    ...(rs?.upperThreshold ? { upperThreshold: rs.upperThreshold } : {}),
    ...(rs?.lowerThreshold ? { lowerThreshold: rs.lowerThreshold } : {}),
  };
}

/**
 * Computes the desired table from the config and the check results. `prev` is the state
 * returned by the previous call (undefined at start).
 */
export function computeDesired(config: LvsConfig, checks: CheckResults, prev?: LvsState): DesiredResult {
  const groups = new Map(config.virtualServerGroups.map((g) => [g.name, g]));
  const services: DesiredService[] = [];
  const seen = new Set<string>();
  const states = new Map<string, VsState>();
  const rsTransitions: LvsTransition[] = [];
  const quorumTransitions: LvsTransition[] = [];
  const problems: DesiredProblem[] = [];

  for (const vs of config.virtualServers) {
    const vsKey = vsStateKey(vs);
    if (states.has(vsKey)) continue; // a duplicate virtual_server: the first one wins
    const before = prev?.vs.get(vsKey);

    // real servers: up/down and transitions
    const ups = new Map<string, boolean>();
    let liveWeight = 0;
    for (const rs of vs.realServers) {
      const key = realServerKey(vs, rs);
      const up = rsUp(vs, rs, checks);
      ups.set(key, up);
      if (up) liveWeight += effectiveWeight(vs, rs, checks);
      const was = before?.rsUp.get(key) ?? initialUp(vs, rs);
      if (was !== up) rsTransitions.push({ type: up ? 'rs-up' : 'rs-down', vsKey, rsKey: key, vs, rs });
    }

    // quorum with hysteresis
    let quorumUp: boolean;
    if (!before) {
      quorumUp = liveWeight >= vs.quorum + vs.hysteresis;
      if (!quorumUp && vs.sorryServer) {
        quorumTransitions.push({ type: 'quorum-down', vsKey, vs, liveWeight, threshold: vs.quorum + vs.hysteresis, init: true });
      }
    } else if (before.quorumUp) {
      const threshold = vs.quorum - vs.hysteresis;
      quorumUp = !(liveWeight === 0 || liveWeight < threshold);
      if (!quorumUp) quorumTransitions.push({ type: 'quorum-down', vsKey, vs, liveWeight, threshold, init: false });
    } else {
      const threshold = vs.quorum + vs.hysteresis;
      quorumUp = liveWeight >= threshold;
      if (quorumUp) quorumTransitions.push({ type: 'quorum-up', vsKey, vs, liveWeight, threshold, init: false });
    }
    const sorryActive = !quorumUp && vs.sorryServer !== undefined;
    states.set(vsKey, { quorumUp, liveWeight, sorryActive, rsUp: ups });

    for (const identity of serviceIdentities(vs, groups)) {
      let service: IpvsService;
      const dests = new Map<string, IpvsDest>();
      try {
        service = normalizeService(identity);
        // port of a dest in a fwmark service: the real server's (0 by default)
        for (const rs of vs.realServers) {
          const forward = rs.lbKind ?? vs.lbKind;
          const up = ups.get(realServerKey(vs, rs)) === true;
          const inPool = up && !sorryActive;
          if (!inPool && !rs.inhibitOnFailure) continue;
          const weight = inPool ? effectiveWeight(vs, rs, checks) : 0;
          const d = normalizeDest(dest(rs.address, rs.family, rs.port, forward, weight, rs));
          dests.set(`${d.address}|${d.port}`, d);
        }
        const ss = vs.sorryServer;
        if (ss && (sorryActive || vs.sorryServerInhibit)) {
          const family = ss.address.includes(':') ? 6 : 4;
          const d = normalizeDest(dest(ss.address, family, ss.port, ss.lbKind ?? vs.lbKind, sorryActive ? 1 : 0));
          const k = `${d.address}|${d.port}`;
          // a sorry server that is also a real server: the sorry role wins while active
          if (sorryActive || !dests.has(k)) dests.set(k, d);
        }
      } catch (err) {
        problems.push({ vsKey, error: err as IpvsError });
        continue;
      }
      const sk = serviceKey(service);
      if (seen.has(sk)) continue; // the same service from two virtual servers: first wins
      seen.add(sk);
      services.push({ service, dests: [...dests.values()], vsKey });
    }
  }
  return { services, state: { vs: states }, transitions: [...rsTransitions, ...quorumTransitions], problems };
}

/**
 * What vigil reports when it stops: nothing unless the virtual server has omega; with omega
 * every up real server goes down (notify_down) and quorum_down runs (keepalived's
 * clear_service_rs / update_vs_notifies with `stopping`).
 */
export function stopTransitions(config: LvsConfig, state: LvsState): LvsTransition[] {
  const rsOut: LvsTransition[] = [];
  const qOut: LvsTransition[] = [];
  for (const vs of config.virtualServers) {
    if (!vs.omega) continue;
    const vsKey = vsStateKey(vs);
    const st = state.vs.get(vsKey);
    if (!st) continue;
    for (const rs of vs.realServers) {
      const rsKey = realServerKey(vs, rs);
      if (st.rsUp.get(rsKey)) rsOut.push({ type: 'rs-down', vsKey, rsKey, vs, rs });
    }
    qOut.push({ type: 'quorum-down', vsKey, vs, liveWeight: 0, threshold: vs.quorum - vs.hysteresis, init: false });
  }
  return [...rsOut, ...qOut];
}

/**
 * global_defs lvs_timeouts (ms in the model) as IPVS takes them (whole seconds, rounded up
 * so that a sub-second value is not 0, which the kernel reads as "leave unchanged").
 * Undefined when nothing is configured.
 */
export function desiredTimeouts(t: LvsTimeouts | undefined): IpvsTimeouts | undefined {
  if (!t) return undefined;
  const s = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : Math.max(1, Math.ceil(ms / 1000)));
  const tcpS = s(t.tcpMs);
  const tcpFinS = s(t.tcpFinMs);
  const udpS = s(t.udpMs);
  if (tcpS === undefined && tcpFinS === undefined && udpS === undefined) return undefined;
  return { ...(tcpS !== undefined ? { tcpS } : {}), ...(tcpFinS !== undefined ? { tcpFinS } : {}), ...(udpS !== undefined ? { udpS } : {}) };
}
