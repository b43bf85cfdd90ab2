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

type RouteKey = { family: 4 | 6; to: string; prefixLen: number; table?: number; protocol?: number };
type RuleKey = { family: 4 | 6; priority?: number; protocol?: number };

/** Whether deletion `d` is of this address, route or rule (as the kernel identifies each). */
export function isDeletionOf(d: Deletion, x: { kind: 'address'; spec: { family: 4 | 6; address: string } } | { kind: 'route'; spec: RouteKey } | { kind: 'rule'; spec: RuleKey }): boolean {
  if (d.kind !== x.kind) return false;
  switch (d.kind) {
    case 'address': {
      const a = x.spec as { family: 4 | 6; address: string };
      return a.family === d.family && a.address === d.address;
    }
    case 'route': {
      const r = x.spec as RouteKey;
      return r.family === d.family && r.to === d.to && r.prefixLen === d.prefixLen && (r.table ?? RT_TABLE_MAIN) === d.table && (r.protocol ?? RTPROT_KEEPALIVED) === d.protocol;
    }
    case 'rule': {
      const r = x.spec as RuleKey;
      return r.family === d.family && r.priority === d.priority && (r.protocol ?? RTPROT_KEEPALIVED) === d.protocol;
    }
  }
}

/** What was lost, in words for the transition's reason; undefined if the deletion is not a tracked one of `inst`. */
export function lostOwned(inst: VrrpInstance, held: Held, d: Deletion): string | undefined {
  switch (d.kind) {
    case 'address': {
      if (!held.addrs.some((spec) => isDeletionOf(d, { kind: 'address', spec }))) return undefined;
      const v = [...inst.virtualIpaddress, ...inst.virtualIpaddressExcluded].find((spec) => isDeletionOf(d, { kind: 'address', spec }));
      return v === undefined || v.noTrack ? undefined : `virtual address ${d.address} deleted`;
    }
    case 'route': {
      if (!held.routes.some((spec) => isDeletionOf(d, { kind: 'route', spec }))) return undefined;
      const r = inst.virtualRoutes.find((spec) => isDeletionOf(d, { kind: 'route', spec }));
      return r === undefined || r.noTrack ? undefined : `virtual route ${d.to}/${d.prefixLen} deleted`;
    }
    case 'rule': {
      if (!(held.rules ?? []).some((spec) => isDeletionOf(d, { kind: 'rule', spec }))) return undefined;
      const r = (inst.virtualRules ?? []).find((spec) => isDeletionOf(d, { kind: 'rule', spec }));
      return r === undefined || r.noTrack ? undefined : `virtual rule pref ${d.priority} deleted`;
    }
  }
}
