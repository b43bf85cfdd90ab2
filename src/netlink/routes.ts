/**
 * `virtual_routes` on the wire: RouteSpec → RTM_NEWROUTE/RTM_DELROUTE (struct rtmsg + RTA_*),
 * pure.
 *
 * - Protocol RTPROT_KEEPALIVED (18, linux/rtnetlink.h) as keepalived uses, so `ip route`
 *   shows `proto keepalived` and an operator sees who owns the route. Deleting with the same
 *   protocol makes the kernel remove only a route vigil (or keepalived) installed, never an
 *   operator's static route to the same prefix (fib_table_delete / ip6_route_del match
 *   rtm_protocol when it is non-zero).
 * - The table goes in RTA_TABLE (u32) always and in rtm_table when it fits a u8, as iproute2
 *   does; default main (254).
 * - Scope defaults as iproute2's `ip route add`: host for local/nat, link for
 *   broadcast/multicast/anycast and for a unicast route with no gateway, else universe; a
 *   delete uses RT_SCOPE_NOWHERE (match any scope) unless one is given.
 * - No RTA_DST for a /0 (default route), as iproute2.
 * - `via A or B` (keepalived's second gateway) is one route over two next hops
 *   (RTA_MULTIPATH, each a struct rtnexthop on the route's device with an RTA_GATEWAY), as
 *   keepalived sends it; `nexthop …` lists are the same with a device, weight (rtnh_hops =
 *   weight − 1) and RTNH_F_ONLINK per hop.
 */
import type { rt } from 'netlink';
import { invalidSpec } from './errors.ts';
import { familyNumber, ipBytes, scopeNumber } from './addresses.ts';
import type { RouteSpec } from './net-control.ts';

/** linux/rtnetlink.h */
export const RTPROT_KEEPALIVED = 18;
export const RT_TABLE_MAIN = 254;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RT_SCOPE_NOWHERE = 255;

/** iproute2 route type names → RTN_* (linux/rtnetlink.h). */
export const ROUTE_TYPES: Readonly<Record<string, number>> = {
  unicast: 1,
  local: 2,
  broadcast: 3,
  anycast: 4,
  multicast: 5,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
  throw: 9,
  nat: 10,
};

export function describeRoute(r: RouteSpec): string {
  const parts = [`${r.type && r.type !== 'unicast' ? `${r.type} ` : ''}${r.to}/${r.prefixLen}`];
  if (r.via) parts.push(`via ${r.via}`);
  if (r.orVia) parts.push(`or ${r.orVia}`);
  for (const h of r.nexthops ?? []) {
    parts.push(`nexthop${h.via ? ` via ${h.via}` : ''}${h.ifname ? ` dev ${h.ifname}` : ''}${h.weight !== undefined ? ` weight ${h.weight}` : ''}${h.onlink ? ' onlink' : ''}`);
  }
  if (r.ifname) parts.push(`dev ${r.ifname}`);
  if (r.src) parts.push(`src ${r.src}`);
  if (r.table !== undefined) parts.push(`table ${r.table}`);
  if (r.metric !== undefined) parts.push(`metric ${r.metric}`);
  if (r.protocol !== undefined) parts.push(`proto ${r.protocol}`);
  if (r.tos !== undefined) parts.push(`tos ${r.tos}`);
  for (const [k, v] of Object.entries(r.metrics ?? {})) parts.push(`${k}${r.lockedMetrics?.includes(k) ? ' lock' : ''} ${v}`);
  if (r.ecn) parts.push('features ecn');
  if (r.congctl !== undefined) parts.push(`congctl${r.lockedMetrics?.includes('congctl') ? ' lock' : ''} ${r.congctl}`);
  if (r.realms !== undefined) parts.push(`realms ${r.realms >>> 16}/${r.realms & 0xffff}`);
  if (r.pref !== undefined) parts.push(`pref ${r.pref}`);
  if (r.expires !== undefined) parts.push(`expires ${r.expires}`);
  if (r.insert !== undefined) parts.push(r.insert);
  if (r.encap !== undefined) {
    const e = r.encap;
    parts.push(`encap ${e.type}${e.id !== undefined ? ` id ${e.id}` : ''}${e.dst ? ` dst ${e.dst}` : ''}${e.src ? ` src ${e.src}` : ''}${e.tos !== undefined ? ` tos ${e.tos}` : ''}${e.ttl !== undefined ? ` ttl ${e.ttl}` : ''}`);
  }
  return parts.join(' ');
}

