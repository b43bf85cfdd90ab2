/**
 * `vrrp_script`, `vrrp_sync_group` and `vrrp_instance` blocks (keepalived vrrp_parser.c).
 *
 * Instances are parsed into drafts that keep "not set" apart from a value, because some
 * defaults depend on things known only at the end of the file: global_defs (version,
 * garp_*, vrrp_strict) and the instance's own address family (IPv6 defaults to VRRPv3).
 * `finishInstance` applies them.
 */
import type {
  Authentication,
  GlobalDefs,
  ScriptCommand,
  SourceLoc,
  TrackRef,
  VirtualAddress,
  RouteEncap,
  RouteNextHop,
  VirtualRoute,
  VirtualRule,
  VrrpInstance,
  VrrpScript,
  VrrpSyncGroup,
} from '../model.ts';
import { tokLoc, type Node } from '../tree.ts';
import {
  arg,
  boolArg,
  enumArg,
  intArg,
  intTok,
  ipArg,
  ipTok,
  noExtra,
  parseIntStrict,
  parseIp,
  prefixTok,
  scriptArg,
  setLoc,
  timerArg,
  wholeSecondsArg,
  type Ctx,
} from '../values.ts';
import { ROUTE_PROTOCOLS, realmsValue, ruleBlock } from './rules.ts';
import { block, runBlock, simple, type BlockSpec, type Handler, type Mutable } from './table.ts';

// ---------------------------------------------------------------- vrrp_script

export type ScriptDraft = Mutable<Omit<VrrpScript, 'script' | 'timeoutMs'>> & {
  script?: ScriptCommand;
  timeoutMs?: number;
  user?: { user: string; group?: string };
};

export function newScript(name: string, loc: SourceLoc): ScriptDraft {
  return { name, loc, intervalMs: 1000, weight: 0, weightReverse: false, fall: 1, rise: 1, initFail: false };
}

/** vrrp_script interval / timeout, ms: keepalived's whole seconds (wholeSecondsArg). */
function scriptSeconds(n: Node, s: ScriptDraft, ctx: Ctx, what: 'interval' | 'timeout'): number | undefined {
  return wholeSecondsArg(n, ctx, `vrrp_script ${s.name}: ${what}`, 'ignored');
}

/** rise / fall: 1..2^31-1, else 1 ("rise value 'X' invalid, defaulting to 1"). */
function scriptCount(n: Node, s: ScriptDraft, ctx: Ctx): number | undefined {
  const t = arg(n, ctx, 0, 'an integer');
  if (t === undefined) return undefined;
  const v = parseIntStrict(t.text);
  if (v === undefined || v < 1 || v > 2 ** 31 - 1 || t.text.startsWith('+')) {
    ctx.sink.warn(tokLoc(t), 'range', `vrrp_script ${s.name}: ${n.kw.text} \`${t.text}\` is not in 1..2147483647; using 1, as keepalived does`);
    return 1;
  }
  return v;
}

export const vrrpScriptSpec: BlockSpec<ScriptDraft> = {
  name: 'vrrp_script',
  keywords: {
    script: simple((n, s, ctx) => {
      const c = scriptArg(n, ctx, false);
      if (c !== undefined) s.script = c;
    }),
    interval: simple((n, s, ctx) => {
      const v = scriptSeconds(n, s, ctx, 'interval');
      if (v !== undefined) {
        s.intervalMs = v;
        setLoc(ctx, s, 'intervalMs', n.args[0] ?? n.kw);
      }
    }),
    timeout: simple((n, s, ctx) => {
      const v = scriptSeconds(n, s, ctx, 'timeout');
      if (v !== undefined) {
        s.timeoutMs = v;
        setLoc(ctx, s, 'timeoutMs', n.args[0] ?? n.kw);
      }
    }),
    weight: simple((n, s, ctx) => {
      const v = intArg(n, ctx, 0, false);
      if (v === undefined) return;
      s.weight = v;
      setLoc(ctx, s, 'weight', n.args[0] ?? n.kw);
      const r = n.args[1];
      if (r !== undefined) {
        const w = r.text.toLowerCase();
        if (w === 'reverse') s.weightReverse = true;
        else if (w === 'noreverse' || w === 'no_reverse') s.weightReverse = false;
        else ctx.sink.error(tokLoc(r), 'bad-value', `weight: \`${r.text}\` is not reverse|noreverse`);
      }
      noExtra(n, ctx, 2);
    }),
    rise: simple((n, s, ctx) => {
      const v = scriptCount(n, s, ctx);
      if (v !== undefined) {
        s.rise = v;
        setLoc(ctx, s, 'rise', n.args[0] ?? n.kw);
      }
    }),
    fall: simple((n, s, ctx) => {
      const v = scriptCount(n, s, ctx);
      if (v !== undefined) {
        s.fall = v;
        setLoc(ctx, s, 'fall', n.args[0] ?? n.kw);
      }
    }),
    user: simple((n, s, ctx) => {
      const u = arg(n, ctx, 0, 'a user name');
      if (u === undefined) return;
      const g = n.args[1];
      s.user = g === undefined ? { user: u.text } : { user: u.text, group: g.text };
      noExtra(n, ctx, 2);
    }),
    init_fail: simple((_n, s) => {
      s.initFail = true;
    }),
  },
};

export function finishScript(d: ScriptDraft, ctx: Ctx): VrrpScript | undefined {
  if (d.script === undefined) {
    ctx.sink.error(d.loc, 'missing-keyword', `vrrp_script ${d.name} has no \`script\``);
    return undefined;
  }
  let script = d.script;
  if (d.user !== undefined) script = { ...script, ...d.user };
  const out: VrrpScript = {
    name: d.name,
    script,
    intervalMs: d.intervalMs,
    timeoutMs: d.timeoutMs ?? d.intervalMs,
    weight: d.weight,
    weightReverse: d.weightReverse,
    fall: d.fall,
    rise: d.rise,
    initFail: d.initFail,
    loc: d.loc,
    ...(d.endLoc !== undefined ? { endLoc: d.endLoc } : {}),
  };
  const l = ctx.locs.get(d);
  if (l !== undefined) ctx.locs.set(out, l);
  return out;
}

// ---------------------------------------------------------------- track lists

