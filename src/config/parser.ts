/**
 * Statement tree to the typed `Config` (model.ts), through the keyword tables in
 * keywords/. Parsing reports syntax and value errors; range, reference and duplicate
 * checks are validate.ts's, fed the field locations recorded here.
 */
import { DiagnosticSink } from './diagnostics.ts';
import { defaultGlobals, finishGlobals, globalDefsSpec, type GlobalDraft } from './keywords/global-defs.ts';
import { parseVirtualServer, parseVirtualServerGroup } from './keywords/lvs.ts';
import { block, runBlock, type BlockSpec } from './keywords/table.ts';
import { checkFileCheckRefs, parseTrackFile } from './keywords/track-file.ts';
import { parseTrackProcess } from './keywords/track-process.ts';
import { garpPacingFor, parseGarpGroup } from './keywords/garp-group.ts';
import { ruleBlock } from './keywords/rules.ts';
import {
  finishInstance,
  finishScript,
  finishSyncGroup,
  instanceSpec,
  newInstance,
  newScript,
  newSyncGroup,
  routeLine,
  syncGroupSpec,
  vipLine,
  vrrpScriptSpec,
  type InstanceDraft,
  type ScriptDraft,
  type SyncGroupDraft,
} from './keywords/vrrp.ts';
import type { Config, Diagnostic, GarpGroup, GlobalDefs, SourceLoc, TrackFile, TrackProcess, VirtualAddress, VirtualRoute, VirtualRule, VirtualServer, VirtualServerGroup, VrrpInstance, VrrpScript, VrrpSyncGroup } from './model.ts';
import { tokLoc, type Node } from './tree.ts';
import { arg, noExtra, type Ctx, type FieldLocs } from './values.ts';

export interface ParseResult {
  readonly config: Config;
  readonly locs: FieldLocs;
  readonly diagnostics: Diagnostic[];
  /** vrrp_instance blocks declared but refused for their errors (not in `config`) */
  readonly refusedInstances: readonly string[];
}

interface Top {
  globals: GlobalDraft;
  scripts: ScriptDraft[];
  groups: SyncGroupDraft[];
  instances: InstanceDraft[];
  /**
   * vrrp_instance names read without their `{`: keepalived creates the instance when it reads
   * the keyword's line ("Missing '{'" comes after), so a sync group naming it finds it.
   */
  blockless: string[];
  vsGroups: VirtualServerGroup[];
  vss: VirtualServer[];
  trackFiles: TrackFile[];
  trackProcesses: TrackProcess[];
  garpGroups: GarpGroup[];
  staticIpaddress: VirtualAddress[];
  staticRoutes: VirtualRoute[];
  staticRules: VirtualRule[];
}

/** Top-level blocks keepalived knows that vigil does not implement. */
const TOP_UNSUPPORTED = [
  'bfd_instance',
  'linkbeat_use_polling',
  'net_namespace_ipvs',
  'use_pid_dir',
  'instance',
  'SSL',
  'ssl',
];

/**
 * The block's name. keepalived: "vrrp_instance must have a name" unless exactly one word
 * follows, and the block is skipped; other blocks take the first word.
 */
function named(n: Node, ctx: Ctx, what: string): string | undefined {
  const t = arg(n, ctx, 0, `a ${what} name`);
  if (t !== undefined && n.args.length > 1 && (what === 'vrrp_instance' || what === 'vrrp_sync_group')) {
    ctx.sink.error(tokLoc(n.kw), 'bad-value', `${what} takes one name, not ${n.args.length} (${n.args.map((a) => a.text).join(' ')}); the block is skipped, as keepalived does`);
    return undefined;
  }
  return t?.text;
}

