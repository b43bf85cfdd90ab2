/**
 * `static_ipaddress`, `static_routes` and `static_rules`: kernel state vigil sets at start
 * and holds for its lifetime, whatever the VRRP state (keepalived.conf(5) "Static
 * routes/addresses/rules": they are NOT moved by VRRP). Removed at stop; on a reload only
 * what changed is added or removed. Only what this process added is removed: an address or
 * route that was already there (`present`) is left to whoever put it there.
 *
 * Order as keepalived's: addresses, then routes (which may need them as source or on-link),
 * then rules; removal in reverse.
 *
 * One that someone else deletes is put back at once (keepalived reinstate_static_address /
 * _route / _rule), unless it has `no_track`.
 */
import type { Config, GlobalDefs, RouteNextHop, VirtualAddress, VirtualRoute, VirtualRule } from '../config/model.ts';
import type { AddressSpec, NetControl, RouteSpec, RuleSpec } from '../netlink/net-control.ts';
import { describeRoute } from '../netlink/routes.ts';
import { describeRule } from '../netlink/rules.ts';
import type { Deletion } from '../netlink/deletion-watch.ts';
import { isDeletionOf } from './owned-deletion.ts';
import type { Logger } from './logger.ts';

/** The config's rule as the netlink layer takes it. */
export function ruleSpec(r: VirtualRule): RuleSpec {
  const out: RuleSpec = { family: r.family };
  if (r.from !== undefined) out.from = { ...r.from };
  if (r.to !== undefined) out.to = { ...r.to };
  if (r.invert) out.invert = true;
  if (r.iif !== undefined) out.iif = r.iif;
  if (r.oif !== undefined) out.oif = r.oif;
  if (r.fwmark !== undefined) out.fwmark = r.fwmark;
  if (r.fwmask !== undefined) out.fwmask = r.fwmask;
  if (r.tos !== undefined) out.tos = r.tos;
  if (r.priority !== undefined) out.priority = r.priority;
  if (r.table !== undefined) out.table = r.table;
  if (r.goto !== undefined) out.goto = r.goto;
  if (r.action !== undefined) out.action = r.action;
  if (r.l3mdev) out.l3mdev = true;
  if (r.protocol !== undefined) out.protocol = r.protocol;
  if (r.uidRange !== undefined) out.uidRange = { ...r.uidRange };
  if (r.sport !== undefined) out.sport = { ...r.sport };
  if (r.dport !== undefined) out.dport = { ...r.dport };
  if (r.suppressPrefixLength !== undefined) out.suppressPrefixLength = r.suppressPrefixLength;
  if (r.realms !== undefined) out.realms = r.realms;
  if (r.suppressIfgroup !== undefined) out.suppressIfgroup = r.suppressIfgroup;
  if (r.ipProto !== undefined) out.ipProto = r.ipProto;
  return out;
}

/** A route as the netlink layer takes it; `dev`: the device when the route names none (virtual_routes: the instance's interface; a static route has none). */
export function routeSpec(r: VirtualRoute, dev?: string): RouteSpec {
  const ifname = r.dev ?? dev;
  return {
    to: r.to,
    prefixLen: r.prefixLen,
    family: r.family,
    ...(r.via !== undefined ? { via: r.via } : {}),
    ...(r.orVia !== undefined ? { orVia: r.orVia } : {}),
    ...(r.src !== undefined ? { src: r.src } : {}),
    ...(ifname !== undefined ? { ifname } : {}),
    ...(r.table !== undefined ? { table: r.table } : {}),
    ...(r.metric !== undefined ? { metric: r.metric } : {}),
    ...(r.scope !== undefined ? { scope: r.scope } : {}),
    ...(r.type !== undefined ? { type: r.type } : {}),
    ...(r.protocol !== undefined ? { protocol: r.protocol } : {}),
    ...(r.nexthops !== undefined ? { nexthops: r.nexthops.map(hopSpec) } : {}),
    ...(r.onlink ? { onlink: true } : {}),
    ...(r.tos !== undefined ? { tos: r.tos } : {}),
    ...(r.metrics !== undefined ? { metrics: { ...r.metrics } } : {}),
    ...(r.lockedMetrics !== undefined ? { lockedMetrics: [...r.lockedMetrics] } : {}),
    ...(r.ecn ? { ecn: true } : {}),
    ...(r.realms !== undefined ? { realms: r.realms } : {}),
    ...(r.congctl !== undefined ? { congctl: r.congctl } : {}),
    ...(r.pref !== undefined ? { pref: r.pref } : {}),
    ...(r.expires !== undefined ? { expires: r.expires } : {}),
    ...(r.insert !== undefined ? { insert: r.insert } : {}),
    ...(r.encap !== undefined ? { encap: { ...r.encap } } : {}),
  };
}

function hopSpec(h: RouteNextHop): NonNullable<RouteSpec['nexthops']>[number] {
  return {
    ...(h.via !== undefined ? { via: h.via } : {}),
    ...(h.dev !== undefined ? { ifname: h.dev } : {}),
    ...(h.weight !== undefined ? { weight: h.weight } : {}),
    ...(h.onlink ? { onlink: true } : {}),
  };
}

/** keepalived: an address without `dev` goes on default_interface (global_defs), default eth0. */
export function staticAddressSpec(v: VirtualAddress, g: GlobalDefs): AddressSpec {
  const dflt = g.defaultInterface ?? 'eth0';
  return {
    ifname: v.dev ?? dflt,
    address: v.address,
    prefixLen: v.prefixLen,
    family: v.family,
    ...(v.label !== undefined ? { label: v.label } : {}),
    ...(v.scope !== undefined ? { scope: v.scope } : {}),
    ...(v.broadcast !== undefined ? { broadcast: v.broadcast } : {}),
    ...(v.peer !== undefined ? { peer: v.peer } : {}),
    ...(v.noPrefixRoute !== undefined ? { noPrefixRoute: v.noPrefixRoute } : {}),
  };
}

