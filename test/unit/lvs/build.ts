/** Builders of config model objects for the LVS unit tests: keepalived's defaults, overridable. */
import type { Checker, RealServer, VirtualServer, VirtualServerGroup } from '../../../src/config/model.ts';
import type { LvsConfig } from '../../../src/lvs/desired.ts';

const loc = { file: 'keepalived.conf', line: 1, col: 1 };

export function tcpCheck(over: Partial<Checker> = {}): Checker {
  return {
    type: 'TCP_CHECK',
    loc,
    connectTimeoutMs: 5000,
    retry: 1,
    delayBeforeRetryMs: 1000,
    delayLoopMs: 60_000,
    alpha: false,
    ...over,
  } as Checker;
}

export function rs(address: string, port: number, over: Partial<RealServer> = {}): RealServer {
  return {
    loc,
    address,
    family: address.includes(':') ? 6 : 4,
    port,
    weight: 1,
    inhibitOnFailure: false,
    checkers: [tcpCheck()],
    ...over,
  };
}

export function vs(key: VirtualServer['key'], realServers: RealServer[], over: Partial<VirtualServer> = {}): VirtualServer {
  return {
    loc,
    key,
    delayLoopMs: 60_000,
    lbAlgo: 'wlc',
    lbKind: 'NAT',
    protocol: 'TCP',
    quorum: 1,
    hysteresis: 0,
    alpha: false,
    omega: false,
    sorryServerInhibit: false,
    haSuspend: false,
    schedFlags: [],
    realServers,
    ...over,
  };
}

export const ipKey = (address: string, port: number): VirtualServer['key'] => ({ kind: 'ip', address, port, family: address.includes(':') ? 6 : 4 });

export function config(virtualServers: VirtualServer[], virtualServerGroups: VirtualServerGroup[] = []): LvsConfig {
  return { virtualServers, virtualServerGroups };
}

export { loc };
