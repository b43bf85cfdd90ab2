/**
 * Tracking: the effective priority and the fault of an instance from its vrrp_script,
 * track_script and track_interface results, with keepalived 2.2.7's semantics
 * (vrrp_track.c process_script_update_priority, initialise_track_script_state,
 * vrrp_set_effective_priority, down_instance):
 *
 * - weight N > 0: adds N while the script succeeds (interface up);
 * - weight N < 0: adds N (subtracts |N|) while it fails (interface down);
 * - `weight N reverse` multiplies the contribution by −1 (succeeding lowers, failing raises);
 * - weight 0: a failure (a success, with reverse) puts the instance in FAULT;
 * - a script with no result yet contributes nothing; with weight 0 the instance waits in
 *   FAULT for its first result (keepalived num_script_init); `init_fail` starts it failed;
 * - track_interface without a weight is weight 0; the instance's own interface is tracked
 *   (weight 0) unless dont_track_primary; an interface not yet reported counts as up;
 * - effective priority = configured + Σ contributions, clamped to 1..254; an address owner
 *   (255) keeps 255 whatever the weights (faults still apply);
 * - the sync group's track_script / track_interface apply to each member; an entry the
 *   instance already tracks is not counted twice.
 * - track_file (keepalived trackers/track_file.c): the file holds a number V (0 until read).
 *   With weight 0, V ≠ 0 is FAULT (V = 0 with reverse). Otherwise V × weight (× −1 with
 *   reverse), clamped to −254..253, is added to the priority; −254 is FAULT instead.
 * - track_process: the process quorum is met (ok) or not, weighted as a script's result
 *   (default weight 1).
 *
 * Pure: results in, the RouterEvents to feed to the instance's Router out.
 */
import type { TrackFile, TrackProcess, TrackRef, VrrpInstance, VrrpScript, VrrpSyncGroup } from '../config/model.ts';
import type { RouterEvent } from './router.ts';

export interface TrackItem {
  readonly kind: 'script' | 'interface' | 'file' | 'process';
  readonly name: string;
  /** -254..254; 0: failure means FAULT */
  readonly weight: number;
  readonly reverse: boolean;
  /** initial result: true ok/up, false failed/down, undefined not known yet; files: the number, 0 */
  readonly initial?: boolean | number;
}

/** A track_file's contribution as keepalived 2.2 computes it: a priority delta, or 'fault'. */
export function fileStatus(value: number, weight: number, reverse: boolean): number | 'fault' {
  if (weight === 0) return (value !== 0) !== reverse ? 'fault' : 0;
  const s = value * weight * (reverse ? -1 : 1);
  if (s <= -254) return 'fault';
  return Math.min(253, s);
}

export interface TrackSpec {
  readonly instance: string;
  readonly configuredPriority: number;
  readonly items: readonly TrackItem[];
}

export type TrackEvent = Extract<RouterEvent, { type: 'priority' } | { type: 'fault' }>;

/** The tracking of one instance as configured: instance refs, then its sync group's, then the primary interface. */
export function trackSpecFor(
  inst: VrrpInstance,
  scripts: readonly VrrpScript[],
  group?: VrrpSyncGroup,
  files: readonly TrackFile[] = [],
  processes: readonly TrackProcess[] = [],
): TrackSpec {
  const items: TrackItem[] = [];
  const seen = new Set<string>();
  const add = (item: TrackItem): void => {
    const key = `${item.kind}:${item.name}`;
    if (seen.has(key)) return;
    seen.add(key);
    items.push(item);
  };
  const byName = new Map(scripts.map((s) => [s.name, s]));
  const addScript = (ref: TrackRef): void => {
    const s = byName.get(ref.name);
    if (!s) return; // the parser reports unknown references; keepalived ignores them too
    const weight = ref.weight ?? s.weight;
    const reverse = ref.weight !== undefined ? (ref.weightReverse ?? false) : (ref.weightReverse ?? s.weightReverse);
    add(s.initFail ? { kind: 'script', name: s.name, weight, reverse, initial: false } : { kind: 'script', name: s.name, weight, reverse });
  };
  const addInterface = (ref: TrackRef): void => {
    add({ kind: 'interface', name: ref.name, weight: ref.weight ?? 0, reverse: ref.weightReverse ?? false });
  };
  const fileByName = new Map(files.map((f) => [f.name, f]));
  const addFile = (ref: TrackRef): void => {
    const f = fileByName.get(ref.name);
    if (!f) return;
    const weight = ref.weight ?? f.weight;
    const reverse = ref.weight !== undefined ? (ref.weightReverse ?? false) : (ref.weightReverse ?? f.weightReverse);
    add({ kind: 'file', name: f.name, weight, reverse, initial: 0 });
  };
  const procByName = new Map(processes.map((p) => [p.name, p]));
  const addProcess = (ref: TrackRef): void => {
    const p = procByName.get(ref.name);
    if (!p) return;
    const weight = ref.weight ?? p.weight;
    const reverse = ref.weight !== undefined ? (ref.weightReverse ?? false) : (ref.weightReverse ?? p.weightReverse);
    add({ kind: 'process', name: p.name, weight, reverse });
  };
  for (const r of inst.trackScripts) addScript(r);
  for (const r of inst.trackInterfaces) addInterface(r);
  for (const r of inst.trackFiles ?? []) addFile(r);
  for (const r of inst.trackProcesses ?? []) addProcess(r);
  if (group) {
    for (const r of group.trackScripts) addScript(r);
    for (const r of group.trackInterfaces) addInterface(r);
    for (const r of group.trackFiles ?? []) addFile(r);
    for (const r of group.trackProcesses ?? []) addProcess(r);
  }
  if (!inst.dontTrackPrimary) add({ kind: 'interface', name: inst.interface, weight: 0, reverse: false });
  return { instance: inst.name, configuredPriority: inst.priority, items };
}

