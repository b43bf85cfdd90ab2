/**
 * Whole-config checks on a parsed Config: value ranges, references between blocks,
 * duplicates and address families. Diagnostics point at the token that set the value
 * (field locations recorded by the parser), else at the block's name.
 *
 * Ranges follow keepalived 2.2 and the RFCs: VRID 1..255 and priority 1..255 (RFC 5798
 * §5.2.3-4; 255 is the address owner), advert_int 1..255 s for VRRPv2 (8-bit seconds,
 * RFC 3768 §5.3.7) and 0.01..40.95 s for VRRPv3 (12-bit centiseconds, RFC 5798 §5.2.7),
 * track weights -253..253 (keepalived.conf(5)), HTTP status 100..599, ports 0..65535.
 */
import * as fs from 'node:fs';
import { DiagnosticSink } from './diagnostics.ts';
import type { Config, Diagnostic, Family, SourceLoc, TrackRef, VrrpInstance } from './model.ts';
import { locOf, type FieldLocs } from './values.ts';

export interface ValidateOptions {
  /** does a network interface of this name exist here? default: /sys/class/net/<name> */
  readonly interfaceExists?: (name: string) => boolean;
}

export function sysInterfaceExists(name: string): boolean {
  if (name.length === 0 || name.includes('/') || name === '.' || name === '..') return false;
  try {
    fs.statSync(`/sys/class/net/${name}`);
    return true;
  } catch {
    return false;
  }
}

function familyOf(addr: string): Family {
  return addr.includes(':') ? 6 : 4;
}

