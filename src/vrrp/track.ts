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
 *
 * Pure: results in, the RouterEvents to feed to the instance's Router out.
 */
import type { TrackRef, VrrpInstance, VrrpScript, VrrpSyncGroup } from '../config/model.ts';
import type { RouterEvent } from './router.ts';

export interface TrackItem {
  readonly kind: 'script' | 'interface';
  readonly name: string;
  /** -254..254; 0: failure means FAULT */
  readonly weight: number;
  readonly reverse: boolean;
  /** initial result: true ok/up, false failed/down, undefined not known yet */
  readonly initial?: boolean;
}

export interface TrackSpec {
  readonly instance: string;
  readonly configuredPriority: number;
  readonly items: readonly TrackItem[];
}

export type TrackEvent = Extract<RouterEvent, { type: 'priority' } | { type: 'fault' }>;

/** The tracking of one instance as configured: instance refs, then its sync group's, then the primary interface. */
export function trackSpecFor(inst: VrrpInstance, scripts: readonly VrrpScript[], group?: VrrpSyncGroup): TrackSpec {
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
  for (const r of inst.trackScripts) addScript(r);
  for (const r of inst.trackInterfaces) addInterface(r);
  if (group) {
    for (const r of group.trackScripts) addScript(r);
    for (const r of group.trackInterfaces) addInterface(r);
  }
  if (!inst.dontTrackPrimary) add({ kind: 'interface', name: inst.interface, weight: 0, reverse: false });
  return { instance: inst.name, configuredPriority: inst.priority, items };
}

const OWNER = 255;

export class TrackState {
  private readonly spec: TrackSpec;
  /** by `kind:name` */
  private readonly results = new Map<string, boolean | undefined>();
  private lastPriority: number;
  private lastFault: { fault: boolean; reason: string };

  constructor(spec: TrackSpec) {
    this.spec = spec;
    for (const i of spec.items) this.results.set(`${i.kind}:${i.name}`, i.initial);
    this.lastPriority = this.effectivePriority;
    this.lastFault = this.fault;
  }

  static forInstance(inst: VrrpInstance, scripts: readonly VrrpScript[], group?: VrrpSyncGroup): TrackState {
    return new TrackState(trackSpecFor(inst, scripts, group));
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
      if (r === undefined && i.kind === 'script') continue;
      const ok = r ?? true;
      const m = i.reverse ? -1 : 1;
      if (ok && i.weight > 0) total += i.weight * m;
      else if (!ok && i.weight < 0) total += i.weight * m;
    }
    return Math.min(OWNER - 1, Math.max(1, total));
  }

  get fault(): { fault: boolean; reason: string } {
    for (const i of this.spec.items) {
      if (i.weight !== 0) continue;
      const r = this.results.get(`${i.kind}:${i.name}`);
      if (i.kind === 'script' && r === undefined) return { fault: true, reason: `script ${i.name} has not reported yet` };
      const ok = r ?? true;
      // keepalived: `script_ok != (multiplier == 1)` puts the instance down
      if (ok === i.reverse) {
        const what = i.kind === 'script' ? `script ${i.name} ${ok ? 'succeeded (reverse)' : 'failed'}` : `interface ${i.name} ${ok ? 'up (reverse)' : 'down'}`;
        return { fault: true, reason: what };
      }
    }
    return { fault: false, reason: 'all tracked objects ok' };
  }

  private set(kind: 'script' | 'interface', name: string, ok: boolean): TrackEvent[] {
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