const OWNER = 255;

export class TrackState {
  private readonly spec: TrackSpec;
  /** by `kind:name`; a file's entry is its number */
  private readonly results = new Map<string, boolean | number | undefined>();
  private lastPriority: number;
  private lastFault: { fault: boolean; reason: string };

  constructor(spec: TrackSpec) {
    this.spec = spec;
    for (const i of spec.items) this.results.set(`${i.kind}:${i.name}`, i.initial);
    this.lastPriority = this.effectivePriority;
    this.lastFault = this.fault;
  }

  static forInstance(
    inst: VrrpInstance,
    scripts: readonly VrrpScript[],
    group?: VrrpSyncGroup,
    files: readonly TrackFile[] = [],
    processes: readonly TrackProcess[] = [],
  ): TrackState {
    return new TrackState(trackSpecFor(inst, scripts, group, files, processes));
  }

  get items(): readonly TrackItem[] {
    return this.spec.items;
  }

  /** A script's result (after its fall/rise): the events to give the router, if anything changed. */
  setScript(name: string, ok: boolean): TrackEvent[] {
    return this.set('script', name, ok);
  }

  /** An interface went up or down. */
  setInterface(name: string, up: boolean): TrackEvent[] {
    return this.set('interface', name, up);
  }

  /** A tracked process's quorum is now met (true) or not. */
  setProcess(name: string, ok: boolean): TrackEvent[] {
    return this.set('process', name, ok);
  }

  /** A tracked file now holds `value`. */
  setFile(name: string, value: number): TrackEvent[] {
    return this.set('file', name, value);
  }

  /** The events that bring a fresh Router to this tracking state (before `start`). */
  initialEvents(): TrackEvent[] {
    const out: TrackEvent[] = [];
    const p = this.effectivePriority;
    if (p !== this.spec.configuredPriority) out.push({ type: 'priority', priority: p });
    const f = this.fault;
    if (f.fault) out.push({ type: 'fault', fault: true, reason: f.reason });
    return out;
  }

  get effectivePriority(): number {
    const base = this.spec.configuredPriority;
    if (base === OWNER) return OWNER;
    let total = base;
    for (const i of this.spec.items) {
      if (i.weight === 0) continue;
      const r = this.results.get(`${i.kind}:${i.name}`);
      if (typeof r === 'number') {
        const s = fileStatus(r, i.weight, i.reverse);
        if (s !== 'fault') total += s;
        continue;
      }
      if (r === undefined && (i.kind === 'script' || i.kind === 'process')) continue;
      const ok = r ?? true;
      const m = i.reverse ? -1 : 1;
      if (ok && i.weight > 0) total += i.weight * m;
      else if (!ok && i.weight < 0) total += i.weight * m;
    }
    return Math.min(OWNER - 1, Math.max(1, total));
  }

  get fault(): { fault: boolean; reason: string } {
    for (const i of this.spec.items) {
      const r = this.results.get(`${i.kind}:${i.name}`);
      if (typeof r === 'number') {
        if (fileStatus(r, i.weight, i.reverse) === 'fault') {
          return { fault: true, reason: `file ${i.name} holds ${r} (weight ${i.weight}${i.reverse ? ' reverse' : ''})` };
        }
        continue;
      }
      if (i.weight !== 0) continue;
      if ((i.kind === 'script' || i.kind === 'process') && r === undefined) return { fault: true, reason: `${i.kind} ${i.name} has not reported yet` };
      const ok = r ?? true;
      // keepalived: `script_ok != (multiplier == 1)` puts the instance down
      if (ok === i.reverse) {
        const what =
          i.kind === 'script'
            ? `script ${i.name} ${ok ? 'succeeded (reverse)' : 'failed'}`
            : i.kind === 'process'
              ? `process ${i.name} ${ok ? 'has its quorum (reverse)' : 'lost its quorum'}`
              : `interface ${i.name} ${ok ? 'up (reverse)' : 'down'}`;
        return { fault: true, reason: what };
      }
    }
    return { fault: false, reason: 'all tracked objects ok' };
  }

  private set(kind: TrackItem['kind'], name: string, ok: boolean | number): TrackEvent[] {
    const key = `${kind}:${name}`;
    if (!this.results.has(key)) return [];
    this.results.set(key, ok);
    const out: TrackEvent[] = [];
    const p = this.effectivePriority;
    if (p !== this.lastPriority) {
      this.lastPriority = p;
      out.push({ type: 'priority', priority: p });
    }
    const f = this.fault;
    if (f.fault !== this.lastFault.fault) out.push({ type: 'fault', fault: f.fault, reason: f.reason });
    this.lastFault = f;
    return out;
  }
}