/** `track_script { NAME [weight N [reverse|noreverse]] }`, same for track_interface. */
function trackList(n: Node, ctx: Ctx, out: TrackRef[]): void {
  const kids = block(n, ctx);
  if (kids === undefined) return;
  for (const k of kids) {
    const ref: Mutable<TrackRef> = { name: k.kw.text, loc: tokLoc(k.kw) };
    const a = k.args;
    let i = 0;
    if (a[0] !== undefined) {
      if (a[0].text.toLowerCase() !== 'weight') {
        ctx.sink.error(tokLoc(a[0]), 'bad-value', `${n.kw.text}: expected \`weight N\` after ${k.kw.text}, found \`${a[0].text}\``);
        continue;
      }
      const w = a[1];
      if (w === undefined) {
        ctx.sink.error(tokLoc(a[0]), 'missing-value', `${n.kw.text}: \`weight\` needs an integer`);
        continue;
      }
      const v = intTok(w, ctx, 'weight');
      if (v === undefined) continue;
      ref.weight = v;
      ctx.locs.set(ref, { weight: tokLoc(w) });
      i = 2;
      const r = a[2];
      if (r !== undefined) {
        const t = r.text.toLowerCase();
        if (t === 'reverse') ref.weightReverse = true;
        else if (t === 'noreverse' || t === 'no_reverse') ref.weightReverse = false;
        else ctx.sink.error(tokLoc(r), 'bad-value', `${n.kw.text}: \`${r.text}\` is not reverse|noreverse`);
        i = 3;
      }
    }
    const extra = a[i];
    if (extra !== undefined) ctx.sink.warn(tokLoc(extra), 'extra-argument', `${n.kw.text}: \`${extra.text}\` and what follows ignored`);
    if (k.children !== undefined) ctx.sink.warn(tokLoc(k.kw), 'unexpected-block', `${n.kw.text}: \`${k.kw.text}\` takes no { } block`);
    out.push(ref);
  }
}

// ---------------------------------------------------------------- vrrp_sync_group

export type SyncGroupDraft = Mutable<Omit<VrrpSyncGroup, 'trackFiles' | 'trackProcesses'>> & {
  members: string[];
  trackScripts: TrackRef[];
  trackInterfaces: TrackRef[];
  trackFiles: TrackRef[];
  trackProcesses: TrackRef[];
  memberLocs: SourceLoc[];
};

export function newSyncGroup(name: string, loc: SourceLoc): SyncGroupDraft {
  return { name, loc, members: [], memberLocs: [], trackScripts: [], trackInterfaces: [], trackFiles: [], trackProcesses: [] };
}

type NotifyField = 'notifyMaster' | 'notifyBackup' | 'notifyFault' | 'notifyStop' | 'notify';

function notify<T extends { [K in NotifyField]?: ScriptCommand }>(field: NotifyField): Handler<T> {
  return simple((n, t, ctx) => {
    const c = scriptArg(n, ctx, true);
    if (c !== undefined) (t as { [K in NotifyField]?: ScriptCommand })[field] = c;
  });
}

const NOTIFY_UNSUPPORTED = ['notify_deleted', 'notify_master_rx_lower_pri', 'notify_priority_changes'];

export const syncGroupSpec: BlockSpec<SyncGroupDraft> = {
  name: 'vrrp_sync_group',
  keywords: {
    group: (n, g, ctx) => {
      const kids = block(n, ctx);
      if (kids === undefined) return;
      for (const k of kids) {
        for (const t of [k.kw, ...k.args]) {
          g.members.push(t.text);
          g.memberLocs.push(tokLoc(t));
        }
      }
    },
    notify_master: notify('notifyMaster'),
    notify_backup: notify('notifyBackup'),
    notify_fault: notify('notifyFault'),
    notify_stop: notify('notifyStop'),
    notify: notify('notify'),
    smtp_alert: simple((n, g, ctx) => {
      const v = boolArg(n, ctx);
      if (v !== undefined) g.smtpAlert = v;
    }),
    track_script: (n, g, ctx) => trackList(n, ctx, g.trackScripts),
    track_interface: (n, g, ctx) => trackList(n, ctx, g.trackInterfaces),
    track_file: (n, g, ctx) => trackList(n, ctx, g.trackFiles),
    track_process: (n, g, ctx) => trackList(n, ctx, g.trackProcesses),
  },
  unsupported: [...NOTIFY_UNSUPPORTED, 'global_tracking', 'sync_group_tracking_weight', 'track_bfd'],
};

export function finishSyncGroup(d: SyncGroupDraft, ctx: Ctx): VrrpSyncGroup {
  const { memberLocs, trackFiles, trackProcesses, ...rest } = d;
  const out: VrrpSyncGroup = {
    ...rest,
    ...(trackFiles.length > 0 ? { trackFiles } : {}),
    ...(trackProcesses.length > 0 ? { trackProcesses } : {}),
  };
  ctx.locs.set(out, Object.fromEntries(memberLocs.map((l, i) => [`member${i}`, l])));
  return out;
}

// ---------------------------------------------------------------- vrrp_instance

export interface InstanceDraft {
  name: string;
  loc: SourceLoc;
  initialState?: 'MASTER' | 'BACKUP';
  interface?: string;
  virtualRouterId?: number;
  priority?: number;
  advertIntMs?: number;
  version?: 2 | 3;
  nativeIpv6: boolean;
  authentication?: { type?: Authentication['type']; typeSeen?: boolean; pass?: string; passSeen?: boolean; loc: SourceLoc };
  /** the keyword was there, whatever its value (a bad value is reported once, at the value) */
  vridSeen?: boolean;
  interfaceSeen?: boolean;
  virtualIpaddress: VirtualAddress[];
  virtualIpaddressExcluded: VirtualAddress[];
  virtualRoutes: VirtualRoute[];
  virtualRules: VirtualRule[];
  nopreempt: boolean;
  preemptDelayMs: number;
  unicastSrcIp?: string;
  unicastPeers: string[];
  unicastPeerTtl?: Record<string, { min: number; max: number }>;
  unicastTtl?: number;
  checkUnicastSrc?: boolean;
  mcastSrcIp?: string;
  trackInterfaces: TrackRef[];
  trackScripts: TrackRef[];
  trackFiles: TrackRef[];
  trackProcesses: TrackRef[];
  dontTrackPrimary: boolean;
  notifyMaster?: ScriptCommand;
  notifyBackup?: ScriptCommand;
  notifyFault?: ScriptCommand;
  notifyStop?: ScriptCommand;
  notify?: ScriptCommand;
  smtpAlert?: boolean;
  useVmac?: { name?: string };
  vmacXmitBase: boolean;
  garpMasterDelayMs?: number;
  garpMasterRepeat?: number;
  garpMasterRefreshMs?: number;
  garpMasterRefreshRepeat?: number;
  garpLowerPrioDelayMs?: number;
  garpLowerPrioRepeat?: number;
  lowerPrioNoAdvert?: boolean;
  higherPrioSendAdvert?: boolean;
  lvsSyncDaemonInterface?: string;
  accept?: boolean;
  strictMode?: boolean;
}

export function newInstance(name: string, loc: SourceLoc): InstanceDraft {
  return {
    name,
    loc,
    nativeIpv6: false,
    virtualIpaddress: [],
    virtualIpaddressExcluded: [],
    virtualRoutes: [],
    virtualRules: [],
    nopreempt: false,
    preemptDelayMs: 0,
    unicastPeers: [],
    trackInterfaces: [],
    trackScripts: [],
    trackFiles: [],
    trackProcesses: [],
    dontTrackPrimary: false,
    vmacXmitBase: false,
  };
}

type I = InstanceDraft;

const VIP_FLAGS = new Set(['home', '-nodad', 'nodad', 'mngtmpaddr', 'autojoin', 'use_vmac']);

