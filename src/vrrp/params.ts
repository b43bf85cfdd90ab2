/**
 * The one place a configured vrrp_instance becomes a router's parameters, applying the
 * corrections keepalived makes when it completes an instance (vrrp.c vrrp_complete_instance):
 * - priority 255 (address owner) cannot be nopreempt;
 * - `state MASTER` clears nopreempt and preempt_delay ("will not work with initial state MASTER");
 * - preempt_delay is meaningless with nopreempt;
 * - the advert interval is rounded as the wire carries it (v2 whole seconds, v3 centiseconds);
 * - VRRPv3 has no authentication: `authentication` is ignored for v3 (keepalived warns).
 * - AH (v2, IPv4) clears `state MASTER` below priority 255: a router must hear an advert, and
 *   so the master's AH sequence number, before it takes over (keepalived "Initial state master
 *   is incompatible with AH authentication - clearing").
 */
import type { VrrpInstance } from '../config/model.ts';
import type { RouterParams } from './router.ts';
import { normaliseAdvertIntMs } from './timers.ts';

export function toRouterParams(inst: VrrpInstance, primaryAddress: string): RouterParams {
  const owner = inst.priority === 255;
  const ah = inst.version === 2 && inst.family === 4 && inst.authentication?.type === 'AH' && inst.authentication.pass !== '';
  const initialMaster = inst.initialState === 'MASTER' && (owner || !ah);
  const preempt = owner || initialMaster || !inst.nopreempt;
  const preemptDelayMs = !preempt || initialMaster ? 0 : Math.max(0, inst.preemptDelayMs);
  const params: RouterParams = {
    name: inst.name,
    vrid: inst.virtualRouterId,
    version: inst.version,
    family: inst.family,
    priority: inst.priority,
    advertIntMs: normaliseAdvertIntMs(inst.version, inst.advertIntMs),
    preempt,
    preemptDelayMs,
    initialState: initialMaster ? 'MASTER' : 'BACKUP',
    addresses: inst.virtualIpaddress.filter((v) => v.family === inst.family).map((v) => v.address),
    primaryAddress,
    unicast: inst.unicastPeers.length > 0,
  };
  if (inst.lowerPrioNoAdvert === true) params.lowerPrioNoAdvert = true;
  if (inst.higherPrioSendAdvert === true) params.higherPrioSendAdvert = true;
  if (inst.version === 2 && inst.authentication?.type === 'PASS' && inst.authentication.pass !== '') {
    params.authPass = inst.authentication.pass;
  }
  if (ah) params.authAh = inst.authentication!.pass;
  return params;
}

/** The decodeAdvert expectations for an instance's adverts. */
export function decodeExpectFor(p: RouterParams): {
  vrid: number;
  version: 2 | 3;
  authType: 0 | 1 | 2;
  authPass?: string;
  advertIntMs?: number;
  addresses: readonly string[];
} {
  const e: ReturnType<typeof decodeExpectFor> = {
    vrid: p.vrid,
    version: p.version,
    authType: p.authAh !== undefined ? 2 : p.authPass !== undefined ? 1 : 0,
    addresses: p.addresses,
  };
  if (p.authPass !== undefined) e.authPass = p.authPass;
  if (p.version === 2) e.advertIntMs = p.advertIntMs;
  return e;
}