/** Route type name (or number) → RTN_*; throws VIGIL_NL_INVALID_SPEC. */
export function routeTypeNumber(type: string | undefined, op: string, object: string): number {
  if (type === undefined || type.trim() === '') return ROUTE_TYPES['unicast']!;
  const t = type.trim().toLowerCase();
  const n = ROUTE_TYPES[t];
  if (n !== undefined) return n;
  throw invalidSpec(op, object, `route type "${type}" is not one of ${Object.keys(ROUTE_TYPES).join('/')}`);
}

function defaultScope(type: number, hasGateway: boolean): number {
  if (type === ROUTE_TYPES['local'] || type === ROUTE_TYPES['nat']) return RT_SCOPE_HOST;
  if (type === ROUTE_TYPES['broadcast'] || type === ROUTE_TYPES['multicast'] || type === ROUTE_TYPES['anycast']) {
    return RT_SCOPE_LINK;
  }
  if (type === ROUTE_TYPES['unicast'] && !hasGateway) return RT_SCOPE_LINK;
  return RT_SCOPE_UNIVERSE;
}

/**
 * The RTM_NEWROUTE (`add`) or RTM_DELROUTE (`del`) message for `r`; `oif` is the resolved index
 * of `r.ifname`. Throws VIGIL_NL_INVALID_SPEC (nothing sent) for a spec the kernel could not take.
 */
export function toRouteMessage(r: RouteSpec, oif: number | undefined, op: 'add' | 'del', hopIfindex: ReadonlyArray<number | undefined> = []): rt.RouteMessage {
  const opName = op === 'add' ? 'add route' : 'remove route';
  const object = describeRoute(r);
  if (r.family !== 4 && r.family !== 6) throw invalidSpec(opName, object, `family ${String(r.family)} is not 4 or 6`);
  const max = r.family === 4 ? 32 : 128;
  if (!Number.isInteger(r.prefixLen) || r.prefixLen < 0 || r.prefixLen > max) {
    throw invalidSpec(opName, object, `prefix length ${r.prefixLen} is not in 0..${max}`);
  }
  const type = routeTypeNumber(r.type, opName, object);
  const table = r.table ?? RT_TABLE_MAIN;
  if (!Number.isInteger(table) || table < 1 || table > 0xffffffff) {
    throw invalidSpec(opName, object, `table ${table} is not in 1..4294967295`);
  }
  if (r.metric !== undefined && (!Number.isInteger(r.metric) || r.metric < 0 || r.metric > 0xffffffff)) {
    throw invalidSpec(opName, object, `metric ${r.metric} is not in 0..4294967295`);
  }
  const dst = ipBytes(r.to, r.family, opName, object, 'destination');
  const gateway = r.via ? ipBytes(r.via, r.family, opName, object, 'gateway') : undefined;
  const gateway2 = r.orVia ? ipBytes(r.orVia, r.family, opName, object, 'second gateway') : undefined;
  if (gateway2 && !gateway) throw invalidSpec(opName, object, '`or` needs a first gateway');
  const hops: NextHop[] = (r.nexthops ?? []).map((h, i) => {
    if (h.weight !== undefined && !(Number.isInteger(h.weight) && h.weight >= 1 && h.weight <= 256)) {
      throw invalidSpec(opName, object, `nexthop weight ${h.weight} is not in 1..256`);
    }
    return {
      ...(h.via ? { gateway: ipBytes(h.via, r.family, opName, object, 'nexthop gateway') } : {}),
      ifindex: hopIfindex[i] ?? oif ?? 0,
      hops: (h.weight ?? 1) - 1,
      onlink: h.onlink === true,
    };
  });
  if (gateway && gateway2) hops.push({ gateway, ifindex: oif ?? 0, hops: 0, onlink: false }, { gateway: gateway2, ifindex: oif ?? 0, hops: 0, onlink: false });
  const protocol = r.protocol ?? RTPROT_KEEPALIVED;
  if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) throw invalidSpec(opName, object, `protocol ${protocol} is not in 0..255`);
  const prefsrc = r.src ? ipBytes(r.src, r.family, opName, object, 'source') : undefined;
  let scope: number;
  if (r.scope !== undefined && r.scope.trim() !== '') {
    const n = scopeNumber(r.scope);
    if (n === undefined) throw invalidSpec(opName, object, `scope "${r.scope}" is not host/link/global/site/nowhere or 0..255`);
    scope = n;
  } else {
    scope = op === 'del' ? RT_SCOPE_NOWHERE : defaultScope(type, gateway !== undefined || hops.some((h) => h.gateway !== undefined));
  }
  if (r.tos !== undefined && !(Number.isInteger(r.tos) && r.tos >= 0 && r.tos <= 255)) throw invalidSpec(opName, object, `tos ${r.tos} is not in 0..255`);
  const metrics = routeMetrics(r, opName, object);
  const data: rt.Route = {
    family: familyNumber(r.family),
    dstLen: r.prefixLen,
    ...(r.tos !== undefined ? { tos: r.tos } : {}),
    table: table < 256 ? table : 0,
    // The package's enum predates RTPROT_KEEPALIVED; the kernel takes any u8.
    protocol: protocol as rt.RouteProtocol,
    scope,
    type,
    // RTNH_F_ONLINK (4) lives in rtm_flags' low byte, below the RTM_F_* names the package knows
    ...(r.onlink ? { flags: { __unknown: RTNH_F_ONLINK } } : {}),
  };
  const attrs: rt.RouteAttrs = { table };
  if (r.prefixLen > 0) attrs.dst = dst;
  if (hops.length > 0) attrs.multipath = multipath(hops);
  else {
    if (gateway) attrs.gateway = gateway;
    if (oif !== undefined) attrs.oif = oif;
  }
  if (prefsrc) attrs.prefsrc = prefsrc;
  if (metrics !== undefined && op === 'add') attrs.metrics = metrics;
  if (r.metric !== undefined) attrs.priority = r.metric;
  if (r.realms !== undefined) {
    if (r.family !== 4) throw invalidSpec(opName, object, 'realms are IPv4 only');
    if (!Number.isInteger(r.realms) || r.realms < 0 || r.realms > 0xffffffff) throw invalidSpec(opName, object, `realms ${r.realms} is not in 0..4294967295`);
    attrs.flow = r.realms;
  }
  if ((r.pref !== undefined || r.expires !== undefined) && r.family !== 6) throw invalidSpec(opName, object, 'pref and expires are IPv6 only');
  if (r.pref !== undefined) {
    if (!Number.isInteger(r.pref) || r.pref < 0 || r.pref > 255) throw invalidSpec(opName, object, `pref ${r.pref} is not in 0..255`);
    attrs.pref = Buffer.from([r.pref]);
  }
  if (r.expires !== undefined && op === 'add') {
    if (!Number.isInteger(r.expires) || r.expires < 0 || r.expires > 0xffffffff) throw invalidSpec(opName, object, `expires ${r.expires} is not in 0..4294967295`);
    attrs.expires = u32(r.expires);
  }
  if (r.encap !== undefined && op === 'add') {
    attrs.encapType = r.encap.type === 'ip' ? LWTUNNEL_ENCAP_IP : LWTUNNEL_ENCAP_IP6;
    attrs.encap = encapAttrs(r.encap, opName, object);
  }
  return { kind: 'route', data, attrs };
}