type Kind = 'address' | 'route' | 'rule';
interface Held {
  readonly kind: Kind;
  readonly key: string;
  readonly spec: AddressSpec | RouteSpec | RuleSpec;
  readonly noTrack: boolean;
}

const addrKey = (a: AddressSpec): string => `${a.ifname} ${a.address}/${a.prefixLen} ${JSON.stringify(a)}`;

export class StaticState {
  /** what this process added, in the order it added it */
  private held: Held[] = [];
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly net: NetControl,
    private readonly log: Logger,
  ) {}

  /** Brings the kernel to the config's static state: removes what left the config, adds what is new. Never throws; failures are logged. */
  async apply(config: Config): Promise<void> {
    const want: Held[] = [
      ...(config.staticIpaddress ?? []).map((v): Held => {
        const spec = staticAddressSpec(v, config.globalDefs);
        return { kind: 'address', key: addrKey(spec), spec, noTrack: v.noTrack === true };
      }),
      ...(config.staticRoutes ?? []).map((r): Held => {
        const spec = routeSpec(r);
        return { kind: 'route', key: JSON.stringify(spec), spec, noTrack: r.noTrack === true };
      }),
      ...(config.staticRules ?? []).map((r): Held => {
        const spec = ruleSpec(r);
        return { kind: 'rule', key: JSON.stringify(spec), spec, noTrack: r.noTrack === true };
      }),
    ];
    if (want.length > 0 && this.unwatch === undefined) {
      try {
        this.unwatch = this.net.watchDeletions((d) => void this.onDeletion(d));
      } catch (e) {
        this.log.warn({ event: 'static.watch-failed', err: (e as Error).message }, 'cannot watch the kernel for deletions; a deleted static address, route or rule is not put back');
      }
    }
    const wanted = new Set(want.map((w) => `${w.kind}:${w.key}`));
    const gone = this.held.filter((h) => !wanted.has(`${h.kind}:${h.key}`));
    await this.remove(gone);
    // a reload may change no_track alone (not part of the key)
    const byKey = new Map(want.map((w) => [`${w.kind}:${w.key}`, w]));
    this.held = this.held.map((h) => byKey.get(`${h.kind}:${h.key}`) ?? h);
    const have = new Set(this.held.map((h) => `${h.kind}:${h.key}`));
    for (const w of want) {
      if (have.has(`${w.kind}:${w.key}`)) continue;
      const what = describe(w);
      try {
        const r = await this.add(w);
        if (r === 'added') this.held.push(w);
        this.log.info({ event: 'static.added', kind: w.kind, what, result: r }, `static ${w.kind} ${what} ${r}`);
      } catch (e) {
        this.log.error({ event: 'static.failed', kind: w.kind, what, err: (e as Error).message }, `static ${w.kind} ${what} not added`);
      }
    }
  }

  /** Removes everything this process added (at stop). */
  async release(): Promise<void> {
    this.unwatch?.();
    this.unwatch = undefined;
    await this.remove(this.held);
  }

  /** Puts back a held, tracked one that someone else deleted. */
  private async onDeletion(d: Deletion): Promise<void> {
    for (const h of this.held) {
      if (h.noTrack || !isDeletionOf(d, { kind: h.kind, spec: h.spec } as Parameters<typeof isDeletionOf>[1])) continue;
      const what = describe(h);
      try {
        await this.add(h);
        this.log.warn({ event: 'static.reinstated', kind: h.kind, what }, `static ${h.kind} ${what} was deleted by someone else; put back`);
      } catch (e) {
        this.log.error({ event: 'static.failed', kind: h.kind, what, err: (e as Error).message }, `static ${h.kind} ${what} was deleted and could not be put back`);
      }
    }
  }

  private async add(w: Held): Promise<'added' | 'present'> {
    switch (w.kind) {
      case 'address':
        return this.net.addAddress(w.spec as AddressSpec);
      case 'route':
        return this.net.addRoute(w.spec as RouteSpec);
      case 'rule':
        return this.net.addRule(w.spec as RuleSpec);
    }
  }

  private async remove(list: readonly Held[]): Promise<void> {
    const order: Kind[] = ['rule', 'route', 'address'];
    const drop = new Set(list);
    // Not held from now on: our own deletions must not be put back (onDeletion).
    this.held = this.held.filter((h) => !drop.has(h));
    for (const kind of order) {
      for (const h of [...list].reverse()) {
        if (h.kind !== kind) continue;
        const what = describe(h);
        try {
          if (kind === 'rule') await this.net.removeRule(h.spec as RuleSpec);
          else if (kind === 'route') await this.net.removeRoute(h.spec as RouteSpec);
          else await this.net.removeAddress(h.spec as AddressSpec);
          this.log.info({ event: 'static.removed', kind, what }, `static ${kind} ${what} removed`);
        } catch (e) {
          this.log.warn({ event: 'static.failed', kind, what, err: (e as Error).message }, `static ${kind} ${what} not removed`);
        }
      }
    }
  }
}

function describe(h: Held): string {
  if (h.kind === 'rule') return describeRule(h.spec as RuleSpec);
  if (h.kind === 'route') return describeRoute(h.spec as RouteSpec);
  const a = h.spec as AddressSpec;
  return `${a.address}/${a.prefixLen} dev ${a.ifname}`;
}