/** `ADDR[/LEN] [brd B] [dev X] [scope S] [label L] [peer P] [noprefixroute] ...` */
export function vipLine(k: Node, ctx: Ctx): VirtualAddress | undefined {
  // keepalived: "VRRP parsed invalid IP X. skipping IP..." — the line is dropped, the
  // instance runs on.
  const slash = k.kw.text.indexOf('/');
  if (parseIp(slash < 0 ? k.kw.text : k.kw.text.slice(0, slash)) === undefined) {
    ctx.sink.warn(tokLoc(k.kw), 'bad-address', `virtual address: \`${k.kw.text}\` is not an IP address; skipped, as keepalived does`);
    return undefined;
  }
  const p = prefixTok(k.kw, ctx, 'virtual address');
  if (p === undefined) return undefined;
  const v: Mutable<VirtualAddress> = { address: p.address, prefixLen: p.prefixLen, family: p.family, loc: tokLoc(k.kw) };
  const a = k.args;
  for (let i = 0; i < a.length; i++) {
    const t = a[i]!;
    const opt = t.text.toLowerCase();
    if (opt === 'noprefixroute') {
      v.noPrefixRoute = true;
      continue;
    }
    if (opt === 'no_track') {
      v.noTrack = true;
      continue;
    }
    if (VIP_FLAGS.has(opt)) {
      ctx.sink.warn(tokLoc(t), 'unsupported-option', `virtual address option \`${t.text}\` is not implemented by vigil; ignored`);
      continue;
    }
    const val = a[i + 1];
    const known = ['dev', 'label', 'scope', 'brd', 'broadcast', 'peer', 'preferred_lft', 'track_group'];
    if (!known.includes(opt)) {
      // keepalived: "Unknown configuration entry 'X' for ip address - ignoring"; the address stays
      ctx.sink.warn(tokLoc(t), 'bad-value', `virtual address: unknown option \`${t.text}\` (expected dev, label, scope, brd, peer, noprefixroute ...); ignored, as keepalived does`);
      continue;
    }
    if (val === undefined) {
      ctx.sink.error(tokLoc(t), 'missing-value', `virtual address: \`${t.text}\` needs a value`);
      return undefined;
    }
    i++;
    if (opt === 'dev') v.dev = val.text;
    else if (opt === 'label') v.label = val.text;
    else if (opt === 'scope') v.scope = val.text.toLowerCase();
    else if (opt === 'preferred_lft' || opt === 'track_group') {
      ctx.sink.warn(tokLoc(t), 'unsupported-option', `virtual address option \`${opt}\` is not implemented by vigil; ignored`);
    } else {
      const ip = ipTok(val, ctx, `virtual address ${opt}`);
      if (ip === undefined) return undefined;
      if (ip.family !== p.family) {
        ctx.sink.error(tokLoc(val), 'family-mismatch', `virtual address ${opt} ${val.text} is not of the address's family (IPv${p.family})`);
        return undefined;
      }
      if (opt === 'peer') v.peer = ip.address;
      else v.broadcast = ip.address;
    }
  }
  if (k.children !== undefined) ctx.sink.warn(tokLoc(k.kw), 'unexpected-block', 'a virtual address takes no { } block');
  return v;
}

function vipBlock(n: Node, ctx: Ctx, out: VirtualAddress[]): void {
  const kids = block(n, ctx);
  if (kids === undefined) return;
  for (const k of kids) {
    const v = vipLine(k, ctx);
    if (v !== undefined) out.push(v);
  }
}

const ROUTE_TYPES = new Set(['blackhole', 'unreachable', 'prohibit', 'throw', 'local', 'broadcast', 'anycast', 'multicast', 'nat', 'unicast']);
/** route options that take one value and vigil does not build, and why */
const ROUTE_VALUE_OPTS: ReadonlyMap<string, string> = new Map([
  ['ttl-propagate', 'it applies to MPLS routes only, which vigil does not write'],
  ['vrf', 'this kernel has no VRF devices to test it on; give the VRF\'s `table` instead'],
  ['track_group', 'track groups are not built'],
]);
/** what `encap ip` / `encap ip6` takes, each with one value (keepalived parse_encap_ip/_ip6) */
const ENCAP_KEYS = new Set(['id', 'dst', 'src', 'tos', 'ttl', 'hoplimit', 'tc', 'flags']);
/** rtt, rttvar, rto_min: the kernel's units per millisecond (keepalived get_time_rtt) */
const RTT_UNITS: Readonly<Record<string, number>> = { rtt: 8, rttvar: 4, rto_min: 1 };
/** ms; the kernel's TCP_RTO_MIN and TCP_RTO_MAX, to which keepalived clamps rtt values */
const RTT_MIN_MS = 200;
const RTT_MAX_MS = 120_000;
/** RFC 4191 preference as include/uapi/linux/icmpv6.h codes it */
const ROUTE_PREFS: Readonly<Record<string, number>> = { low: 3, medium: 0, high: 1 };

/**
 * keepalived's get_time_rtt: `N` is in the kernel's units as is; `Nms`, `Ns` / `Nsec` / `Nsecs`
 * (decimals allowed) are converted with `perMs`; either is clamped to 200 ms..120 s.
 */
export function rttValue(text: string, perMs: number): number | undefined {
  const m = /^(\d+(?:\.\d*)?)(ms|m?s(?:ecs?)?)?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2]?.toLowerCase();
  let v: number;
  if (unit === undefined) {
    if (m[1]!.includes('.')) return undefined;
    v = Number(m[1]);
  } else {
    const ms = unit.startsWith('m') ? Number(m[1]) : Number(m[1]) * 1000;
    v = Math.ceil(ms * perMs);
  }
  return Math.min(Math.max(v, RTT_MIN_MS * perMs), RTT_MAX_MS * perMs);
}

/** route metrics written as a plain integer (ip-route(8)); RTAX_* in the netlink layer */
export const ROUTE_INT_METRICS = new Set(['mtu', 'advmss', 'window', 'cwnd', 'ssthresh', 'initcwnd', 'initrwnd', 'hoplimit', 'reordering', 'quickack', 'fastopen_no_cookie']);
/** route metrics that ip(8) lets an operator `lock`: `mtu lock 1400` */
const LOCKABLE = new Set(['mtu', 'advmss', 'rtt', 'rttvar', 'reordering', 'window', 'cwnd', 'ssthresh', 'initcwnd', 'initrwnd', 'hoplimit', 'rto_min', 'congctl']);
/** what `features` takes */
const ROUTE_FEATURES = new Set(['ecn']);
const ROUTE_FLAGS = new Set(['no_track', 'append', 'prepend', 'add']);
/** route options whose value vigil parses below (not metrics) */
const ROUTE_OWN_VALUES = new Set(['rtt', 'rttvar', 'rto_min', 'realms', 'congctl', 'pref', 'expires']);

