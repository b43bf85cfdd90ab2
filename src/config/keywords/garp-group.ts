/**
 * `garp_group` (keepalived.conf(5) "garp_group"): the spacing of gratuitous ARPs and
 * unsolicited NAs on given interfaces, instead of the global vrrp_garp_interval /
 * vrrp_gna_interval. With `interfaces { … }` the spacing is shared by all of them.
 *
 *     garp_group {
 *         garp_interval S      # seconds, µs resolution
 *         gna_interval S
 *         interface X          # or: interfaces { X Y … }
 *     }
 */
import type { GarpGroup, GlobalDefs, VrrpInstance } from '../model.ts';
import { tokLoc, type Node } from '../tree.ts';
import { arg, noExtra, timerArg, type Ctx } from '../values.ts';
import { block, runBlock, simple, type BlockSpec, type Mutable } from './table.ts';

type Draft = Omit<Mutable<GarpGroup>, 'interfaces'> & { interfaces: string[] };

const spec: BlockSpec<Draft> = {
  name: 'garp_group',
  keywords: {
    garp_interval: simple((n, d, ctx) => {
      const v = timerArg(n, ctx);
      if (v !== undefined) d.garpIntervalMs = v;
    }),
    gna_interval: simple((n, d, ctx) => {
      const v = timerArg(n, ctx);
      if (v !== undefined) d.gnaIntervalMs = v;
    }),
    interface: simple((n, d, ctx) => {
      const t = arg(n, ctx, 0, 'an interface name');
      noExtra(n, ctx, 1);
      if (t !== undefined) d.interfaces.push(t.text);
    }),
    interfaces: (n, d, ctx) => {
      for (const k of block(n, ctx) ?? []) for (const t of [k.kw, ...k.args]) d.interfaces.push(t.text);
    },
  },
};

export function parseGarpGroup(n: Node, ctx: Ctx): GarpGroup | undefined {
  noExtra(n, ctx, 0);
  const kids = block(n, ctx);
  if (kids === undefined) return undefined;
  const d: Draft = { interfaces: [], loc: tokLoc(n.kw) };
  runBlock(kids, spec, d, ctx);
  if (d.interfaces.length === 0) {
    ctx.sink.error(d.loc, 'missing-keyword', 'garp_group has no `interface` or `interfaces`');
    return undefined;
  }
  return d;
}

/** The pacing an instance's gratuitous ARPs / NAs get: its interface's garp_group, else the globals. */
export function garpPacingFor(inst: VrrpInstance, groups: readonly GarpGroup[], g: GlobalDefs): VrrpInstance['garpPacing'] {
  const grp = groups.find((x) => x.interfaces.includes(inst.interface));
  const arp = grp !== undefined ? (grp.garpIntervalMs ?? 0) : g.vrrpGarpIntervalMs;
  const na = grp !== undefined ? (grp.gnaIntervalMs ?? 0) : g.vrrpGnaIntervalMs;
  if (arp <= 0 && na <= 0) return undefined;
  return { group: grp !== undefined ? `garp_group ${grp.interfaces.join(',')}` : inst.interface, arpIntervalMs: arp, naIntervalMs: na };
}
