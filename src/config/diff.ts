/**
 * Two configs in, a reload plan out: what a SIGHUP must add, remove, restart or update in
 * place. Plain data (crosses MessagePorts, printed by tests), no side effects.
 *
 * Identity: instances, vrrp_scripts, sync groups and virtual_server_groups by name;
 * virtual servers by their key and protocol (`10.0.0.1:80/TCP`, `fwmark 5/v4/TCP`,
 * `group WEB/TCP`); real servers by `address:port`. Everything else is compared
 * structurally, ignoring source locations (moving a block in the file changes nothing).
 */
import type { Config, RealServer, VirtualAddress, VirtualServer, VrrpInstance } from './model.ts';

export interface Changed {
  readonly name: string;
  /** model field names whose values differ, in model order */
  readonly fields: readonly string[];
}

export interface InstanceChange extends Changed {
  /**
   * true: the change alters the instance's identity on the wire or the link (VRID,
   * interface, version, family, VMAC, unicast/multicast source, peers, authentication,
   * strict mode): stop it (releasing its VIPs) and start it anew. false: apply in place.
   */
  readonly restart: boolean;
  readonly vipsAdded: readonly VirtualAddress[];
  readonly vipsRemoved: readonly VirtualAddress[];
}

export interface SetDiff<C extends Changed> {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly unchanged: readonly string[];
  readonly changed: readonly C[];
}

export interface RealServerDiff extends SetDiff<Changed> {}

export interface VirtualServerChange extends Changed {
  /** service attributes changed (scheduler, method, persistence, ...) */
  readonly serviceChanged: boolean;
  readonly realServers: RealServerDiff;
}

export interface ReloadPlan {
  /** global_defs fields that differ */
  readonly globalDefs: readonly string[];
  readonly vrrpScripts: SetDiff<Changed>;
  readonly vrrpSyncGroups: SetDiff<Changed>;
  readonly vrrpInstances: SetDiff<InstanceChange>;
  readonly virtualServerGroups: SetDiff<Changed>;
  readonly virtualServers: SetDiff<VirtualServerChange>;
  /** nothing differs at all */
  readonly empty: boolean;
}

/** Fields whose change needs the instance restarted rather than updated in place. */
export const RESTART_FIELDS: ReadonlySet<string> = new Set([
  'virtualRouterId',
  'interface',
  'version',
  'family',
  'useVmac',
  'vmacXmitBase',
  'unicastSrcIp',
  'mcastSrcIp',
  'unicastPeers',
  'authentication',
  'strictMode',
]);

/** Source locations, not configuration: skipped when comparing. */
const LOCATION_KEYS = new Set(['loc', 'endLoc']);