/** `[src IP] [to] PREFIX|default [via|gw IP [or IP]] [dev X] [scope S] [table N] [metric N] [proto P] ...` */
export function routeLine(k: Node, ctx: Ctx): VirtualRoute | undefined {
  const words = [k.kw, ...k.args];
  const r: Partial<Mutable<VirtualRoute>> & { loc: SourceLoc } = { loc: tokLoc(k.kw) };
  let dest: (typeof words)[number] | undefined;
  const hops: Array<Mutable<RouteNextHop>> = [];
  for (let i = 0; i < words.length; i++) {
    const t = words[i]!;
    const w = t.text.toLowerCase();
    const val = words[i + 1];
    const need = (): boolean => {
      if (val === undefined) {
        ctx.sink.error(tokLoc(t), 'missing-value', `virtual route: \`${t.text}\` needs a value`);
        return false;
      }
      i++;
      return true;
    };
    if (w === 'nexthop') {
      hops.push({});
      continue;
    }
    const hop = hops[hops.length - 1];
    if (hop !== undefined && (w === 'via' || w === 'gw' || w === 'dev' || w === 'weight' || w === 'onlink')) {
      // after `nexthop`, these belong to that hop
      if (w === 'onlink') {
        hop.onlink = true;
        continue;
      }
      if (!need()) return undefined;
      if (w === 'dev') hop.dev = val!.text;
      else if (w === 'weight') {
        const n = intTok(val!, ctx, 'nexthop weight');
        if (n === undefined) return undefined;
        if (n < 1 || n > 256) {
          ctx.sink.error(tokLoc(val!), 'range', `nexthop weight ${n} is not in 1..256`);
          return undefined;
        }
        hop.weight = n;
      } else {
        const ip = ipTok(val!, ctx, 'nexthop via');
        if (ip === undefined) return undefined;
        hop.via = ip.address;
      }
      continue;
    }
    if (w === 'onlink') {
      r.onlink = true;
      continue;
    }
    if (w === 'src' || w === 'via' || w === 'gw' || w === 'or') {
      if (!need()) return undefined;
      const ip = ipTok(val!, ctx, `virtual route ${w}`);
      if (ip === undefined) return undefined;
      if (w === 'src') r.src = ip.address;
      else if (w === 'or') r.orVia = ip.address;
      else r.via = ip.address;
      continue;
    }
    if (w === 'proto' || w === 'protocol') {
      if (!need()) return undefined;
      const named = ROUTE_PROTOCOLS[val!.text.toLowerCase()];
      const n = named ?? intTok(val!, ctx, `virtual route ${w}`);
      if (n === undefined) return undefined;
      if (n < 0 || n > 255) {
        ctx.sink.error(tokLoc(val!), 'range', `virtual route ${w}: ${n} is not in 0..255`);
        return undefined;
      }
      r.protocol = n;
      continue;
    }
    if (w === 'to') {
      if (!need()) return undefined;
      dest = val;
      continue;
    }
    if (w === 'dev' || w === 'scope') {
      if (!need()) return undefined;
      if (w === 'dev') r.dev = val!.text;
      else r.scope = val!.text.toLowerCase();
      continue;
    }
    if (w === 'table' || w === 'metric' || w === 'preference' || w === 'priority') {
      if (!need()) return undefined;
      const num = intTok(val!, ctx, `virtual route ${w}`);
      if (num === undefined) return undefined;
      if (w === 'table') r.table = num;
      else r.metric = num;
      continue;
    }
    if (ROUTE_TYPES.has(w) && dest === undefined && i === 0) {
      r.type = w;
      continue;
    }
    /** `NAME [lock] VALUE`: the value token, and whether `lock` came first (ip-route(8)) */
    const lockable = (): { v: (typeof words)[number]; locked: boolean } | undefined => {
      const locked = LOCKABLE.has(w) && val?.text.toLowerCase() === 'lock';
      if (locked) i++;
      const v = words[i + 1];
      if (v === undefined) {
        ctx.sink.error(tokLoc(t), 'missing-value', `virtual route: \`${t.text}\` needs a value`);
        return undefined;
      }
      i++;
      return { v, locked };
    };
    if (ROUTE_INT_METRICS.has(w)) {
      const lv = lockable();
      if (lv === undefined) return undefined;
      const { v, locked } = lv;
      const n = intTok(v, ctx, `virtual route ${w}`);
      if (n === undefined) return undefined;
      if (n < 0 || n > 0xffffffff) {
        ctx.sink.error(tokLoc(v), 'range', `virtual route ${w}: ${n} is not in 0..4294967295`);
        return undefined;
      }
      r.metrics = { ...r.metrics, [w]: n };
      if (locked) r.lockedMetrics = [...(r.lockedMetrics ?? []), w];
      continue;
    }
    if (w === 'tos' || w === 'dsfield') {
      if (!need()) return undefined;
      const text = val!.text;
      const n = /^0x[0-9a-f]{1,2}$/i.test(text) ? Number.parseInt(text.slice(2), 16) : intTok(val!, ctx, `virtual route ${w}`);
      if (n === undefined) return undefined;
      if (n < 0 || n > 255) {
        ctx.sink.error(tokLoc(val!), 'range', `virtual route ${w}: ${n} is not in 0..255`);
        return undefined;
      }
      r.tos = n;
      continue;
    }
    if (ROUTE_OWN_VALUES.has(w)) {
      const lv = lockable();
      if (lv === undefined) return undefined;
      const { v, locked } = lv;
      const badValue = (what: string): undefined => {
        ctx.sink.error(tokLoc(v), 'bad-value', `virtual route ${w}: \`${v.text}\` is not ${what}`);
        return undefined;
      };
      const perMs = RTT_UNITS[w];
      if (perMs !== undefined) {
        const n = rttValue(v.text, perMs);
        if (n === undefined) return badValue('a time (N, Nms or Ns)');
        r.metrics = { ...r.metrics, [w]: n };
      } else if (w === 'realms') {
        const n = realmsValue(v.text);
        if (n === undefined) return badValue('a realm or FROM/TO realms (0..65535)');
        r.realms = n;
      } else if (w === 'congctl') {
        r.congctl = v.text;
      } else if (w === 'pref') {
        const n = ROUTE_PREFS[v.text.toLowerCase()] ?? (/^\d+$/.test(v.text) && Number(v.text) <= 255 ? Number(v.text) : undefined);
        if (n === undefined) return badValue('low, medium, high or 0..255');
        r.pref = n;
      } else {
        const n = /^\d+$/.test(v.text) ? Number(v.text) : NaN;
        if (!(n <= 0xffffffff)) return badValue('seconds in 0..4294967295');
        r.expires = n;
      }
      if (locked) r.lockedMetrics = [...(r.lockedMetrics ?? []), w];
      continue;
    }
    if (w === 'encap') {
      if (!need()) return undefined;
      const type = val!.text.toLowerCase();
      if (type !== 'ip' && type !== 'ip6') {
        // mpls, ila: this machine's kernel refuses them ("lwt encapsulation type not supported")
        ctx.sink.warn(tokLoc(val!), 'unsupported-option', `virtual route: encap \`${val!.text}\` is not implemented by vigil (only ip and ip6: this kernel has no MPLS or ILA tunnels to test it on); route added without it`);
        // mpls LABEL[/LABEL…] [ttl N], ila LOCATOR: the value, then key/value pairs
        if (i + 1 < words.length) i++;
        while (i + 2 < words.length && ENCAP_KEYS.has(words[i + 1]!.text.toLowerCase())) i += 2;
        continue;
      }
      const e: { -readonly [K in keyof RouteEncap]: RouteEncap[K] } = { type };
      const fam = type === 'ip' ? 4 : 6;
      while (i + 2 < words.length && ENCAP_KEYS.has(words[i + 1]!.text.toLowerCase())) {
        const key = words[i + 1]!;
        const v = words[i + 2]!;
        i += 2;
        const k = key.text.toLowerCase();
        if (k === 'dst' || k === 'src') {
          const ip = ipTok(v, ctx, `virtual route encap ${k}`);
          if (ip === undefined) return undefined;
          if (ip.family !== fam) {
            ctx.sink.error(tokLoc(v), 'family-mismatch', `virtual route: encap ${type} ${k} ${v.text} is not IPv${fam}`);
            return undefined;
          }
          e[k] = ip.address;
        } else if (k === 'id') {
          if (!/^\d+$/.test(v.text) || BigInt(v.text) > 0xffffffffffffffffn) {
            ctx.sink.error(tokLoc(v), 'bad-value', `virtual route: encap id \`${v.text}\` is not in 0..2^64-1`);
            return undefined;
          }
          e.id = BigInt(v.text).toString();
        } else {
          const max = k === 'flags' ? 0xffff : 255;
          const n = /^0x[0-9a-f]+$/i.test(v.text) ? Number.parseInt(v.text.slice(2), 16) : /^\d+$/.test(v.text) ? Number(v.text) : NaN;
          if (!(n >= 0 && n <= max)) {
            ctx.sink.error(tokLoc(v), 'bad-value', `virtual route: encap ${k} \`${v.text}\` is not in 0..${max}`);
            return undefined;
          }
          if (k === 'flags') e.flags = n;
          else if (k === 'tos' || k === 'tc') e.tos = n;
          else e.ttl = n;
        }
      }
      if (e.dst === undefined && e.id === undefined) {
        ctx.sink.error(tokLoc(t), 'missing-value', `virtual route: encap ${type} needs a dst or an id (keepalived)`);
        return undefined;
      }
      r.encap = e;
      continue;
    }
    if (w === 'features') {
      if (!need()) return undefined;
      if (ROUTE_FEATURES.has(val!.text.toLowerCase())) r.ecn = true;
      else ctx.sink.warn(tokLoc(val!), 'unsupported-option', `virtual route: feature \`${val!.text}\` is not implemented by vigil; ignored`);
      continue;
    }
    const why = ROUTE_VALUE_OPTS.get(w);
    if (why !== undefined) {
      if (!need()) return undefined;
      ctx.sink.warn(tokLoc(t), 'unsupported-option', `virtual route option \`${t.text}\` is not implemented by vigil (${why}); ignored`);
      continue;
    }
    if (ROUTE_FLAGS.has(w)) {
      // keepalived: `add` is iproute2's (fails if the route exists), `prepend` the kernel's
      // default, `append` adds after; the last one given counts.
      if (w === 'append' || w === 'prepend') r.insert = w;
      else if (w === 'add') delete r.insert;
      else r.noTrack = true;
      continue;
    }
    if (dest === undefined) {
      dest = t;
      continue;
    }
    ctx.sink.error(tokLoc(t), 'bad-value', `virtual route: unexpected \`${t.text}\``);
    return undefined;
  }
  if (dest === undefined) {
    ctx.sink.error(tokLoc(k.kw), 'missing-value', 'virtual route: no destination');
    return undefined;
  }
  if (dest.text.toLowerCase() === 'default') {
    const fam = r.via?.includes(':') || r.src?.includes(':') || hops.some((h) => h.via?.includes(':')) ? 6 : 4;
    r.to = fam === 4 ? '0.0.0.0' : '::';
    r.prefixLen = 0;
    r.family = fam;
  } else {
    const p = prefixTok(dest, ctx, 'virtual route destination');
    if (p === undefined) return undefined;
    r.to = p.address;
    r.prefixLen = p.prefixLen;
    r.family = p.family;
  }
  // keepalived: "realms are only valid for IPv4", "pref / expires is only valid for IPv6"
  if (r.realms !== undefined && r.family === 6) {
    ctx.sink.error(tokLoc(k.kw), 'bad-value', 'virtual route: realms are only valid for IPv4');
    return undefined;
  }
  if ((r.pref !== undefined || r.expires !== undefined) && r.family === 4) {
    ctx.sink.error(tokLoc(k.kw), 'bad-value', `virtual route: ${r.pref !== undefined ? 'pref' : 'expires'} is only valid for IPv6`);
    return undefined;
  }
  if (r.orVia !== undefined && r.via === undefined) {
    ctx.sink.error(tokLoc(k.kw), 'missing-value', 'virtual route: `or` needs a `via` gateway before it');
    return undefined;
  }
  if (hops.length > 0) {
    if (r.via !== undefined || r.orVia !== undefined) {
      ctx.sink.error(tokLoc(k.kw), 'bad-value', 'virtual route: `nexthop` and `via` / `or` cannot be mixed');
      return undefined;
    }
    r.nexthops = hops;
  }
  for (const [f, v] of [['via', r.via], ['src', r.src], ['or', r.orVia], ...hops.map((h) => ['nexthop via', h.via] as const)] as const) {
    if (v !== undefined && (v.includes(':') ? 6 : 4) !== r.family) {
      ctx.sink.error(tokLoc(k.kw), 'family-mismatch', `virtual route: ${f} ${v} is not of the destination's family (IPv${r.family})`);
      return undefined;
    }
  }
  return r as VirtualRoute;
}