/** linux/lwtunnel.h */
const LWTUNNEL_ENCAP_IP = 2;
const LWTUNNEL_ENCAP_IP6 = 4;
/** LWTUNNEL_IP_* and LWTUNNEL_IP6_* share their numbers */
const LWT_ID = 1;
const LWT_DST = 2;
const LWT_SRC = 3;
const LWT_TTL = 4;
const LWT_TOS = 5;
const LWT_FLAGS = 6;

function nlattr(type: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(4 + ((payload.length + 3) & ~3));
  b.writeUInt16LE(4 + payload.length, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}

/** RTA_ENCAP's nested attributes for an ip / ip6 lightweight tunnel, as keepalived add_encap_ip/_ip6 writes them. */
function encapAttrs(e: NonNullable<RouteSpec['encap']>, op: string, object: string): Buffer {
  const fam = e.type === 'ip' ? 4 : 6;
  const parts: Buffer[] = [];
  if (e.id !== undefined) {
    if (!/^\d+$/.test(e.id) || BigInt(e.id) > 0xffffffffffffffffn) throw invalidSpec(op, object, `encap id ${e.id} is not a u64`);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(e.id));
    parts.push(nlattr(LWT_ID, b));
  }
  if (e.dst !== undefined) parts.push(nlattr(LWT_DST, ipBytes(e.dst, fam, op, object, 'encap dst')));
  if (e.src !== undefined) parts.push(nlattr(LWT_SRC, ipBytes(e.src, fam, op, object, 'encap src')));
  const u8 = (v: number, what: string): Buffer => {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw invalidSpec(op, object, `encap ${what} ${v} is not in 0..255`);
    return Buffer.from([v]);
  };
  if (e.tos !== undefined) parts.push(nlattr(LWT_TOS, u8(e.tos, 'tos')));
  if (e.ttl !== undefined) parts.push(nlattr(LWT_TTL, u8(e.ttl, 'ttl')));
  if (e.flags !== undefined) {
    if (!Number.isInteger(e.flags) || e.flags < 0 || e.flags > 0xffff) throw invalidSpec(op, object, `encap flags ${e.flags} is not in 0..65535`);
    const b = Buffer.alloc(2);
    b.writeUInt16LE(e.flags);
    parts.push(nlattr(LWT_FLAGS, b));
  }
  return Buffer.concat(parts);
}

