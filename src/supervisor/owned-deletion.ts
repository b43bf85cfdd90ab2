/**
 * Whether a kernel deletion takes away something a master instance holds and tracks
 * (keepalived_netlink.c: address_is_ours, netlink_route_filter, netlink_rule_filter): a VIP
 * (or excluded VIP), a virtual route or a virtual rule that vigil put in for the instance and
 * that is not marked `no_track`. Pure: the caller knows what it holds and acts on the answer.
 */
import type { VrrpInstance } from '../config/model.ts';
import type { Deletion } from '../netlink/deletion-watch.ts';
import type { AddressSpec, RouteSpec, RuleSpec } from '../netlink/net-control.ts';
import { RTPROT_KEEPALIVED, RT_TABLE_MAIN } from '../netlink/routes.ts';

export interface Held {
  readonly addrs: readonly AddressSpec[];
  readonly routes: readonly RouteSpec[];
  readonly rules?: readonly RuleSpec[];
}

/** What was lost, in words for the transition's reason; undefined if the deletion is not a tracked one of `inst`. */
export function lostOwned(inst: VrrpInstance, held: Held, d: Deletion): string | undefined {
  switch (d.kind) {
    case 'address': {
      if (!held.addrs.some((a) => a.family === d.family && a.address === d.address)) return undefined;
      const v = [...inst.virtualIpaddress, ...inst.virtualIpaddressExcluded].find((x) => x.address === d.address);
      return v === undefined || v.noTrack ? undefined : `virtual address ${d.address} deleted`;
    }
    case 'route': {
      const same = (r: { family: 4 | 6; to: string; prefixLen: number; table?: number; protocol?: number }): boolean =>
        r.family === d.family && r.to === d.to && r.prefixLen === d.prefixLen && (r.table ?? RT_TABLE_MAIN) === d.table && (r.protocol ?? RTPROT_KEEPALIVED) === d.protocol;
      if (!held.routes.some(same)) return undefined;
      const r = inst.virtualRoutes.find(same);
      return r === undefined || r.noTrack ? undefined : `virtual route ${d.to}/${d.prefixLen} deleted`;
    }
    case 'rule': {
      const same = (r: { family: 4 | 6; priority?: number; protocol?: number }): boolean =>
        r.family === d.family && r.priority === d.priority && (r.protocol ?? RTPROT_KEEPALIVED) === d.protocol;
      if (!(held.rules ?? []).some(same)) return undefined;
      const r = (inst.virtualRules ?? []).find(same);
      return r === undefined || r.noTrack ? undefined : `virtual rule pref ${d.priority} deleted`;
    }
  }
}