function secsField(field: 'preemptDelayMs' | 'garpMasterDelayMs' | 'garpMasterRefreshMs' | 'garpLowerPrioDelayMs'): Handler<I> {
  return simple((n, d, ctx) => {
    const v = timerArg(n, ctx);
    if (v !== undefined) {
      d[field] = v;
      setLoc(ctx, d, field, n.args[0] ?? n.kw);
    }
  });
}

function intField(field: 'garpMasterRepeat' | 'garpMasterRefreshRepeat' | 'garpLowerPrioRepeat'): Handler<I> {
  return simple((n, d, ctx) => {
    const v = intArg(n, ctx);
    if (v !== undefined) {
      d[field] = v;
      setLoc(ctx, d, field, n.args[0] ?? n.kw);
    }
  });
}

function flag(set: (d: I) => void): Handler<I> {
  return simple((n, d, ctx) => {
    noExtra(n, ctx, 0);
    set(d);
  });
}

function ipField(field: 'unicastSrcIp' | 'mcastSrcIp'): Handler<I> {
  return simple((n, d, ctx) => {
    const ip = ipArg(n, ctx);
    if (ip !== undefined) {
      d[field] = ip.address;
      setLoc(ctx, d, field, n.args[0] ?? n.kw);
    }
  });
}

type AuthDraft = NonNullable<I['authentication']>;