export function validateConfig(config: Config, locs: FieldLocs, opts: ValidateOptions = {}): Diagnostic[] {
  const sink = new DiagnosticSink();
  const ifExists = opts.interfaceExists ?? sysInterfaceExists;
  const at = (obj: object, field: string, fallback: SourceLoc): SourceLoc => locOf(locs, obj, field, fallback);
  const range = (loc: SourceLoc, what: string, v: number, lo: number, hi: number): boolean => {
    if (v >= lo && v <= hi) return true;
    sink.error(loc, 'range', `${what} ${v} is out of range ${lo}..${hi}`);
    return false;
  };
  /**
   * Like range(), for the per-instance and per-server checks run tens of thousands of
   * times: the location and the message are only built when the value is out of range.
   */
  const rangeAt = (obj: object, field: string, fallback: SourceLoc, owner: string, what: string, v: number, lo: number, hi: number): boolean => {
    if (v >= lo && v <= hi) return true;
    return range(at(obj, field, fallback), `${owner}: ${what}`, v, lo, hi);
  };
  const ifaceSeen = new Map<string, boolean>();
  const checkIface = (name: string, loc: SourceLoc | (() => SourceLoc)): void => {
    if (ifaceSeen.has(name)) return;
    const exists = ifExists(name);
    ifaceSeen.set(name, exists);
    if (!exists) sink.warn(typeof loc === 'function' ? loc() : loc, 'unknown-interface', `interface ${name} does not exist on this host (yet)`);
  };

  const g = config.globalDefs;
  if (g.smtpServer !== undefined) {
    range(at(g, 'smtpServerPort', at(g, 'smtpServer', { file: config.files[0] ?? '', line: 1, col: 1 })), 'smtp_server port', g.smtpServer.port, 1, 65535);
  }

  // ---------------------------------------------------------------- vrrp_script
  const scripts = new Map<string, SourceLoc>();
  for (const s of config.vrrpScripts) {
    const prev = scripts.get(s.name);
    if (prev !== undefined) sink.error(s.loc, 'duplicate', `vrrp_script ${s.name} is already defined at ${prev.file}:${prev.line}:${prev.col}`);
    else scripts.set(s.name, s.loc);
    rangeAt(s, 'weight', s.loc, `vrrp_script ${s.name}`, 'weight', s.weight, -253, 253);
    if (s.intervalMs <= 0) sink.error(at(s, 'intervalMs', s.loc), 'range', `vrrp_script ${s.name}: interval must be more than 0 s`);
    if (s.timeoutMs <= 0) sink.error(at(s, 'timeoutMs', s.loc), 'range', `vrrp_script ${s.name}: timeout must be more than 0 s`);
    rangeAt(s, 'fall', s.loc, `vrrp_script ${s.name}`, 'fall', s.fall, 1, 2 ** 31 - 1);
    rangeAt(s, 'rise', s.loc, `vrrp_script ${s.name}`, 'rise', s.rise, 1, 2 ** 31 - 1);
  }

  // ---------------------------------------------------------------- track_file
  const trackFiles = new Map<string, SourceLoc>();
  for (const f of config.trackFiles ?? []) {
    const prev = trackFiles.get(f.name);
    if (prev !== undefined) sink.error(f.loc, 'duplicate', `track_file ${f.name} is already defined at ${prev.file}:${prev.line}:${prev.col}`);
    else trackFiles.set(f.name, f.loc);
    rangeAt(f, 'weight', f.loc, `track_file ${f.name}`, 'weight', f.weight, -254, 254);
  }

  // ---------------------------------------------------------------- vrrp_track_process
  const trackProcs = new Map<string, SourceLoc>();
  for (const p of config.trackProcesses ?? []) {
    const prev = trackProcs.get(p.name);
    if (prev !== undefined) sink.error(p.loc, 'duplicate', `vrrp_track_process ${p.name} is already defined at ${prev.file}:${prev.line}:${prev.col}`);
    else trackProcs.set(p.name, p.loc);
    rangeAt(p, 'weight', p.loc, `vrrp_track_process ${p.name}`, 'weight', p.weight, -254, 254);
    rangeAt(p, 'quorum', p.loc, `vrrp_track_process ${p.name}`, 'quorum', p.quorum, 1, 2 ** 32 - 1);
    if (p.quorumMax !== undefined && p.quorumMax < p.quorum) {
      sink.error(at(p, 'quorumMax', p.loc), 'range', `vrrp_track_process ${p.name}: quorum_max ${p.quorumMax} is below quorum ${p.quorum}`);
    }
  }

  const trackRefs = (owner: string, refs: readonly TrackRef[], kind: 'script' | 'interface' | 'file' | 'process'): void => {
    const seen = new Set<string>();
    for (const r of refs) {
      if (seen.has(r.name)) sink.warn(r.loc, 'duplicate', `${owner}: ${kind} ${r.name} is tracked twice`);
      seen.add(r.name);
      // keepalived: a track_file weight goes to ±254 (a file value of -1 can then reach FAULT)
      const lim = kind === 'file' || kind === 'process' ? 254 : 253;
      if (r.weight !== undefined) rangeAt(r, 'weight', r.loc, owner, `track_${kind} ${r.name} weight`, r.weight, -lim, lim);
      if (kind === 'script' && !scripts.has(r.name)) {
        sink.warn(r.loc, 'unknown-reference', `${owner}: track_script ${r.name} names no vrrp_script; ignored, as keepalived does`);
      }
      if (kind === 'process' && !trackProcs.has(r.name)) {
        sink.error(r.loc, 'unknown-reference', `${owner}: track_process ${r.name} names no vrrp_track_process`);
      }
      if (kind === 'file' && !trackFiles.has(r.name)) {
        sink.error(r.loc, 'unknown-reference', `${owner}: track_file ${r.name} names no track_file block`);
      }
      if (kind === 'interface') checkIface(r.name, r.loc);
    }
  };

  // ---------------------------------------------------------------- vrrp_instance
  const byName = new Map<string, VrrpInstance>();
  const byVrid = new Map<string, VrrpInstance>();
  for (const inst of config.vrrpInstances) {
    const name = inst.name;
    const prev = byName.get(name);
    if (prev !== undefined) {
      sink.error(inst.loc, 'duplicate', `vrrp_instance ${name} is already defined at ${prev.loc.file}:${prev.loc.line}:${prev.loc.col}`);
    } else byName.set(name, inst);
    const vridOk = rangeAt(inst, 'virtualRouterId', inst.loc, name, 'virtual_router_id', inst.virtualRouterId, 1, 255);
    if (rangeAt(inst, 'priority', inst.loc, name, 'priority', inst.priority, 1, 255) && inst.priority === 255 && inst.initialState === 'BACKUP') {
      sink.warn(at(inst, 'priority', inst.loc), 'owner-backup', `${name}: priority 255 (the address owner) with \`state BACKUP\` starts as BACKUP and takes over after the master-down interval, as keepalived does; \`state MASTER\` takes over at once`);
    }
    if (inst.advertIntMs <= 0) sink.error(at(inst, 'advertIntMs', inst.loc), 'range', `${name}: advert_int must be more than 0 s`);
    else if (inst.version === 2) rangeAt(inst, 'advertIntMs', inst.loc, name, 'advert_int (VRRPv2, s)', inst.advertIntMs / 1000, 1, 255);
    else rangeAt(inst, 'advertIntMs', inst.loc, name, 'advert_int (VRRPv3, s)', inst.advertIntMs / 1000, 0.01, 40.95);

    if (vridOk) {
      const key = `${inst.interface}\0${inst.virtualRouterId}\0${inst.family}`;
      const other = byVrid.get(key);
      if (other !== undefined) {
        sink.error(
          at(inst, 'virtualRouterId', inst.loc),
          'duplicate-vrid',
          `${name}: virtual_router_id ${inst.virtualRouterId} (IPv${inst.family}) on ${inst.interface} is already used by ${other.name}`,
        );
      } else byVrid.set(key, inst);
    }
    checkIface(inst.interface, () => at(inst, 'interface', inst.loc));
    if (inst.virtualIpaddress.length === 0 && !inst.strictMode) sink.warn(inst.loc, 'no-vip', `${name}: no virtual_ipaddress`);
    const vipSeen = new Set<string>();
    for (const v of inst.virtualIpaddress) {
      const k = `${v.address}/${v.prefixLen}`;
      if (vipSeen.has(v.address)) sink.warn(v.loc, 'duplicate', `${name}: virtual address ${k} is listed twice`);
      vipSeen.add(v.address);
      if (v.dev !== undefined) checkIface(v.dev, v.loc);
    }
    for (const f of ['unicastSrcIp', 'mcastSrcIp'] as const) {
      const a = inst[f];
      if (a !== undefined && familyOf(a) !== inst.family) {
        sink.error(at(inst, f, inst.loc), 'family-mismatch', `${name}: ${f === 'unicastSrcIp' ? 'unicast_src_ip' : 'mcast_src_ip'} ${a} is not IPv${inst.family} like the instance`);
      }
    }
    inst.unicastPeers.forEach((p, i) => {
      if (familyOf(p) !== inst.family) {
        sink.error(at(inst.unicastPeers, String(i), inst.loc), 'family-mismatch', `${name}: unicast_peer ${p} is not IPv${inst.family} like the instance`);
      }
    });
    trackRefs(name, inst.trackScripts, 'script');
    trackRefs(name, inst.trackInterfaces, 'interface');
    trackRefs(name, inst.trackFiles ?? [], 'file');
    trackRefs(name, inst.trackProcesses ?? [], 'process');
    if (inst.strictMode) {
      // keepalived.conf(5), vrrp_strict: what RFC-strict operation forbids.
      if (inst.virtualIpaddress.length === 0) sink.error(inst.loc, 'strict-mode', `${name}: strict mode needs at least one virtual_ipaddress`);
      if (inst.unicastPeers.length > 0) sink.error(at(inst.unicastPeers, '0', inst.loc), 'strict-mode', `${name}: strict mode does not allow unicast_peer`);
      if (inst.initialState === 'MASTER' && inst.priority !== 255) {
        sink.warn(at(inst, 'initialState', inst.loc), 'strict-mode', `${name}: strict mode allows state MASTER only with priority 255 (the address owner)`);
      }
      if (inst.preemptDelayMs > 0) sink.warn(at(inst, 'preemptDelayMs', inst.loc), 'strict-mode', `${name}: strict mode does not support preempt_delay`);
    }
    if (inst.nopreempt && inst.initialState === 'MASTER') {
      sink.warn(at(inst, 'initialState', inst.loc), 'nopreempt-master', `${name}: nopreempt needs \`state BACKUP\` (keepalived ignores nopreempt with state MASTER)`);
    }
  }

  // lvs_sync_daemon IFACE INSTANCE …: the instance must exist (keepalived refuses the line otherwise)
  const syncWords = config.globalDefs.lvsSyncDaemon;
  if (syncWords !== undefined) {
    const iname = syncWords[1];
    const gl = { file: config.files[0] ?? '', line: 1, col: 1 };
    if (iname === undefined) sink.error(gl, 'missing-value', 'lvs_sync_daemon needs an interface and a vrrp_instance');
    else if (!byName.has(iname)) sink.error(gl, 'unknown-reference', `lvs_sync_daemon: ${iname} names no vrrp_instance`);
  }

  // ---------------------------------------------------------------- vrrp_sync_group
  const groupNames = new Set<string>();
  const claimed = new Map<string, string>();
  for (const sg of config.vrrpSyncGroups) {
    if (groupNames.has(sg.name)) sink.error(sg.loc, 'duplicate', `vrrp_sync_group ${sg.name} is defined twice`);
    groupNames.add(sg.name);
    const lostMembers = locs.get(sg)?.['refusedMembers'] !== undefined;
    if (sg.members.length === 0 && !lostMembers) sink.error(sg.loc, 'missing-keyword', `vrrp_sync_group ${sg.name} has no \`group { }\` members`);
    else if (sg.members.length === 1 && !lostMembers) sink.warn(sg.loc, 'single-member', `vrrp_sync_group ${sg.name} has only one member`);
    sg.members.forEach((m, i) => {
      const loc = at(sg, `member${i}`, sg.loc);
      if (!byName.has(m)) sink.error(loc, 'unknown-reference', `vrrp_sync_group ${sg.name}: member ${m} names no vrrp_instance`);
      const other = claimed.get(m);
      if (other !== undefined) sink.error(loc, 'duplicate', `vrrp_instance ${m} is already a member of vrrp_sync_group ${other}`);
      else claimed.set(m, sg.name);
    });
    trackRefs(`vrrp_sync_group ${sg.name}`, sg.trackScripts, 'script');
    trackRefs(`vrrp_sync_group ${sg.name}`, sg.trackInterfaces, 'interface');
    trackRefs(`vrrp_sync_group ${sg.name}`, sg.trackFiles ?? [], 'file');
    trackRefs(`vrrp_sync_group ${sg.name}`, sg.trackProcesses ?? [], 'process');
  }
  // keepalived 2.2 drops weighted tracking from sync group members ("ignoring tracked
  // script ... with weights due to SYNC group"): the members must change state together,
  // which per-member priority changes would break.
  const scriptWeight = new Map(config.vrrpScripts.map((s) => [s.name, s.weight]));
  const fileWeight = new Map((config.trackFiles ?? []).map((f) => [f.name, f.weight]));
  const procWeight = new Map((config.trackProcesses ?? []).map((p) => [p.name, p.weight]));
  for (const inst of config.vrrpInstances) {
    const sg = claimed.get(inst.name);
    if (sg === undefined) continue;
    for (const r of inst.trackScripts) {
      if ((r.weight ?? scriptWeight.get(r.name) ?? 0) !== 0) {
        sink.warn(r.loc, 'sync-group-weight', `${inst.name} is in vrrp_sync_group ${sg}: keepalived ignores weighted track_script ${r.name} there; use weight 0 or track it on the group`);
      }
    }
    for (const r of inst.trackInterfaces) {
      if ((r.weight ?? 0) !== 0) {
        sink.warn(r.loc, 'sync-group-weight', `${inst.name} is in vrrp_sync_group ${sg}: keepalived ignores weighted track_interface ${r.name} there; use weight 0 or track it on the group`);
      }
    }
    for (const r of inst.trackFiles ?? []) {
      if ((r.weight ?? fileWeight.get(r.name) ?? 0) !== 0) {
        sink.warn(r.loc, 'sync-group-weight', `${inst.name} is in vrrp_sync_group ${sg}: keepalived ignores weighted track_file ${r.name} there; use weight 0 or track it on the group`);
      }
    }
    for (const r of inst.trackProcesses ?? []) {
      if ((r.weight ?? procWeight.get(r.name) ?? 0) !== 0) {
        sink.warn(r.loc, 'sync-group-weight', `${inst.name} is in vrrp_sync_group ${sg}: keepalived ignores weighted track_process ${r.name} there; use weight 0 or track it on the group`);
      }
    }
  }

  // ---------------------------------------------------------------- LVS
  const vsGroups = new Set<string>();
  for (const grp of config.virtualServerGroups) {
    if (vsGroups.has(grp.name)) sink.error(grp.loc, 'duplicate', `virtual_server_group ${grp.name} is defined twice`);
    vsGroups.add(grp.name);
    if (grp.entries.length === 0) sink.warn(grp.loc, 'empty', `virtual_server_group ${grp.name} is empty`);
    for (const e of grp.entries) if (e.kind === 'ip') range(at(e, 'port', e.loc), 'virtual_server_group port', e.port, 0, 65535);
  }
  const vsKeys = new Set<string>();
  for (const vs of config.virtualServers) {
    const k = vs.key;
    const label = k.kind === 'ip' ? `${k.family === 6 ? `[${k.address}]` : k.address}:${k.port}` : k.kind === 'fwmark' ? `fwmark ${k.fwmark}` : `group ${k.name}`;
    const keyStr = `${label}/${vs.protocol}`;
    if (vsKeys.has(keyStr)) sink.error(vs.loc, 'duplicate', `virtual_server ${label} ${vs.protocol} is defined twice`);
    vsKeys.add(keyStr);
    if (k.kind === 'ip') rangeAt(vs, 'port', vs.loc, `virtual_server ${label}`, 'port', k.port, 0, 65535);
    if (k.kind === 'fwmark') range(vs.loc, 'virtual_server fwmark', k.fwmark, 1, 2 ** 32 - 1);
    if (k.kind === 'group' && !vsGroups.has(k.name)) sink.error(vs.loc, 'unknown-reference', `virtual_server group ${k.name} names no virtual_server_group`);
    if (k.kind === 'group' && vs.announceRoute !== undefined) {
      const grp = config.virtualServerGroups.find((g) => g.name === k.name);
      if (grp !== undefined && !grp.entries.some((e) => e.kind === 'ip')) {
        sink.error(vs.announceRoute.loc, 'no-address', `virtual_server group ${k.name}: announce_route needs addresses; the group has only fwmark entries`);
      } else if (grp !== undefined && grp.entries.some((e) => e.kind === 'fwmark')) {
        sink.warn(vs.announceRoute.loc, 'no-address', `virtual_server group ${k.name}: announce_route announces the group's addresses; its fwmark entries have none`);
      }
    }
    if (vs.persistenceTimeoutMs !== undefined) range(at(vs, 'persistenceTimeoutMs', vs.loc), `virtual_server ${label}: persistence_timeout (s)`, vs.persistenceTimeoutMs / 1000, 1, 2678400);
    if (vs.quorum < 0) sink.error(vs.loc, 'range', `virtual_server ${label}: quorum must not be negative`);
    if (vs.hysteresis < 0) sink.error(vs.loc, 'range', `virtual_server ${label}: hysteresis must not be negative`);
    if (vs.sorryServer !== undefined) {
      range(at(vs, 'sorryServerPort', vs.loc), 'sorry_server port', vs.sorryServer.port, 0, 65535);
      if (k.kind === 'ip' && familyOf(vs.sorryServer.address) !== k.family && vs.lbKind !== 'TUN') {
        sink.error(at(vs, 'sorryServer', vs.loc), 'family-mismatch', `virtual_server ${label}: sorry_server ${vs.sorryServer.address} is not of the virtual server's family`);
      }
    }
    if (vs.realServers.length === 0 && vs.sorryServer === undefined) sink.warn(vs.loc, 'no-real-server', `virtual_server ${label} has no real_server`);
    const rsSeen = new Set<string>();
    for (const rs of vs.realServers) {
      const rl = `${rs.family === 6 ? `[${rs.address}]` : rs.address}:${rs.port}`;
      if (rsSeen.has(rl)) sink.error(rs.loc, 'duplicate', `virtual_server ${label}: real_server ${rl} is listed twice`);
      rsSeen.add(rl);
      rangeAt(rs, 'port', rs.loc, `real_server ${rl}`, 'port', rs.port, 0, 65535);
      rangeAt(rs, 'weight', rs.loc, `real_server ${rl}`, 'weight', rs.weight, 0, 0x7fff_ffff);
      const kind = rs.lbKind ?? vs.lbKind;
      if (k.kind === 'ip' && rs.family !== k.family && kind !== 'TUN') {
        sink.error(rs.loc, 'family-mismatch', `virtual_server ${label}: real_server ${rl} is IPv${rs.family}; only tunnelled real servers may differ in family`);
      }
      for (const c of rs.checkers) {
        if (c.connectPort !== undefined) range(at(c, 'connectPort', c.loc), `${c.type}: connect_port`, c.connectPort, 0, 65535);
        if (c.bindPort !== undefined) range(at(c, 'bindPort', c.loc), `${c.type}: bind_port`, c.bindPort, 0, 65535);
        if (c.connectTimeoutMs <= 0) sink.error(at(c, 'connectTimeoutMs', c.loc), 'range', `${c.type}: connect_timeout must be more than 0 s`);
        if (c.delayLoopMs <= 0) sink.error(at(c, 'delayLoopMs', c.loc), 'range', `${c.type}: delay_loop must be more than 0 s`);
        if (c.retry < 0) sink.error(at(c, 'retry', c.loc), 'range', `${c.type}: retry must not be negative`);
        if (c.type === 'HTTP_GET' || c.type === 'SSL_GET') {
          for (const u of c.urls) {
            u.statusCodes.forEach((s, i) => {
              const loc = at(u, `status${i}`, u.loc);
              if (range(loc, 'status_code', s.from, 100, 599)) range(loc, 'status_code', s.to, 100, 599);
            });
          }
        }
      }
    }
  }
  return sink.list;
}
