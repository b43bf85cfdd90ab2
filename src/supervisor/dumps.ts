/**
 * State dumps, as keepalived writes them:
 *   SIGUSR1 → /tmp/keepalived.data   human-readable state (vrrp_print_data, dump_data_check)
 *   SIGUSR2 → /tmp/keepalived.stats  per-instance statistics (vrrp_print_stats)
 *   on request (`vigil status --json`, keepalived's SIGJSON) → /tmp/keepalived.json
 *
 * The formatters are pure (a VigilStatus in, text out); `writeDump` puts the text in place
 * the way keepalived's JSON dump does: a new file created exclusively next to the target,
 * then renamed over it, so a reader never sees half a dump and a symlink planted in /tmp
 * is replaced, never followed.
 *
 * VigilStatus is also what the control socket's `status` returns: one shape for every view.
 */
import type * as NodeCrypto from 'node:crypto';
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Protocol, RealServer, VirtualServer } from '../config/model.ts';
import type { InstanceStatus, IsolateHeap } from '../ipc/messages.ts';
import type { AnnounceStatus } from './announce-host.ts';

/** keepalived's dump directory (global_data->tmp_dir default) */
export const DEFAULT_DUMP_DIR = '/tmp';

export const DumpFile = {
  data: 'keepalived.data',
  stats: 'keepalived.stats',
  json: 'keepalived.json',
} as const;
export type DumpKind = keyof typeof DumpFile;

/** One VRRP instance as the supervisor knows it: the worker's view plus config facts. */
export interface InstanceView extends InstanceStatus {
  /** virtual addresses as written, `10.0.0.1/24 dev eth0` */
  readonly vips: readonly string[];
  readonly syncGroup?: string;
  readonly version?: 2 | 3;
  readonly advertIntMs?: number;
  readonly nopreempt?: boolean;
  /** ISO time of the last transition */
  readonly lastTransition?: string;
}

export interface SyncGroupView {
  readonly name: string;
  readonly state: string;
  readonly members: readonly string[];
}

export interface RealServerView {
  /** `[10.0.0.2]:tcp:80`, keepalived's FMT_RS */
  readonly name: string;
  readonly weight: number;
  readonly up: boolean;
  /** checker types, `HTTP_GET`, `TCP_CHECK` … */
  readonly checkers: readonly string[];
}

export interface VirtualServerView {
  /** `[10.0.0.1]:tcp:80`, `FWM 5`, `[group]:80`, keepalived's FMT_VS */
  readonly name: string;
  readonly lbAlgo: string;
  readonly lbKind: string;
  readonly quorumUp: boolean;
  readonly realServers: readonly RealServerView[];
}

export interface VigilStatus {
  readonly pid: number;
  readonly routerId: string;
  readonly configFile: string;
  /** ISO times */
  readonly startedAt: string;
  readonly now: string;
  readonly instances: readonly InstanceView[];
  readonly syncGroups: readonly SyncGroupView[];
  readonly virtualServers: readonly VirtualServerView[];
  /** announce_route: drained or not, and each route (absent without announce_route) */
  readonly announce?: AnnounceStatus;
  readonly reloads: { readonly ok: number; readonly refused: number; readonly failed: number };
  /** anything else worth a number: mails sent/failed, notify scripts run … */
  readonly counters: Readonly<Record<string, number>>;
  /** what the daemon holds: the process (kB, /proc/self/smaps_rollup) and each V8 heap by thread */
  readonly memory?: {
    readonly rssKb: number;
    readonly pssKb: number;
    readonly threads: number;
    readonly isolates: Readonly<Record<string, IsolateHeap>>;
  };
}

/**
 * keepalived's names for services (check_data.c format_vs / format_rs, utils.c
 * inet_sockaddrtotrio): `[10.0.0.1]:tcp:80`, `[2001:db8::1]:udp:53`, `FWM 5`, `[group]:0`.
 * Used alike in dumps, status, mail subjects, FIFO lines and metric labels.
 */
export function formatVs(vs: Pick<VirtualServer, 'key' | 'protocol'>): string {
  switch (vs.key.kind) {
    case 'group':
      return `[${vs.key.name}]:0`;
    case 'fwmark':
      return `FWM ${vs.key.fwmark}`;
    case 'ip':
      return trio(vs.key.address, vs.protocol, vs.key.port);
  }
}