const authSpec: BlockSpec<AuthDraft> = {
  name: 'authentication',
  keywords: {
    auth_type: simple((n, a, ctx) => {
      // keepalived: "(VI_1) unknown authentication type 'X'" — the instance runs without
      // authentication.
      a.typeSeen = true;
      const t = arg(n, ctx, 0, 'PASS or AH');
      noExtra(n, ctx, 1);
      if (t === undefined) return;
      // strcmp in keepalived: upper case only
      const v = (['PASS', 'AH'] as const).find((x) => x === t.text);
      if (v === undefined) ctx.sink.warn(tokLoc(t), 'bad-value', `auth_type: \`${t.text}\` is not PASS or AH (upper case); no authentication, as keepalived does`);
      else a.type = v;
    }),
    auth_pass: simple((n, a, ctx) => {
      a.passSeen = true;
      const t = arg(n, ctx, 0, 'a password');
      if (t === undefined) return;
      noExtra(n, ctx, 1);
      let pass = t.text;
      // RFC 3768 §5.3.10: the authentication data field is 8 octets.
      if (Buffer.byteLength(pass) > 8) {
        ctx.sink.warn(tokLoc(t), 'truncated', 'auth_pass is longer than 8 bytes; truncated to 8 as keepalived does');
        pass = Buffer.from(pass).subarray(0, 8).toString();
      }
      a.pass = pass;
    }),
  },
};

export const instanceSpec: BlockSpec<I> = {
  name: 'vrrp_instance',
  keywords: {
    state: simple((n, d, ctx) => {
      // keepalived compares with strcmp: anything but MASTER or BACKUP is "unknown state
      // 'X', defaulting to BACKUP".
      const t = arg(n, ctx, 0, 'MASTER or BACKUP');
      noExtra(n, ctx, 1);
      if (t === undefined) return;
      let v: 'MASTER' | 'BACKUP';
      if (t.text === 'MASTER' || t.text === 'BACKUP') v = t.text;
      else {
        ctx.sink.warn(tokLoc(t), 'bad-value', `state \`${t.text}\` is not MASTER or BACKUP (upper case); BACKUP, as keepalived does`);
        v = 'BACKUP';
      }
      d.initialState = v;
      setLoc(ctx, d, 'initialState', t);
    }),
    interface: simple((n, d, ctx) => {
      d.interfaceSeen = true;
      const t = arg(n, ctx, 0, 'an interface name');
      if (t !== undefined) {
        d.interface = t.text;
        setLoc(ctx, d, 'interface', t);
      }
    }),
    virtual_router_id: simple((n, d, ctx) => {
      const t = arg(n, ctx, 0, 'an integer');
      if (t === undefined) {
        d.vridSeen = true;
        return;
      }
      const v = parseIntStrict(t.text);
      if (v === undefined || v < 1 || v > 255 || t.text.startsWith('+')) {
        // keepalived: "(VI_1): VRID 'X' not valid - must be between 1 & 255", the VRID stays
        // unset, and after the file "(VI_1) the virtual router id must be set" (finishInstance)
        ctx.sink.warn(tokLoc(t), 'range', `${d.name}: virtual_router_id \`${t.text}\` is not in 1..255; ignored, as keepalived does`);
        return;
      }
      d.vridSeen = true;
      d.virtualRouterId = v;
      setLoc(ctx, d, 'virtualRouterId', t);
    }),
    priority: simple((n, d, ctx) => {
      // keepalived: "Priority not valid! must be between 1 & 255. Using default 100"
      const t = arg(n, ctx, 0, 'an integer');
      noExtra(n, ctx, 1);
      if (t === undefined) return;
      const v = parseIntStrict(t.text);
      setLoc(ctx, d, 'priority', t);
      if (v === undefined || v < 1 || v > 255 || t.text.startsWith('+')) {
        ctx.sink.warn(tokLoc(t), 'range', `priority \`${t.text}\` is not in 1..255; using 100, as keepalived does`);
        d.priority = 100;
        return;
      }
      d.priority = v;
    }),
    advert_int: simple((n, d, ctx) => {
      const v = timerArg(n, ctx);
      // keepalived: 0.01..255 s, else "Advert interval (X) not valid! Must be > 0 - ignoring"
      if (v !== undefined && (v < 10 || v > 255_000)) {
        ctx.sink.warn(tokLoc(n.args[0] ?? n.kw), 'range', `advert_int ${v / 1000} s is not in 0.01..255 s; ignored (1 s), as keepalived does`);
        return;
      }
      if (v !== undefined) {
        d.advertIntMs = v;
        setLoc(ctx, d, 'advertIntMs', n.args[0] ?? n.kw);
      }
    }),
    version: simple((n, d, ctx) => {
      const v = intArg(n, ctx);
      if (v === undefined) return;
      if (v !== 2 && v !== 3) {
        ctx.sink.error(tokLoc(n.args[0] ?? n.kw), 'range', `version must be 2 or 3, not ${v}`);
        return;
      }
      d.version = v;
      setLoc(ctx, d, 'version', n.args[0] ?? n.kw);
    }),
    native_ipv6: flag((d) => {
      d.nativeIpv6 = true;
    }),
    authentication: (n, d, ctx) => {
      const kids = block(n, ctx);
      if (kids === undefined) return;
      const auth: AuthDraft = { loc: tokLoc(n.kw) };
      runBlock(kids, authSpec, auth, ctx);
      d.authentication = auth;
    },
    virtual_ipaddress: (n, d, ctx) => vipBlock(n, ctx, d.virtualIpaddress),
    virtual_ipaddress_excluded: (n, d, ctx) => vipBlock(n, ctx, d.virtualIpaddressExcluded),
    virtual_routes: (n, d, ctx) => {
      const kids = block(n, ctx);
      if (kids === undefined) return;
      for (const k of kids) {
        const r = routeLine(k, ctx);
        if (r !== undefined) d.virtualRoutes.push(r);
      }
    },
    virtual_rules: (n, d, ctx) => {
      const kids = block(n, ctx);
      if (kids !== undefined) d.virtualRules.push(...ruleBlock(kids, ctx, 'virtual rule'));
    },
    nopreempt: flag((d) => {
      d.nopreempt = true;
    }),
    preempt: flag((d) => {
      d.nopreempt = false;
    }),
    preempt_delay: secsField('preemptDelayMs'),
    unicast_src_ip: ipField('unicastSrcIp'),
    mcast_src_ip: ipField('mcastSrcIp'),
    unicast_peer: (n, d, ctx) => {
      const kids = block(n, ctx);
      if (kids === undefined) return;
      for (const k of kids) {
        const ip = ipTok(k.kw, ctx, 'unicast_peer');
        if (ip === undefined) continue;
        // keepalived (vrrp_data.c alloc_unicast_peer): a TTL outside 0..255 is skipped in
        // silence; a good min_ttl / max_ttl turns on check_unicast_src for the instance
        const range = { min: 0, max: 255 };
        let ranged = false;
        for (let i = 0; i < k.args.length; i += 2) {
          const o = k.args[i]!;
          const ol = o.text.toLowerCase();
          if (ol !== 'min_ttl' && ol !== 'max_ttl') {
            ctx.sink.error(tokLoc(o), 'bad-value', `unicast_peer: unknown option \`${o.text}\``);
            break;
          }
          const v = k.args[i + 1];
          if (v === undefined) {
            ctx.sink.warn(tokLoc(o), 'missing-value', `unicast_peer: \`${o.text}\` is missing a value; ignored`);
            break;
          }
          const ttl = parseIntStrict(v.text);
          if (ttl === undefined || ttl < 0 || ttl > 255) continue;
          if (ol === 'min_ttl') range.min = ttl;
          else range.max = ttl;
          ranged = true;
        }
        if (ranged) {
          (d.unicastPeerTtl ??= {})[ip.address] = range;
          d.checkUnicastSrc = true;
          if (range.min > range.max) ctx.sink.warn(tokLoc(k.kw), 'range', `unicast_peer ${ip.address}: min_ttl ${range.min} > max_ttl ${range.max}; all its adverts will be discarded, as keepalived warns`);
        }
        d.unicastPeers.push(ip.address);
        ctx.locs.set(d.unicastPeers, { ...(ctx.locs.get(d.unicastPeers) ?? {}), [String(d.unicastPeers.length - 1)]: tokLoc(k.kw) });
      }
    },
    unicast_ttl: (n, d, ctx) => {
      const t = n.args[0];
      const v = t === undefined ? undefined : parseIntStrict(t.text);
      if (v === undefined || v < 0 || v > 255) {
        ctx.sink.warn(tokLoc(t ?? n.kw), 'range', `${d.name}: unicast_ttl \`${t?.text ?? ''}\` is not valid (0..255); ignored, as keepalived does`);
        return;
      }
      d.unicastTtl = v;
      ctx.locs.set(d, { ...(ctx.locs.get(d) ?? {}), unicastTtl: tokLoc(n.kw) });
    },
    check_unicast_src: flag((d) => {
      d.checkUnicastSrc = true;
    }),
    track_interface: (n, d, ctx) => trackList(n, ctx, d.trackInterfaces),
    track_script: (n, d, ctx) => trackList(n, ctx, d.trackScripts),
    track_file: (n, d, ctx) => trackList(n, ctx, d.trackFiles),
    track_process: (n, d, ctx) => trackList(n, ctx, d.trackProcesses),
    dont_track_primary: flag((d) => {
      d.dontTrackPrimary = true;
    }),
    notify_master: notify('notifyMaster'),
    notify_backup: notify('notifyBackup'),
    notify_fault: notify('notifyFault'),
    notify_stop: notify('notifyStop'),
    notify: notify('notify'),
    smtp_alert: simple((n, d, ctx) => {
      const v = boolArg(n, ctx);
      if (v !== undefined) d.smtpAlert = v;
    }),
    use_vmac: simple((n, d, ctx) => {
      const t = n.args[0];
      d.useVmac = t === undefined ? {} : { name: t.text };
      if (t !== undefined) setLoc(ctx, d, 'useVmac', t);
      noExtra(n, ctx, 1);
    }),
    vmac_xmit_base: flag((d) => {
      d.vmacXmitBase = true;
    }),
    garp_master_delay: secsField('garpMasterDelayMs'),
    garp_master_repeat: intField('garpMasterRepeat'),
    garp_master_refresh: secsField('garpMasterRefreshMs'),
    garp_master_refresh_repeat: intField('garpMasterRefreshRepeat'),
    garp_lower_prio_delay: secsField('garpLowerPrioDelayMs'),
    garp_lower_prio_repeat: intField('garpLowerPrioRepeat'),
    accept: flag((d) => {
      d.accept = true;
    }),
    no_accept: flag((d) => {
      d.accept = false;
    }),
    strict_mode: simple((n, d, ctx) => {
      const v = boolArg(n, ctx);
      if (v !== undefined) d.strictMode = v;
    }),
    lower_prio_no_advert: simple((n, d, ctx) => {
      const v = boolArg(n, ctx);
      if (v !== undefined) d.lowerPrioNoAdvert = v;
    }),
    higher_prio_send_advert: simple((n, d, ctx) => {
      const v = boolArg(n, ctx);
      if (v !== undefined) d.higherPrioSendAdvert = v;
    }),
    lvs_sync_daemon_interface: simple((n, d, ctx) => {
      const t = arg(n, ctx, 0, 'an interface name');
      noExtra(n, ctx, 1);
      if (t !== undefined) d.lvsSyncDaemonInterface = t.text;
    }),
  },
  unsupported: [
    ...NOTIFY_UNSUPPORTED,
    'promote_secondaries',
    'debug',
    'garp_extra_if',
    'down_timer_adverts',
    'track_process',
    'track_bfd',
    'mcast_dst_ip',
    'track_src_ip',
    'unicast_fault_no_peer',
    'old_unicast_checksum',
    'skip_check_adv_addr',
    'kernel_rx_buf_size',
    'linkbeat_use_polling',
    'global_tracking',
    'sync_group_tracking_weight',
    'no_accept_fwmark',
    'ipsets',
    'iptables',
  ],
  obsolete: {
    smtp_alert_vrrp: 'use smtp_alert',
  },
};

