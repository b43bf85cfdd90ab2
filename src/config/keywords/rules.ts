/**
 * `virtual_rules` / `static_rules` lines: `ip rule add` syntax as keepalived 2.2 parses it
 * (vrrp_ip_rule_route_parser.c; keepalived.conf(5) "Static routes/addresses/rules"):
 *
 *     [not] [from PREFIX|all] [to PREFIX|all] [iif|dev IF] [oif IF] [fwmark N[/M]] [tos N]
 *     [preference|priority|order N] [table|lookup N | goto N | l3mdev | blackhole |
 *     unreachable | prohibit | nop] [protocol P] [uidrange A-B] [sport A[-B]] [dport A[-B]]
 *     [suppress_prefixlength N] [no_track] [inet6]
 *
 * keepalived wants every rule to have a preference (a rule added later by a transition
 * must not land in another order); without one it assigns 16384, 16383, … in file order
 * and warns — so does vigil.
 */
import type { Family, SourceLoc, VirtualRule } from '../model.ts';
import { tokLoc, type Node } from '../tree.ts';
import { intTok, prefixTok, type Ctx } from '../values.ts';
import type { Mutable } from './table.ts';

/** iproute2's /etc/iproute2/rt_protos names */
export const ROUTE_PROTOCOLS: Readonly<Record<string, number>> = {
  redirect: 1,
  kernel: 2,
  boot: 3,
  static: 4,
  gated: 8,
  ra: 9,
  mrt: 10,
  zebra: 11,
  bird: 12,
  dnrouted: 13,
  xorp: 14,
  ntk: 15,
  dhcp: 16,
  keepalived: 18,
  babel: 42,
  bgp: 186,
  isis: 187,
  ospf: 188,
  rip: 189,
  eigrp: 192,
};

const ACTIONS = new Set(['blackhole', 'unreachable', 'prohibit', 'nop']);
/** options keepalived knows that vigil does not build, one value each, and why */
const RULE_VALUE_OPTS: ReadonlyMap<string, string> = new Map([
  ['track_group', 'track groups are not built'],
  ['tun_id', 'keepalived 2.2 does not parse it either'],
]);
/** IP protocol names ip-rule(8) takes for `ipproto` (/etc/protocols' common ones) */
const IP_PROTOS: Readonly<Record<string, number>> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, gre: 47, esp: 50, ah: 51, 'ipv6-icmp': 58, icmpv6: 58, sctp: 132, udplite: 136 };

/** `N` or `FROM/TO`, realm numbers 0..65535 (rt_realms names other than cosmos are not read) */
export function realmsValue(text: string): number | undefined {
  const one = (x: string): number | undefined => {
    if (x === 'cosmos') return 0;
    const n = /^0x[0-9a-f]+$/i.test(x) ? Number.parseInt(x, 16) : /^\d+$/.test(x) ? Number(x) : NaN;
    return Number.isInteger(n) && n >= 0 && n <= 0xffff ? n : undefined;
  };
  const parts = text.split('/');
  if (parts.length > 2) return undefined;
  const vals = parts.map(one);
  if (vals.some((v) => v === undefined)) return undefined;
  return vals.length === 2 ? (vals[0]! << 16) | vals[1]! : vals[0]!;
}
/** route metrics written as a plain integer (ip-route(8)); RTAX_* in the netlink layer */
export const ROUTE_INT_METRICS = new Set(['mtu', 'advmss', 'window', 'cwnd', 'ssthresh', 'initcwnd', 'initrwnd', 'hoplimit', 'reordering', 'quickack', 'fastopen_no_cookie']);
/** route metrics that ip(8) lets an operator `lock`: `mtu lock 1400` */
const LOCKABLE = new Set(['mtu', 'advmss', 'rtt', 'rttvar', 'reordering', 'window', 'cwnd', 'ssthresh', 'initcwnd', 'initrwnd', 'hoplimit', 'rto_min']);
/** what `features` takes */
const ROUTE_FEATURES = new Set(['ecn']);