const topSpec: BlockSpec<Top> = {
  name: 'top level',
  keywords: {
    global_defs: (n, top, ctx) => {
      const kids = block(n, ctx);
      if (kids !== undefined) runBlock(kids, globalDefsSpec, top.globals, ctx);
    },
    vrrp_script: (n, top, ctx) => {
      const name = named(n, ctx, 'vrrp_script');
      const kids = block(n, ctx);
      if (name === undefined || kids === undefined) return;
      const d = newScript(name, tokLoc(n.args[0] ?? n.kw));
      if (n.end !== undefined) d.endLoc = tokLoc(n.end);
      runBlock(kids, vrrpScriptSpec, d, ctx);
      top.scripts.push(d);
    },
    vrrp_sync_group: (n, top, ctx) => {
      const name = named(n, ctx, 'vrrp_sync_group');
      const kids = block(n, ctx);
      if (name === undefined || kids === undefined) return;
      const d = newSyncGroup(name, tokLoc(n.args[0] ?? n.kw));
      runBlock(kids, syncGroupSpec, d, ctx);
      top.groups.push(d);
    },
    vrrp_instance: (n, top, ctx) => {
      const name = named(n, ctx, 'vrrp_instance');
      const kids = block(n, ctx);
      if (name !== undefined && kids === undefined) top.blockless.push(name);
      if (name === undefined || kids === undefined) return;
      const d = newInstance(name, tokLoc(n.args[0] ?? n.kw));
      runBlock(kids, instanceSpec, d, ctx);
      top.instances.push(d);
    },
    virtual_server_group: (n, top, ctx) => {
      const g = parseVirtualServerGroup(n, ctx);
      if (g !== undefined) top.vsGroups.push(g);
    },
    virtual_server: (n, top, ctx) => {
      const vs = parseVirtualServer(n, ctx);
      if (vs !== undefined) top.vss.push(vs);
    },
    static_ipaddress: (n, top, ctx) => {
      for (const k of block(n, ctx) ?? []) {
        const v = vipLine(k, ctx);
        if (v !== undefined) top.staticIpaddress.push(v);
      }
    },
    static_routes: (n, top, ctx) => {
      for (const k of block(n, ctx) ?? []) {
        const r = routeLine(k, ctx);
        if (r !== undefined) top.staticRoutes.push(r);
      }
    },
    static_rules: (n, top, ctx) => {
      const kids = block(n, ctx);
      if (kids !== undefined) top.staticRules.push(...ruleBlock(kids, ctx, 'static rule'));
    },
    track_file: (n, top, ctx) => {
      const f = parseTrackFile(n, ctx);
      if (f !== undefined) top.trackFiles.push(f);
    },
    // keepalived takes net_namespace at the top level as well as in global_defs
    net_namespace: (n, top, ctx) => {
      const t = n.args[0];
      if (t === undefined) {
        ctx.sink.error(tokLoc(n.kw), 'missing-value', '`net_namespace` needs a namespace name');
        return;
      }
      noExtra(n, ctx, 1);
      top.globals.netNamespace = t.text;
    },
    garp_group: (n, top, ctx) => {
      const g = parseGarpGroup(n, ctx);
      if (g !== undefined) top.garpGroups.push(g);
    },
    vrrp_track_process: (n, top, ctx) => {
      const p = parseTrackProcess(n, ctx);
      if (p !== undefined) top.trackProcesses.push(p);
    },
    // keepalived's deprecated synonym (after 2.0.20)
    vrrp_track_file: (n, top, ctx) => {
      const f = parseTrackFile(n, ctx);
      if (f !== undefined) top.trackFiles.push(f);
    },
  },
  unsupported: TOP_UNSUPPORTED,
};

/**
 * What keepalived drops from an instance's tracking when it starts (vrrp.c, vrrp_track.c),
 * dropped here too, each said at its line: a track_script naming no vrrp_script ("track
 * script X not found, ignoring..."), and, for the address owner (priority 255, whose priority
 * never moves), every weighted track_script and track_interface ("ignoring tracked script X
 * with weights due to address_owner").
 */
function dropIgnoredTracking(inst: VrrpInstance, scriptWeight: ReadonlyMap<string, number>, ctx: Ctx): VrrpInstance {
  const owner = inst.priority === 255;
  const trackScripts = inst.trackScripts.filter((r) => {
    const w = scriptWeight.get(r.name);
    if (w === undefined) {
      ctx.sink.warn(r.loc, 'unknown-reference', `${inst.name}: track_script ${r.name} names no vrrp_script; ignored, as keepalived does`);
      return false;
    }
    if (owner && (r.weight ?? w) !== 0) {
      ctx.sink.warn(inst.loc, 'owner-weight', `${inst.name}: priority 255 (address owner) never changes; weighted track_script ${r.name} ignored, as keepalived does`);
      return false;
    }
    return true;
  });
  const trackInterfaces = owner
    ? inst.trackInterfaces.filter((r) => {
        if ((r.weight ?? 0) === 0) return true;
        ctx.sink.warn(inst.loc, 'owner-weight', `${inst.name}: priority 255 (address owner) never changes; weighted track_interface ${r.name} ignored, as keepalived does`);
        return false;
      })
    : inst.trackInterfaces;
  if (trackScripts.length === inst.trackScripts.length && trackInterfaces.length === inst.trackInterfaces.length) return inst;
  const out: VrrpInstance = { ...inst, trackScripts, trackInterfaces };
  const l = ctx.locs.get(inst);
  if (l !== undefined) ctx.locs.set(out, l);
  const pl = ctx.locs.get(inst.unicastPeers);
  if (pl !== undefined) ctx.locs.set(out.unicastPeers, pl);
  return out;
}