export function formatRs(rs: Pick<RealServer, 'address' | 'port'>, vs: Pick<VirtualServer, 'protocol'>): string {
  return trio(rs.address, vs.protocol, rs.port);
}

function trio(address: string, protocol: Protocol, port: number): string {
  return `[${address}]:${protocol.toLowerCase()}:${port}`;
}

/** SIGUSR1's text. Layout follows keepalived's `------< … >------` sections. */
export function formatDataDump(s: VigilStatus): string {
  const out: string[] = [];
  out.push(`------< Global definitions >------`);
  out.push(` Router ID = ${s.routerId}`);
  out.push(` PID = ${s.pid}`);
  out.push(` Config file = ${s.configFile}`);
  out.push(` Started = ${s.startedAt}`);
  out.push(` Dumped = ${s.now}`);
  out.push(` Reloads = ${s.reloads.ok} applied, ${s.reloads.refused} refused, ${s.reloads.failed} failed`);
  if (s.syncGroups.length > 0) {
    out.push(`------< VRRP Sync groups >------`);
    for (const g of s.syncGroups) {
      out.push(` VRRP Sync Group = ${g.name}, ${g.state}`);
      out.push(`   VRRP member instances = ${g.members.length}`);
      for (const m of g.members) out.push(`     ${m}`);
    }
  }
  if (s.instances.length > 0) {
    out.push(`------< VRRP Topology >------`);
    for (const i of s.instances) {
      out.push(` VRRP Instance = ${i.name}`);
      out.push(`   VRRP Version = ${i.version ?? 2}`);
      out.push(`   State = ${i.state}`);
      if (i.lastTransition !== undefined) out.push(`   Last transition = ${i.lastTransition}`);
      out.push(`   Interface = ${i.interface}`);
      out.push(`   Virtual Router ID = ${i.vrid}`);
      out.push(`   Priority = ${i.configuredPriority}`);
      out.push(`   Effective priority = ${i.priority}`);
      if (i.advertIntMs !== undefined) out.push(`   Advert interval = ${i.advertIntMs / 1000} sec`);
      if (i.nopreempt !== undefined) out.push(`   Preempt = ${i.nopreempt ? 'disabled' : 'enabled'}`);
      if (i.masterAddress !== undefined) out.push(`   Master router = ${i.masterAddress}`);
      if (i.syncGroup !== undefined) out.push(`   Sync group = ${i.syncGroup}`);
      out.push(`   Virtual IP = ${i.vips.length}`);
      for (const v of i.vips) out.push(`     ${v}`);
    }
  }
  if (s.virtualServers.length > 0) {
    out.push(`------< LVS Topology >------`);
    for (const v of s.virtualServers) {
      out.push(` VS = ${v.name}`);
      out.push(`   lb_algo = ${v.lbAlgo}`);
      out.push(`   lb_kind = ${v.lbKind}`);
      out.push(`   Quorum = ${v.quorumUp ? 'UP' : 'DOWN'}`);
      for (const r of v.realServers) {
        out.push(`   RS = ${r.name}`);
        out.push(`     Alive = ${r.up ? 'yes' : 'no'}`);
        out.push(`     Weight = ${r.weight}`);
        if (r.checkers.length > 0) out.push(`     Checkers = ${r.checkers.join(', ')}`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}

/**
 * keepalived's stats names for vigil's dropped-packet reasons. A reason not listed here is
 * still printed, under "Other drops", so no counter is lost from the dump.
 */
const STATS_DROPS: readonly (readonly [section: string, label: string, reasons: readonly string[]])[] = [
  ['Packet Errors', 'Length', ['length', 'packet_len_err', 'short', 'truncated']],
  ['Packet Errors', 'TTL', ['ttl', 'ip_ttl_err', 'hop-limit']],
  ['Packet Errors', 'Invalid Type', ['type', 'invalid_type_rcvd']],
  ['Packet Errors', 'Advertisement Interval', ['advert-interval', 'advert_interval_err', 'interval']],
  ['Packet Errors', 'Address List', ['address-list', 'addr_list_err', 'addresses']],
  ['Authentication Errors', 'Invalid Type', ['auth-type', 'invalid_authtype']],
  ['Authentication Errors', 'Type Mismatch', ['auth-mismatch', 'authtype_mismatch']],
  ['Authentication Errors', 'Failure', ['auth-failure', 'auth_failure', 'auth', 'ah-replay']],
];

/** SIGUSR2's text: keepalived's vrrp_print_stats layout, per instance. */
export function formatStatsDump(s: VigilStatus): string {
  const out: string[] = [];
  for (const i of s.instances) {
    const used = new Set<string>();
    const sum = (reasons: readonly string[]): number => {
      let n = 0;
      for (const r of reasons) {
        const v = i.dropped[r];
        if (v !== undefined) {
          n += v;
          used.add(r);
        }
      }
      return n;
    };
    out.push(`VRRP Instance: ${i.name}`);
    out.push(`  Advertisements:`);
    out.push(`    Received: ${i.advertsReceived}`);
    out.push(`    Sent: ${i.advertsSent}`);
    out.push(`  Became master: ${i.becameMaster}`);
    out.push(`  Released master: ${Math.max(0, i.becameMaster - (i.state === 'MASTER' ? 1 : 0))}`);
    let section = '';
    for (const [sec, label, reasons] of STATS_DROPS) {
      if (sec !== section) {
        out.push(`  ${sec}:`);
        section = sec;
      }
      out.push(`    ${label}: ${sum(reasons)}`);
    }
    out.push(`  Priority Zero:`);
    out.push(`    Received: ${i.priorityZeroReceived}`);
    out.push(`    Sent: ${i.priorityZeroSent}`);
    const other = Object.entries(i.dropped).filter(([r]) => !used.has(r));
    if (other.length > 0) {
      out.push(`  Other drops:`);
      for (const [r, n] of other.sort(([a], [b]) => a.localeCompare(b))) out.push(`    ${r}: ${n}`);
    }
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/**
 * The JSON dump: keepalived's shape (an array of `{data, stats}` per instance, its field
 * names where vigil has the value) so existing tooling that reads keepalived.json keeps
 * working, plus vigil's own fields under `vigil`.
 */
export function formatJsonDump(s: VigilStatus): string {
  const STATE_NUM: Record<string, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3 };
  const vrrp = s.instances.map((i) => ({
    data: {
      iname: i.name,
      ifp_ifname: i.interface,
      vrid: i.vrid,
      base_priority: i.configuredPriority,
      effective_priority: i.priority,
      vipset: i.state === 'MASTER',
      adver_int: i.advertIntMs === undefined ? undefined : i.advertIntMs / 1000,
      nopreempt: i.nopreempt,
      state: STATE_NUM[i.state] ?? -1,
      version: i.version ?? 2,
      vips: i.vips,
      sync_group: i.syncGroup,
      last_transition: i.lastTransition,
    },
    stats: {
      advert_rcvd: i.advertsReceived,
      advert_sent: i.advertsSent,
      become_master: i.becameMaster,
      release_master: Math.max(0, i.becameMaster - (i.state === 'MASTER' ? 1 : 0)),
      pri_zero_rcvd: i.priorityZeroReceived,
      pri_zero_sent: i.priorityZeroSent,
      dropped: i.dropped,
    },
  }));
  return `${JSON.stringify({ vrrp, vigil: s }, null, 2)}\n`;
}

export function formatDump(kind: DumpKind, s: VigilStatus): string {
  switch (kind) {
    case 'data':
      return formatDataDump(s);
    case 'stats':
      return formatStatsDump(s);
    case 'json':
      return formatJsonDump(s);
  }
}

// node's crypto with the first dump, not in every daemon's start (17 modules, 0.2 MB of heap)
const requireNode = createRequire(import.meta.url);
let randomBytes: typeof NodeCrypto.randomBytes | undefined;

/**
 * Writes a dump to `dir/keepalived.{data,stats,json}` atomically: O_EXCL temporary file in
 * the same directory, then rename(2). Returns the path written. Throws the fs error (with
 * its `code`) for the caller to log as `dump.failed`.
 */
export function writeDump(kind: DumpKind, s: VigilStatus, dir: string = DEFAULT_DUMP_DIR): string {
  const target = join(dir, DumpFile[kind]);
  randomBytes ??= (requireNode('node:crypto') as typeof NodeCrypto).randomBytes;
  const tmp = `${target}.${randomBytes(6).toString('hex')}`;
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    try {
      writeSync(fd, formatDump(kind, s));
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or never created
    }
    throw err;
  }
  return target;
}