/** Structural equality of plain data, skipping `loc` properties at any depth. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], bb[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) {
    if (LOCATION_KEYS.has(k)) continue;
    if (!sameValue(ao[k], bo[k])) return false;
  }
  return true;
}

function changedFields(a: object, b: object): string[] {
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const out: string[] = [];
  const keys = [...Object.keys(ao), ...Object.keys(bo).filter((k) => !(k in ao))];
  for (const k of keys) {
    if (LOCATION_KEYS.has(k)) continue;
    if (!sameValue(ao[k], bo[k])) out.push(k);
  }
  return out;
}

function diffSets<T extends object, C extends Changed>(
  prev: readonly T[],
  next: readonly T[],
  key: (x: T) => string,
  change: (a: T, b: T, name: string, fields: string[]) => C,
): SetDiff<C> {
  const before = new Map<string, T>();
  for (const p of prev) if (!before.has(key(p))) before.set(key(p), p);
  const after = new Map<string, T>();
  for (const n of next) if (!after.has(key(n))) after.set(key(n), n);
  const added: string[] = [];
  const unchanged: string[] = [];
  const changed: C[] = [];
  for (const [k, n] of after) {
    const p = before.get(k);
    if (p === undefined) {
      added.push(k);
      continue;
    }
    const fields = changedFields(p, n);
    if (fields.length === 0) unchanged.push(k);
    else changed.push(change(p, n, k, fields));
  }
  const removed = [...before.keys()].filter((k) => !after.has(k));
  return { added, removed, unchanged, changed };
}

const plain = <T extends object>(_a: T, _b: T, name: string, fields: string[]): Changed => ({ name, fields });

function vipKey(v: VirtualAddress): string {
  return `${v.address}/${v.prefixLen}${v.dev !== undefined ? ` dev ${v.dev}` : ''}${v.label !== undefined ? ` label ${v.label}` : ''}`;
}

function instanceChange(a: VrrpInstance, b: VrrpInstance, name: string, fields: string[]): InstanceChange {
  const before = new Map(a.virtualIpaddress.map((v) => [vipKey(v), v]));
  const after = new Map(b.virtualIpaddress.map((v) => [vipKey(v), v]));
  const vipsAdded = [...after].filter(([k, v]) => !sameValue(before.get(k), v)).map(([, v]) => v);
  const vipsRemoved = [...before].filter(([k, v]) => !sameValue(after.get(k), v)).map(([, v]) => v);
  return { name, fields, restart: fields.some((f) => RESTART_FIELDS.has(f)), vipsAdded, vipsRemoved };
}

/** `10.0.0.1:80/TCP`, `[2001:db8::1]:443/TCP`, `fwmark 5/v4/TCP`, `group WEB/TCP` */
export function virtualServerKey(vs: VirtualServer): string {
  const k = vs.key;
  switch (k.kind) {
    case 'ip':
      return `${k.family === 6 ? `[${k.address}]` : k.address}:${k.port}/${vs.protocol}`;
    case 'fwmark':
      return `fwmark ${k.fwmark}/v${k.family}/${vs.protocol}`;
    case 'group':
      return `group ${k.name}/${vs.protocol}`;
  }
}

export function realServerKey(rs: RealServer): string {
  return `${rs.family === 6 ? `[${rs.address}]` : rs.address}:${rs.port}`;
}

function vsChange(a: VirtualServer, b: VirtualServer, name: string, fields: string[]): VirtualServerChange {
  const realServers = diffSets(a.realServers, b.realServers, realServerKey, plain);
  return { name, fields, serviceChanged: fields.some((f) => f !== 'realServers'), realServers };
}

export function diffConfigs(prev: Config, next: Config): ReloadPlan {
  const globalDefs = changedFields(prev.globalDefs, next.globalDefs);
  const vrrpScripts = diffSets(prev.vrrpScripts, next.vrrpScripts, (s) => s.name, plain);
  const vrrpSyncGroups = diffSets(prev.vrrpSyncGroups, next.vrrpSyncGroups, (g) => g.name, plain);
  const vrrpInstances = diffSets(prev.vrrpInstances, next.vrrpInstances, (i) => i.name, instanceChange);
  const virtualServerGroups = diffSets(prev.virtualServerGroups, next.virtualServerGroups, (g) => g.name, plain);
  const virtualServers = diffSets(prev.virtualServers, next.virtualServers, virtualServerKey, vsChange);
  const quiet = (d: SetDiff<Changed>): boolean => d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0;
  // track_file, vrrp_track_process and static_* blocks are applied whole on every reload; they only decide `empty`
  const sameTop = (['trackFiles', 'trackProcesses', 'staticIpaddress', 'staticRoutes', 'staticRules'] as const).every((k) => sameValue(prev[k], next[k]));
  const empty =
    globalDefs.length === 0 && quiet(vrrpScripts) && quiet(vrrpSyncGroups) && quiet(vrrpInstances) && quiet(virtualServerGroups) && quiet(virtualServers) && sameTop;
  return { globalDefs, vrrpScripts, vrrpSyncGroups, vrrpInstances, virtualServerGroups, virtualServers, empty };
}