/** linux/rtnetlink.h */
const RTA_GATEWAY = 5;

const RTNH_F_ONLINK = 4;

export interface NextHop {
  readonly gateway?: Buffer;
  readonly ifindex: number;
  /** rtnh_hops: the weight less one */
  readonly hops: number;
  readonly onlink: boolean;
}

/** RTA_MULTIPATH's payload: one struct rtnexthop (len u16, flags u8, hops u8, ifindex s32), with an RTA_GATEWAY when it has one, per hop. */
export function multipath(hops: readonly NextHop[]): Buffer {
  const parts = hops.map((h) => {
    const attrLen = h.gateway ? 4 + h.gateway.length : 0;
    const b = Buffer.alloc(8 + ((attrLen + 3) & ~3));
    b.writeUInt16LE(b.length, 0);
    b.writeUInt8(h.onlink ? RTNH_F_ONLINK : 0, 2);
    b.writeUInt8(h.hops, 3);
    b.writeInt32LE(h.ifindex, 4);
    if (h.gateway) {
      b.writeUInt16LE(attrLen, 8);
      b.writeUInt16LE(RTA_GATEWAY, 10);
      h.gateway.copy(b, 12);
    }
    return b;
  });
  return Buffer.concat(parts);
}

/** linux/rtnetlink.h RTAX_*: ip-route(8) name → the RouteMetrics field and its number (for RTAX_LOCK) */
const RTAX: Readonly<Record<string, { key: keyof rt.RouteMetrics; n: number }>> = {
  mtu: { key: 'mtu', n: 2 },
  window: { key: 'window', n: 3 },
  ssthresh: { key: 'ssthresh', n: 6 },
  cwnd: { key: 'cwnd', n: 7 },
  advmss: { key: 'advmss', n: 8 },
  reordering: { key: 'reordering', n: 9 },
  rtt: { key: 'rtt', n: 4 },
  rttvar: { key: 'rttvar', n: 5 },
  hoplimit: { key: 'hoplimit', n: 10 },
  initcwnd: { key: 'initcwnd', n: 11 },
  rto_min: { key: 'rtoMin', n: 13 },
  initrwnd: { key: 'initrwnd', n: 14 },
  quickack: { key: 'quickack', n: 15 },
  fastopen_no_cookie: { key: 'fastopenNoCookie', n: 17 },
};
const RTAX_FEATURE_ECN = 1;
const RTAX_CC_ALGO = 16;

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

/** RTA_METRICS for `r`, or undefined when it sets none. */
function routeMetrics(r: RouteSpec, op: string, object: string): rt.RouteMetrics | undefined {
  const out: rt.RouteMetrics = {};
  let any = false;
  let lock = 0;
  for (const [name, v] of Object.entries(r.metrics ?? {})) {
    const m = RTAX[name];
    if (m === undefined) throw invalidSpec(op, object, `route metric ${name} is not one of ${Object.keys(RTAX).join('/')}`);
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw invalidSpec(op, object, `${name} ${v} is not in 0..4294967295`);
    (out as Record<string, Buffer>)[m.key] = u32(v);
    any = true;
  }
  for (const name of r.lockedMetrics ?? []) {
    const n = name === 'congctl' ? RTAX_CC_ALGO : RTAX[name]?.n;
    if (n !== undefined) lock |= 1 << n;
  }
  if (r.congctl !== undefined) {
    // a NUL-terminated name, as iproute2 sends it; the kernel looks it up (ENOENT if unknown)
    if (!/^[\x21-\x7e]{1,15}$/.test(r.congctl)) throw invalidSpec(op, object, `congctl "${r.congctl}" is not a congestion control name`);
    out.ccAlgo = Buffer.from(`${r.congctl}\0`);
    any = true;
  }
  if (lock !== 0) out.lock = u32(lock);
  if (r.ecn) {
    out.features = u32(RTAX_FEATURE_ECN);
    any = true;
  }
  return any ? out : undefined;
}