/** Apply defaults that depend on global_defs and on the instance's addresses. */
export function finishInstance(d: I, g: GlobalDefs, ctx: Ctx): VrrpInstance | undefined {
  let ok = true;
  // keepalived (chk_min_cfg): "(VI_1) Unknown interface!" and the instance is dropped.
  // (default_interface is for VIPs without `dev`, not for the instance.)
  const iface = d.interface;
  if (iface === undefined) {
    if (d.interfaceSeen !== true) ctx.sink.error(d.loc, 'missing-keyword', `vrrp_instance ${d.name} has no \`interface\``);
    ok = false;
  }
  if (d.virtualRouterId === undefined) {
    // keepalived: "(VI_1) the virtual router id must be set", and the instance is dropped
    if (d.vridSeen !== true) ctx.sink.error(d.loc, 'missing-keyword', `vrrp_instance ${d.name} has no valid \`virtual_router_id\``);
    ok = false;
  }
  const first = d.virtualIpaddress[0];
  const family = d.nativeIpv6 ? 6 : (first?.family ?? 4);
  // keepalived: addresses of the other family cannot be in virtual_ipaddress (they go in
  // virtual_ipaddress_excluded); it logs and ignores them.
  const vips = d.virtualIpaddress.filter((v) => {
    if (v.family === family) return true;
    ctx.sink.warn(v.loc, 'family-mismatch', `${d.name}: ${v.address} is IPv${v.family} but the instance is IPv${family}; move it to virtual_ipaddress_excluded (ignored)`);
    return false;
  });
  let version: 2 | 3 = d.version ?? (family === 6 ? 3 : g.vrrpVersion);
  const vloc = ctx.locs.get(d)?.['version'] ?? d.loc;
  if (family === 6 && version === 2) {
    ctx.sink.error(vloc, 'version-family', `${d.name}: VRRP version 2 cannot run over IPv6 (RFC 3768 is IPv4 only); use version 3`);
    version = 3;
  }
  let advertIntMs = d.advertIntMs ?? 1000;
  const aloc = ctx.locs.get(d)?.['advertIntMs'] ?? d.loc;
  if (advertIntMs > 0) {
    if (version === 2 && advertIntMs % 1000 !== 0) {
      const r = Math.max(1000, Math.round(advertIntMs / 1000) * 1000);
      // keepalived says so after the block, naming the instance: "(VI_1) VRRPv2 advertisement
      // interval 1.500000s must be an integer. rounding"
      ctx.sink.warn(d.loc, 'advert-int-rounded', `${d.name}: VRRPv2 advert_int is whole seconds; ${advertIntMs / 1000} s rounded to ${r / 1000} s`);
      advertIntMs = r;
    } else if (version === 3 && advertIntMs % 10 !== 0) {
      const r = Math.max(10, Math.round(advertIntMs / 10) * 10);
      ctx.sink.warn(aloc, 'advert-int-rounded', `${d.name}: VRRPv3 advert_int has centisecond resolution; ${advertIntMs / 1000} s rounded to ${r / 1000} s`);
      advertIntMs = r;
    }
  }
  const strictMode = d.strictMode ?? g.vrrpStrict;
  let authentication: Authentication | undefined;
  if (d.authentication !== undefined) {
    const a = d.authentication;
    if (a.type === undefined) {
      // keepalived runs it without authentication, and says nothing
    } else if (strictMode) {
      ctx.sink.warn(a.loc, 'strict-mode', `${d.name}: strict mode does not support authentication; ignored (as keepalived does)`);
    } else if (version === 3) {
      ctx.sink.warn(a.loc, 'auth-v3', `${d.name}: VRRPv3 has no authentication (RFC 5798 section 9); authentication ignored`);
    } else {
      if (a.pass === undefined && a.type === 'PASS' && a.passSeen !== true) {
        // keepalived: "(VI_1) Authentication specified but no password given. Ignoring"
        ctx.sink.warn(d.loc, 'missing-keyword', `${d.name}: authentication PASS has no \`auth_pass\`; no authentication, as keepalived does`);
      } else authentication = { type: a.type, pass: a.pass ?? '' };
      if (authentication?.type === 'AH' && d.initialState === 'MASTER' && (d.priority ?? 100) !== 255) {
        // keepalived: "(VI_1) Initial state master is incompatible with AH authentication - clearing";
        // src/vrrp/params.ts starts it as BACKUP.
        ctx.sink.warn(a.loc, 'ah-initial-master', `${d.name}: \`state MASTER\` is incompatible with AH authentication (it must hear the master's sequence number first); starts as BACKUP, as keepalived does`);
      }
    }
  }
  if (!ok) return undefined;
  const vrid = d.virtualRouterId as number;
  const inst: Mutable<VrrpInstance> = {
    name: d.name,
    loc: d.loc,
    initialState: d.initialState ?? 'BACKUP',
    interface: iface as string,
    virtualRouterId: vrid,
    priority: d.priority ?? 100,
    advertIntMs,
    version,
    family,
    virtualIpaddress: vips,
    virtualIpaddressExcluded: d.virtualIpaddressExcluded,
    virtualRoutes: d.virtualRoutes,
    nopreempt: d.nopreempt,
    preemptDelayMs: d.preemptDelayMs,
    unicastPeers: d.unicastPeers,
    trackInterfaces: d.trackInterfaces,
    trackScripts: d.trackScripts,
    dontTrackPrimary: d.dontTrackPrimary,
    vmacXmitBase: d.vmacXmitBase,
    garpMasterDelayMs: d.garpMasterDelayMs ?? g.vrrpGarpMasterDelayMs,
    garpMasterRepeat: d.garpMasterRepeat ?? g.vrrpGarpMasterRepeat,
    garpMasterRefreshMs: d.garpMasterRefreshMs ?? g.vrrpGarpMasterRefreshMs,
    garpMasterRefreshRepeat: d.garpMasterRefreshRepeat ?? g.vrrpGarpMasterRefreshRepeat,
    accept: d.accept ?? !strictMode,
    strictMode,
  };
  if (authentication !== undefined) inst.authentication = authentication;
  if (d.trackFiles.length > 0) inst.trackFiles = d.trackFiles;
  if (d.trackProcesses.length > 0) inst.trackProcesses = d.trackProcesses;
  if (d.virtualRules.length > 0) inst.virtualRules = d.virtualRules;
  if (d.unicastSrcIp !== undefined) inst.unicastSrcIp = d.unicastSrcIp;
  if (d.unicastTtl !== undefined) {
    // keepalived: "Cannot use unicast_ttl without unicast peers - resetting"
    if (d.unicastPeers.length > 0) inst.unicastTtl = d.unicastTtl;
    else ctx.sink.warn(ctx.locs.get(d)?.['unicastTtl'] ?? d.loc, 'unicast-ttl', `${d.name}: unicast_ttl needs unicast peers; ignored, as keepalived does`);
  }
  if (d.unicastPeers.length > 0 && (d.checkUnicastSrc === true || g.vrrpCheckUnicastSrc === true)) inst.checkUnicastSrc = true;
  if (d.unicastPeerTtl !== undefined) inst.unicastPeerTtl = d.unicastPeerTtl;
  if (d.mcastSrcIp !== undefined) inst.mcastSrcIp = d.mcastSrcIp;
  for (const f of ['notifyMaster', 'notifyBackup', 'notifyFault', 'notifyStop', 'notify'] as const) {
    const c = d[f];
    if (c !== undefined) inst[f] = c;
  }
  if (d.smtpAlert !== undefined) inst.smtpAlert = d.smtpAlert;
  if (d.useVmac !== undefined) inst.useVmac = { name: d.useVmac.name ?? `vrrp.${vrid}` };
  const lpd = d.garpLowerPrioDelayMs ?? g.vrrpGarpLowerPrioDelayMs;
  if (lpd !== undefined) inst.garpLowerPrioDelayMs = lpd;
  const lpr = d.garpLowerPrioRepeat ?? g.vrrpGarpLowerPrioRepeat;
  if (lpr !== undefined) inst.garpLowerPrioRepeat = lpr;
  // keepalived: the instance's word, else global_defs', else strict mode (the RFC) decides;
  // strict mode cannot clear lower_prio_no_advert nor set higher_prio_send_advert
  const lpna = strictMode ? true : (d.lowerPrioNoAdvert ?? g.vrrpLowerPrioNoAdvert);
  if (lpna === true) inst.lowerPrioNoAdvert = true;
  const hpsa = strictMode ? false : (d.higherPrioSendAdvert ?? g.vrrpHigherPrioSendAdvert);
  if (hpsa === true) inst.higherPrioSendAdvert = true;
  if (d.lvsSyncDaemonInterface !== undefined) inst.lvsSyncDaemonInterface = d.lvsSyncDaemonInterface;
  const l = ctx.locs.get(d);
  if (l !== undefined) ctx.locs.set(inst, l);
  const pl = ctx.locs.get(d.unicastPeers);
  if (pl !== undefined) ctx.locs.set(inst.unicastPeers, pl);
  return inst;
}