/** `A` or `A-B` within 0..max */
function range(t: Node['kw'], ctx: Ctx, what: string, max: number): { start: number; end: number } | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(t.text);
  const start = m ? Number(m[1]) : NaN;
  const end = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || start > end || end > max) {
    ctx.sink.error(tokLoc(t), 'bad-value', `${what}: \`${t.text}\` is not N or N-M within 0..${max}`);
    return undefined;
  }
  return { start, end };
}
/** the first preference keepalived gives a rule without one (then one less each) */
const FIRST_AUTO_PREFERENCE = 16384;
const autoPref = new WeakMap<object, number>();

function num(t: Node['args'][number], ctx: Ctx, what: string, max: number): number | undefined {
  // `fwmark 0x10`, `tos 0x04`: ip(8) takes hex
  const text = t.text;
  const v = /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text.slice(2), 16) : intTok(t, ctx, what);
  if (v === undefined) return undefined;
  if (v < 0 || v > max) {
    ctx.sink.error(tokLoc(t), 'range', `${what}: ${v} is not in 0..${max}`);
    return undefined;
  }
  return v;
}

/** One rule line; undefined (with an error) when it cannot be used. */
export function ruleLine(k: Node, ctx: Ctx, what: string): VirtualRule | undefined {
  const words = [k.kw, ...k.args];
  const r: Partial<Mutable<VirtualRule>> & { loc: SourceLoc } = { loc: tokLoc(k.kw) };
  let family: Family | undefined;
  let forced6 = false;
  const setFamily = (f: Family, t: Node['kw']): boolean => {
    if (family !== undefined && family !== f) {
      ctx.sink.error(tokLoc(t), 'family-mismatch', `${what}: \`${t.text}\` is IPv${f} but the rule is IPv${family}`);
      return false;
    }
    family = f;
    return true;
  };
  for (let i = 0; i < words.length; i++) {
    const t = words[i]!;
    const w = t.text.toLowerCase();
    const val = words[i + 1];
    const need = (): Node['kw'] | undefined => {
      if (val === undefined) {
        ctx.sink.error(tokLoc(t), 'missing-value', `${what}: \`${t.text}\` needs a value`);
        return undefined;
      }
      i++;
      return val;
    };
    switch (w) {
      case 'not':
        r.invert = true;
        continue;
      case 'inet6':
        forced6 = true;
        if (!setFamily(6, t)) return undefined;
        continue;
      case 'no_track':
        r.noTrack = true;
        continue;
      case 'from':
      case 'to': {
        const v = need();
        if (v === undefined) return undefined;
        if (v.text.toLowerCase() === 'all') continue;
        const p = prefixTok(v, ctx, `${what} ${w}`);
        if (p === undefined) return undefined;
        if (!setFamily(p.family, v)) return undefined;
        r[w] = { address: p.address, prefixLen: p.prefixLen };
        continue;
      }
      case 'iif':
      case 'dev':
      case 'oif': {
        const v = need();
        if (v === undefined) return undefined;
        if (w === 'oif') r.oif = v.text;
        else r.iif = v.text;
        continue;
      }
      case 'fwmark': {
        const v = need();
        if (v === undefined) return undefined;
        const [mark, mask] = v.text.split('/');
        const m = num({ ...v, text: mark ?? '' }, ctx, `${what} fwmark`, 0xffffffff);
        if (m === undefined) return undefined;
        r.fwmark = m;
        if (mask !== undefined) {
          const mm = num({ ...v, text: mask }, ctx, `${what} fwmark mask`, 0xffffffff);
          if (mm === undefined) return undefined;
          r.fwmask = mm;
        }
        continue;
      }
      case 'tos':
      case 'dsfield': {
        const v = need();
        if (v === undefined) return undefined;
        const n = num(v, ctx, `${what} tos`, 255);
        if (n === undefined) return undefined;
        r.tos = n;
        continue;
      }
      case 'preference':
      case 'priority':
      case 'order':
      case 'pref': {
        const v = need();
        if (v === undefined) return undefined;
        const n = num(v, ctx, `${what} preference`, 0xffffffff);
        if (n === undefined) return undefined;
        r.priority = n;
        continue;
      }
      case 'table':
      case 'lookup':
      case 'goto': {
        const v = need();
        if (v === undefined) return undefined;
        const named = w === 'goto' ? undefined : ({ main: 254, local: 255, default: 253 } as Record<string, number>)[v.text.toLowerCase()];
        const n = named ?? num(v, ctx, `${what} ${w}`, 0xffffffff);
        if (n === undefined) return undefined;
        if (w === 'goto') r.goto = n;
        else r.table = n;
        continue;
      }
    }
    if (ACTIONS.has(w)) {
      r.action = w as NonNullable<VirtualRule['action']>;
      continue;
    }
    if (w === 'l3mdev') {
      r.l3mdev = true;
      continue;
    }
    if (w === 'protocol' || w === 'proto') {
      const v = need();
      if (v === undefined) return undefined;
      const n = ROUTE_PROTOCOLS[v.text.toLowerCase()] ?? num(v, ctx, `${what} protocol`, 255);
      if (n === undefined) return undefined;
      r.protocol = n;
      continue;
    }
    if (w === 'uidrange' || w === 'sport' || w === 'dport') {
      const v = need();
      if (v === undefined) return undefined;
      const rg = range(v, ctx, `${what} ${w}`, w === 'uidrange' ? 0xffffffff : 0xffff);
      if (rg === undefined) return undefined;
      if (w === 'uidrange') r.uidRange = rg;
      else r[w] = rg;
      continue;
    }
    if (w === 'suppress_prefixlength') {
      const v = need();
      if (v === undefined) return undefined;
      const n = num(v, ctx, `${what} suppress_prefixlength`, 128);
      if (n === undefined) return undefined;
      r.suppressPrefixLength = n;
      continue;
    }
    if (w === 'realms') {
      const v = need();
      if (v === undefined) return undefined;
      const n = realmsValue(v.text);
      if (n === undefined) {
        ctx.sink.error(tokLoc(v), 'bad-value', `${what} realms: \`${v.text}\` is not a realm or FROM/TO realms (0..65535)`);
        return undefined;
      }
      // keepalived: "realms is only valid for IPv4"
      if (!setFamily(4, t)) return undefined;
      r.realms = n;
      continue;
    }
    if (w === 'suppress_ifgroup' || w === 'sup_group') {
      const v = need();
      if (v === undefined) return undefined;
      // /etc/iproute2/group names only `default` (0)
      const n = v.text === 'default' ? 0 : num(v, ctx, `${what} suppress_ifgroup`, 0x7fffffff);
      if (n === undefined) return undefined;
      r.suppressIfgroup = n;
      continue;
    }
    if (w === 'ipproto' || w === 'ip_proto') {
      const v = need();
      if (v === undefined) return undefined;
      const n = IP_PROTOS[v.text.toLowerCase()] ?? num(v, ctx, `${what} ${w}`, 255);
      if (n === undefined) return undefined;
      r.ipProto = n;
      continue;
    }
    const why = RULE_VALUE_OPTS.get(w);
    if (why !== undefined) {
      if (need() === undefined) return undefined;
      ctx.sink.warn(tokLoc(t), 'unsupported-option', `${what} option \`${t.text}\` is not implemented by vigil (${why}); ignored`);
      continue;
    }
    ctx.sink.error(tokLoc(t), 'bad-value', `${what}: unexpected \`${t.text}\``);
    return undefined;
  }
  if (r.table === undefined && r.goto === undefined && r.action === undefined && !r.l3mdev) {
    ctx.sink.error(tokLoc(k.kw), 'missing-value', `${what}: no action (table N, goto N, l3mdev, blackhole, unreachable, prohibit or nop)`);
    return undefined;
  }
  // keepalived: a rule that could be either family is IPv4 unless `inet6`
  r.family = forced6 ? 6 : (family ?? 4);
  if (r.priority === undefined) {
    const p = autoPref.get(ctx.locs) ?? FIRST_AUTO_PREFERENCE;
    autoPref.set(ctx.locs, p - 1);
    r.priority = p;
    ctx.sink.warn(tokLoc(k.kw), 'rule-preference', `${what} has no preference; ${p} assigned as keepalived does (give each rule a preference)`);
  }
  if (k.children !== undefined) ctx.sink.warn(tokLoc(k.kw), 'unexpected-block', `a ${what} takes no { } block`);
  return r as VirtualRule;
}

export function ruleBlock(kids: readonly Node[], ctx: Ctx, what: string): VirtualRule[] {
  const out: VirtualRule[] = [];
  for (const k of kids) {
    const r = ruleLine(k, ctx, what);
    if (r !== undefined) out.push(r);
  }
  return out;
}