function withoutMembers(g: VrrpSyncGroup, drop: ReadonlySet<string>, ctx: Ctx): VrrpSyncGroup {
  if (!g.members.some((m) => drop.has(m))) return g;
  const old = ctx.locs.get(g) ?? {};
  const members: string[] = [];
  const locs: Record<string, SourceLoc> = {};
  g.members.forEach((m, i) => {
    if (drop.has(m)) return;
    const l = old[`member${i}`];
    if (l !== undefined) locs[`member${members.length}`] = l;
    members.push(m);
  });
  const out: VrrpSyncGroup = { ...g, members };
  // validate.ts does not call a group "single member" when the others were refused
  locs['refusedMembers'] = g.loc;
  ctx.locs.set(out, locs);
  return out;
}

export function parseTree(nodes: readonly Node[], files: readonly string[], sink: DiagnosticSink = new DiagnosticSink()): ParseResult {
  // A Map, not a WeakMap: it lives as long as the parse, and ephemerons cost the GC more.
  const locs: FieldLocs = new Map();
  const ctx: Ctx = { sink, locs };
  const top: Top = { globals: defaultGlobals(), scripts: [], groups: [], instances: [], blockless: [], vsGroups: [], vss: [], trackFiles: [], trackProcesses: [], garpGroups: [], staticIpaddress: [], staticRoutes: [], staticRules: [] };
  runBlock(nodes, topSpec, top, ctx);
  const globalDefs: GlobalDefs = finishGlobals(top.globals);

  const vrrpScripts: VrrpScript[] = [];
  for (const d of top.scripts) {
    const s = finishScript(d, ctx);
    if (s !== undefined) vrrpScripts.push(s);
  }
  const vrrpSyncGroups: VrrpSyncGroup[] = top.groups.map((g) => finishSyncGroup(g, ctx));
  // Each instance records the sync group that claims it (the first one; validate.ts
  // reports an instance claimed twice).
  const groupOf = new Map<string, string>();
  for (const g of vrrpSyncGroups) for (const m of g.members) if (!groupOf.has(m)) groupOf.set(m, g.name);
  const vrrpInstances: VrrpInstance[] = [];
  const scriptWeight = new Map(vrrpScripts.map((x) => [x.name, x.weight]));
  for (const d of top.instances) {
    const finished = finishInstance(d, globalDefs, ctx);
    if (finished === undefined) continue;
    const dropped = dropIgnoredTracking(finished, scriptWeight, ctx);
    const pacing = garpPacingFor(dropped, top.garpGroups, globalDefs);
    const inst: VrrpInstance = pacing === undefined ? dropped : { ...dropped, garpPacing: pacing };
    if (inst !== dropped) {
      const l = locs.get(dropped);
      if (l !== undefined) locs.set(inst, l);
    }
    const sg = groupOf.get(inst.name);
    if (sg !== undefined) {
      const withGroup: VrrpInstance = { ...inst, syncGroup: sg };
      const l = locs.get(inst);
      if (l !== undefined) locs.set(withGroup, l);
      vrrpInstances.push(withGroup);
    } else vrrpInstances.push(inst);
  }
  // Members naming no instance are left out, as keepalived does ("Virtual router X specified in
  // sync group G doesn't exist - ignoring"); one naming an instance refused for its own errors
  // (reported there) is left out in silence.
  const finished = new Set(vrrpInstances.map((i) => i.name));
  const declared = new Set([...top.instances.map((d) => d.name), ...top.blockless]);
  const groups = vrrpSyncGroups.map((g) => {
    const drop = new Set<string>();
    g.members.forEach((m, i) => {
      if (finished.has(m)) return;
      drop.add(m);
      if (!declared.has(m)) {
        const loc = ctx.locs.get(g)?.[`member${i}`] ?? g.loc;
        ctx.sink.warn(loc, 'unknown-reference', `vrrp_sync_group ${g.name}: member ${m} names no vrrp_instance; ignored, as keepalived does`);
      }
    });
    return drop.size === 0 ? g : withoutMembers(g, drop, ctx);
  });
  const config: Config = {
    files: [...files],
    globalDefs,
    vrrpScripts,
    vrrpSyncGroups: groups,
    vrrpInstances,
    virtualServerGroups: top.vsGroups,
    virtualServers: top.vss,
    ...(top.trackFiles.length > 0 ? { trackFiles: top.trackFiles } : {}),
    ...(top.trackProcesses.length > 0 ? { trackProcesses: top.trackProcesses } : {}),
    ...(top.garpGroups.length > 0 ? { garpGroups: top.garpGroups } : {}),
    ...(top.staticIpaddress.length > 0 ? { staticIpaddress: top.staticIpaddress } : {}),
    ...(top.staticRoutes.length > 0 ? { staticRoutes: top.staticRoutes } : {}),
    ...(top.staticRules.length > 0 ? { staticRules: top.staticRules } : {}),
  };
  checkFileCheckRefs(config, ctx);
  return { config, locs, diagnostics: sink.list, refusedInstances: [...declared].filter((n) => !finished.has(n)) };
}
