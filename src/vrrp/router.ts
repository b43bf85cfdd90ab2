/**
 * One VRRP virtual router: the state machine of RFC 3768 §6.4 / RFC 5798 §6.4, with the
 * behaviour of keepalived 2.2.7 where the RFCs leave room (vrrp.c vrrp_state_backup,
 * vrrp_state_master_rx, vrrp_state_leave_master/fault; vrrp_scheduler.c vrrp_init_state).
 *
 * Pure: the clock is injected, I/O comes back as effects for the caller (workers/vrrp.ts via
 * src/vrrp/engine.ts) to perform in order. Every state change goes through `changeState`,
 * which checks the transition table, counts it and emits the `transition` effect.
 *
 * Timers: the router only says `arm-timer` / `cancel-timer`; the caller fires
 * `{type:'timer'}` when one is due. A timer event for a timer that is not armed (cancelled or
 * re-armed meanwhile) is ignored and counted as stale. Durations are ms, possibly fractional
 * (keepalived computes in µs; see timers.ts).
 *
 * Departures from keepalived, on purpose:
 * - Priority 255 goes MASTER at once on start and when a fault clears, whatever `state` says
 *   (RFC 5798 §6.4.1). keepalived does so only with `state MASTER` (or no state) on start, and
 *   after a fault waits a master-down interval.
 * - A fault as MASTER sends one priority-0 advert (keepalived sends two).
 * - MASTER re-arms its advert timer only when it sends (keepalived also re-arms after adverts
 *   it drops as invalid; vigil's caller drops those before the router sees them).
 */
import ipaddr from 'ipaddr.js';
import type { Advert } from './packet.ts';
import { cloneRouterCounters, newRouterCounters, type IgnoreReason, type RouterCounters } from './counters.ts';
import { masterDownIntervalMs, skewMinMs, skewTimeMs } from './timers.ts';

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';

export interface RouterParams {
  name: string;
  vrid: number;
  version: 2 | 3;
  family: 4 | 6;
  /** configured, 1..255 */
  priority: number;
  /** ms; v2 whole seconds, v3 centiseconds (see timers.normaliseAdvertIntMs) */
  advertIntMs: number;
  preempt: boolean;
  /** ms; 0: none */
  preemptDelayMs: number;
  initialState: 'MASTER' | 'BACKUP';
  /** VIPs carried in adverts */
  addresses: readonly string[];
  /** v2 PASS */
  authPass?: string;
  /** v2 AH (IPv4): the auth_pass, key of the HMAC-MD5 in the AH header the engine adds (ah.ts) */
  authAh?: string;
  /** our own primary address on the interface, for the tie-break and as the advert source */
  primaryAddress: string;
  unicast: boolean;
  /** `lower_prio_no_advert`: as MASTER, do not answer a lower priority with an advert (RFC 5798 §6.4.3 discards it) */
  lowerPrioNoAdvert?: boolean;
  /** `higher_prio_send_advert`: as MASTER, send one advert before stepping down to a higher priority */
  higherPrioSendAdvert?: boolean;
}

export type TimerName = 'advert' | 'master-down' | 'preempt-delay';
const TIMER_NAMES: readonly TimerName[] = ['advert', 'master-down', 'preempt-delay'];

/**
 * Armed timers' due times, one slot per timer (NaN: not armed). Not a Map: the advert timer
 * is armed and cleared every interval, and a Map that empties reallocates its table.
 */
class Deadlines {
  private readonly due: Record<TimerName, number> = { advert: NaN, 'master-down': NaN, 'preempt-delay': NaN };
  get(timer: TimerName): number | undefined {
    const d = this.due[timer];
    return Number.isNaN(d) ? undefined : d;
  }
  has(timer: TimerName): boolean {
    return !Number.isNaN(this.due[timer]);
  }
  set(timer: TimerName, due: number): void {
    this.due[timer] = due;
  }
  /** true if it was armed */
  delete(timer: TimerName): boolean {
    const had = this.has(timer);
    this.due[timer] = NaN;
    return had;
  }
  *[Symbol.iterator](): IterableIterator<[TimerName, number]> {
    for (const timer of TIMER_NAMES) if (this.has(timer)) yield [timer, this.due[timer]];
  }
}

export type RouterEvent =
  /**
   * `sinceMs`: how long ago the daemon was exec'd, when this start is the daemon's own
   * start-up (see startDownMs); absent for instances that start later (reload, restart).
   */
  | { type: 'start'; sinceMs?: number }
  | { type: 'stop' }
  | { type: 'advert'; advert: Advert; source: string }
  | { type: 'timer'; timer: TimerName }
  /** new effective priority (after track weights) */
  | { type: 'priority'; priority: number }
  /** tracked interface/script says fault or clear */
  | { type: 'fault'; fault: boolean; reason: string }
  /** from the sync group */
  | { type: 'sync'; to: 'MASTER' | 'BACKUP' | 'FAULT'; reason: string }
  /** a tracked VIP / virtual route / rule was deleted by someone else (keepalived set_vrrp_backup) */
  | { type: 'lost-owned'; reason: string };

export type RouterEffect =
  /** priority 0 on stop/fault while master; `advert` is the whole message to encode */
  | { type: 'send-advert'; priority: number; advert: Advert }
  | { type: 'arm-timer'; timer: TimerName; ms: number }
  | { type: 'cancel-timer'; timer: TimerName }
  | { type: 'transition'; from: VrrpState; to: VrrpState; reason: string; priority: number }
  /** add VIPs, then gratuitous ARP / unsolicited NA */
  | { type: 'take-over' }
  /** remove VIPs */
  | { type: 'release' }
  /** MASTER heard a lower priority: gratuitous ARPs / NAs again (garp_lower_prio_repeat, and after garp_lower_prio_delay) */
  | { type: 'lower-prio-garp' };

/**
 * What a sync group tells a member (sync-group.ts implements it). Optional: without it a
 * router decides alone and the group only propagates transitions.
 */
export interface SyncGate {
  /** keepalived vrrp_sync_can_goto_master: the group is MASTER, or every other member wants MASTER */
  canGoMaster(): boolean;
  /** keepalived sync->num_member_fault: another member is still in its own fault */
  othersFaulted(): boolean;
}

export interface RouterOptions {
  sync?: SyncGate;
}

export type PreemptDelayState = 'idle' | 'running' | 'expired';

/** Plain data: a router's whole state, to carry across a worker restart. */
export interface RouterSnapshot {
  readonly v: 1;
  readonly state: VrrpState;
  readonly wantState: 'MASTER' | 'BACKUP' | 'FAULT';
  readonly priority: number;
  readonly basePriority: number;
  /** ms; v3: learned from the master */
  readonly masterAdverIntMs: number;
  readonly fault: { readonly fault: boolean; readonly reason: string };
  readonly syncFault: boolean;
  readonly preemptDelay: PreemptDelayState;
  /** ms left on each armed timer when the snapshot was taken */
  readonly timers: readonly { readonly timer: TimerName; readonly remainingMs: number }[];
  readonly masterAddress?: string;
  readonly masterPriority?: number;
  readonly downCause: 'master-down' | 'priority-0';
  readonly counters: RouterCounters;
}

export class RouterError extends Error {
  constructor(
    readonly code: 'VRRP_BAD_TRANSITION' | 'VRRP_UPDATE_INCOMPATIBLE' | 'VRRP_BAD_SNAPSHOT',
    message: string,
  ) {
    super(message);
    this.name = 'RouterError';
  }
}

/** RFC 5798 §6.1: the address owner's priority */
export const PRIORITY_OWNER = 255;
/** RFC 5798 §6.1: a master leaving the virtual router */
export const PRIORITY_STOP = 0;

/**
 * The transition table. Entry and exit actions live in `changeState`; anything not listed
 * here is a bug and throws.
 */
const TRANSITIONS: Readonly<Record<VrrpState, readonly VrrpState[]>> = {
  INIT: ['BACKUP', 'MASTER', 'FAULT'],
  BACKUP: ['MASTER', 'FAULT', 'INIT'],
  MASTER: ['BACKUP', 'FAULT', 'INIT'],
  FAULT: ['BACKUP', 'MASTER', 'INIT'],
};

/** -1, 0, 1: `a` against `b` as unsigned big-endian numbers (keepalived inet_sockaddrcmp); unparsable sorts lowest. */
export function compareAddresses(a: string, b: string): number {
  const pa = ipaddr.isValid(a) ? ipaddr.parse(a).toByteArray() : [];
  const pb = ipaddr.isValid(b) ? ipaddr.parse(b).toByteArray() : [];
  if (pa.length !== pb.length) return pa.length < pb.length ? -1 : 1;
  for (let i = 0; i < pa.length; i++) {
    const x = pa[i] as number;
    const y = pb[i] as number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export class Router {
  private p: RouterParams;
  private readonly now: () => number;
  private readonly sync: SyncGate | undefined;
  private _state: VrrpState = 'INIT';
  private _wantState: 'MASTER' | 'BACKUP' | 'FAULT';
  private basePriority: number;
  private effective: number;
  private masterAdverIntMs: number;
  private ownFault: { fault: boolean; reason: string } = { fault: false, reason: '' };
  private syncFault = false;
  private preempt: PreemptDelayState = 'idle';
  private readonly deadlines = new Deadlines();
  private lastAdvert: { readonly priority: number; readonly params: RouterParams; readonly advert: Advert } | undefined;
  private masterAddress: string | undefined;
  private masterPriority: number | undefined;
  /** what armed the current master-down timer, for the transition's reason */
  private downCause: 'master-down' | 'priority-0' = 'master-down';
  private counters: RouterCounters = newRouterCounters();

  constructor(params: RouterParams, now: () => number, opts: RouterOptions = {}) {
    this.p = params;
    this.now = now;
    this.sync = opts.sync;
    this.basePriority = params.priority;
    this.effective = params.priority;
    this.masterAdverIntMs = params.advertIntMs;
    this._wantState = params.priority === PRIORITY_OWNER ? 'MASTER' : params.initialState;
  }

  get state(): VrrpState {
    return this._state;
  }
  /** effective priority */
  get priority(): number {
    return this.effective;
  }
  /** the state this router would be in disregarding its sync group (keepalived wantstate) */
  get wantState(): 'MASTER' | 'BACKUP' | 'FAULT' {
    return this._wantState;
  }
  /** its own fault (tracking), not one imposed by the sync group */
  get faulted(): boolean {
    return this.ownFault.fault;
  }
  get params(): RouterParams {
    return this.p;
  }
  get stats(): RouterCounters {
    return cloneRouterCounters(this.counters);
  }
  /** the current master's address as last seen in an advert (BACKUP) */
  get master(): { address: string; priority: number } | undefined {
    return this.masterAddress !== undefined && this.masterPriority !== undefined
      ? { address: this.masterAddress, priority: this.masterPriority }
      : undefined;
  }
  /** absolute due time (injected clock) of an armed timer */
  deadline(timer: TimerName): number | undefined {
    return this.deadlines.get(timer);
  }

  handle(ev: RouterEvent): RouterEffect[] {
    const fx: RouterEffect[] = [];
    switch (ev.type) {
      case 'start':
        this.onStart(fx, ev.sinceMs);
        break;
      case 'stop':
        if (this._state !== 'INIT') this.changeState('INIT', 'stop', fx);
        break;
      case 'advert':
        this.onAdvert(ev.advert, ev.source, fx);
        break;
      case 'timer':
        this.onTimer(ev.timer, fx);
        break;
      case 'priority':
        this.onPriority(ev.priority, fx);
        break;
      case 'fault':
        this.onFault(ev.fault, ev.reason, fx);
        break;
      case 'sync':
        this.onSync(ev.to, ev.reason, fx);
        break;
      case 'lost-owned':
        this.onLostOwned(ev.reason, fx);
        break;
      default: {
        const never: never = ev;
        throw new RouterError('VRRP_BAD_TRANSITION', `unknown event ${JSON.stringify(never)}`);
      }
    }
    return fx;
  }

  // ---- events ------------------------------------------------------------------------

  /** RFC 5798 §6.4.1; keepalived vrrp_init_state. */
  private onStart(fx: RouterEffect[], sinceMs: number | undefined): void {
    if (this._state !== 'INIT') return;
    this.masterAdverIntMs = this.p.advertIntMs;
    if (this.ownFault.fault) {
      this._wantState = 'FAULT';
      this.changeState('FAULT', `start in fault: ${this.ownFault.reason}`, fx);
      return;
    }
    if (this.sync?.othersFaulted()) {
      this.syncFault = true;
      this.changeState('FAULT', 'start: a sync group member is in fault', fx);
      return;
    }
    this.leaveInitOrFault(sinceMs === undefined ? 'start' : `start ${Math.round(sinceMs)} ms after exec`, fx, sinceMs);
  }

  /**
   * Coming up from INIT or FAULT: the owner goes MASTER, everyone else BACKUP for a
   * master-down interval. At start the owner goes MASTER at once only with `state MASTER`:
   * keepalived 2.2.7 (vrrp_init_state) starts an owner with `state BACKUP` in BACKUP, and
   * it takes over when the master-down interval (3 × advert_int + ~0 skew) passes.
   */
  private leaveInitOrFault(why: string, fx: RouterEffect[], sinceMs?: number): void {
    this.masterAdverIntMs = this.p.advertIntMs;
    if (this.basePriority === PRIORITY_OWNER && (this._state !== 'INIT' || this.p.initialState === 'MASTER')) {
      this._wantState = 'MASTER';
      if (this.sync && !this.sync.canGoMaster()) {
        // keepalived vrrp_init_state: a member wanting MASTER in a BACKUP group waits one
        // advert interval plus the smallest skew, to be sure there is no other master.
        this.downCause = 'master-down';
        this.changeState('BACKUP', `${why}: address owner waiting for its sync group`, fx, this.p.advertIntMs + skewMinMs(this.p.version, this.p.advertIntMs));
        return;
      }
      this.changeState('MASTER', `${why}: priority 255 (address owner)`, fx);
      return;
    }
    this._wantState = this._state === 'INIT' ? this.p.initialState : 'BACKUP';
    this.downCause = 'master-down';
    const note =
      this._state !== 'INIT'
        ? ''
        : this.p.initialState === 'MASTER'
          ? ' (state MASTER below 255 waits the master-down interval, as keepalived)'
          : this.basePriority === PRIORITY_OWNER
            ? ' (priority 255 with state BACKUP waits the master-down interval, as keepalived)'
            : '';
    this.changeState('BACKUP', `${why}${note}`, fx, sinceMs === undefined ? undefined : this.startDownMs(sinceMs));
  }

  private onAdvert(a: Advert, source: string, fx: RouterEffect[]): void {
    if (this._state === 'INIT' || this._state === 'FAULT') {
      this.ignore('not-running');
      return;
    }
    if (a.vrid !== this.p.vrid || a.version !== this.p.version) {
      // The caller's decodeAdvert (expect) drops these; a router never acts on another's advert.
      this.ignore('mismatch');
      return;
    }
    this.counters.advertsReceived++;
    if (a.priority === PRIORITY_STOP) this.counters.priorityZeroReceived++;
    if (this._state === 'BACKUP') this.backupRx(a, source, fx);
    else this.masterRx(a, source, fx);
  }

  /** RFC 5798 §6.4.2; keepalived vrrp_state_backup. */
  private backupRx(a: Advert, source: string, fx: RouterEffect[]): void {
    if (a.priority === PRIORITY_STOP) {
      // Fast takeover: the master is leaving; wait only Skew_Time.
      this.downCause = 'priority-0';
      this.arm(fx, 'master-down', this.skewMs());
      return;
    }
    const delaying = this.p.preemptDelayMs > 0 && this.preempt !== 'expired';
    if (!this.p.preempt || a.priority >= this.effective || delaying) {
      if (this.p.version === 3) this.masterAdverIntMs = a.advertIntMs;
      this.downCause = 'master-down';
      this.arm(fx, 'master-down', this.msDownMs());
      this.masterAddress = source;
      this.masterPriority = a.priority;
      if (this.p.preemptDelayMs > 0) {
        if (a.priority >= this.effective) {
          if (this.preempt === 'running') this.cancel(fx, 'preempt-delay');
          this.preempt = 'idle';
        } else if (this.preempt === 'idle') {
          // keepalived: preempt_delay counts from the first lower-priority advert seen.
          this.preempt = 'running';
          this.arm(fx, 'preempt-delay', this.p.preemptDelayMs);
        }
      }
      // Held in BACKUP by a sync group or not, an accepted advert means we want BACKUP.
      this._wantState = 'BACKUP';
      return;
    }
    // Preempting: discard the lower-priority advert; the master-down timer runs on.
    this.masterAddress = source;
    this.ignore('lower-priority');
  }

  /** RFC 5798 §6.4.3; keepalived vrrp_state_master_rx. */
  private masterRx(a: Advert, source: string, fx: RouterEffect[]): void {
    if (a.priority === PRIORITY_STOP) {
      // Another router left: assert ourselves at once so the backups do not take over.
      this.sendAndRearm(fx);
      return;
    }
    const cmp = compareAddresses(source, this.p.primaryAddress);
    if (a.priority === this.effective) {
      if (cmp === 0) {
        this.ignore('own-address');
        return;
      }
      if (this.effective === PRIORITY_OWNER) {
        // keepalived: two owners is a configuration error; the one that notices steps down to 254.
        this.basePriority = PRIORITY_OWNER - 1;
        this.effective = PRIORITY_OWNER - 1;
      }
    }
    if (a.priority < this.effective || (a.priority === this.effective && cmp < 0)) {
      // keepalived sends an advert at once ("forcing new election") unless lower_prio_no_advert,
      // and refreshes the neighbours' caches, which may have learnt the other router's MAC.
      if (!this.p.lowerPrioNoAdvert) this.sendAndRearm(fx);
      else this.ignore('lower-priority');
      fx.push({ type: 'lower-prio-garp' });
      return;
    }
    // keepalived higher_prio_send_advert: a last advert, so that the new master (with
    // garp_lower_prio_repeat) re-announces the addresses we may have announced last.
    if (this.p.higherPrioSendAdvert) this.send(fx, this.effective);
    if (this.p.version === 3) this.masterAdverIntMs = a.advertIntMs;
    this.masterAddress = source;
    this.masterPriority = a.priority;
    this._wantState = 'BACKUP';
    this.downCause = 'master-down';
    const why = a.priority > this.effective ? `higher priority ${a.priority} from ${source}` : `equal priority ${a.priority} from higher address ${source}`;
    this.changeState('BACKUP', why, fx);
  }

  private onTimer(timer: TimerName, fx: RouterEffect[]): void {
    if (!this.deadlines.has(timer)) {
      this.counters.staleTimers++;
      return;
    }
    this.deadlines.delete(timer);
    switch (timer) {
      case 'advert':
        if (this._state === 'MASTER') this.sendAndRearm(fx);
        return;
      case 'master-down':
        if (this._state !== 'BACKUP') return;
        this._wantState = 'MASTER';
        if (this.sync && !this.sync.canGoMaster()) {
          // keepalived vrrp_sync_can_goto_master: prefer BACKUP until every member wants MASTER.
          this.arm(fx, 'master-down', this.msDownMs());
          return;
        }
        this.changeState('MASTER', this.downCause === 'priority-0' ? 'master sent priority 0' : 'master down timer expired', fx);
        return;
      case 'preempt-delay':
        if (this._state === 'BACKUP' && this.preempt === 'running') this.preempt = 'expired';
        return;
      default: {
        const never: never = timer;
        throw new RouterError('VRRP_BAD_TRANSITION', `unknown timer ${String(never)}`);
      }
    }
  }

  /** keepalived vrrp_set_effective_priority: the owner keeps 255; a backup's down timer moves by the change. */
  private onPriority(priority: number, fx: RouterEffect[]): void {
    if (this.basePriority === PRIORITY_OWNER) return;
    const p = Math.min(PRIORITY_OWNER - 1, Math.max(1, Math.round(priority)));
    if (p === this.effective) return;
    const before = this.msDownMs();
    this.effective = p;
    if (this._state === 'BACKUP') {
      const due = this.deadlines.get('master-down');
      if (due !== undefined) this.arm(fx, 'master-down', Math.max(0, due + (this.msDownMs() - before) - this.now()));
    }
  }

  private onFault(fault: boolean, reason: string, fx: RouterEffect[]): void {
    const was = this.ownFault.fault;
    this.ownFault = { fault, reason };
    if (fault) {
      this._wantState = 'FAULT';
      if (this._state === 'MASTER' || this._state === 'BACKUP') this.changeState('FAULT', reason, fx);
      return;
    }
    if (!was || this._state !== 'FAULT') return;
    if (this.sync?.othersFaulted()) {
      // keepalived try_up_instance: the group comes up only when no member is in fault.
      this.syncFault = true;
      return;
    }
    this.syncFault = false;
    this.leaveInitOrFault(`fault cleared (${reason})`, fx);
  }

  /**
   * keepalived set_vrrp_backup: a master whose VIP, route or rule was deleted sends priority 0
   * (vrrp_restore_interface), releases, and waits only the skew time before it takes over
   * again (putting back what was deleted), unless a backup was quicker.
   */
  private onLostOwned(reason: string, fx: RouterEffect[]): void {
    if (this._state !== 'MASTER') return;
    this.send(fx, PRIORITY_STOP);
    this.changeState('BACKUP', `lost: ${reason}`, fx, this.skewMs());
  }

  /** keepalived vrrp_sync_master / vrrp_sync_backup / vrrp_sync_fault, as seen by one member. */
  private onSync(to: 'MASTER' | 'BACKUP' | 'FAULT', reason: string, fx: RouterEffect[]): void {
    if (this._state === 'INIT') return;
    const why = `sync group: ${reason}`;
    switch (to) {
      case 'FAULT':
        this.syncFault = true;
        if (this._state !== 'FAULT') this.changeState('FAULT', why, fx);
        return;
      case 'BACKUP':
        this._wantState = this.ownFault.fault ? 'FAULT' : 'BACKUP';
        if (this._state === 'MASTER') {
          this.downCause = 'master-down';
          this.changeState('BACKUP', why, fx);
        } else if (this._state === 'FAULT' && !this.ownFault.fault) {
          this.syncFault = false;
          this.downCause = 'master-down';
          this.changeState('BACKUP', why, fx);
        }
        return;
      case 'MASTER':
        if (this._state === 'BACKUP' || (this._state === 'FAULT' && !this.ownFault.fault)) {
          this.syncFault = false;
          this._wantState = 'MASTER';
          this.changeState('MASTER', why, fx);
        }
        return;
      default: {
        const never: never = to;
        throw new RouterError('VRRP_BAD_TRANSITION', `unknown sync target ${String(never)}`);
      }
    }
  }

  // ---- the one place state changes ------------------------------------------------------

  /**
   * Effects in the order the caller must perform them (keepalived vrrp_state_master_tx sends
   * the advert before adding the VIPs, so the old master lets go before our gratuitous ARPs;
   * a leaving master sends priority 0 before removing its VIPs).
   */
  private changeState(to: VrrpState, reason: string, fx: RouterEffect[], downMs?: number): void {
    const from = this._state;
    if (!TRANSITIONS[from].includes(to)) throw new RouterError('VRRP_BAD_TRANSITION', `${this.p.name}: ${from} -> ${to} is not a VRRP transition`);
    if (from === 'MASTER') {
      this.cancel(fx, 'advert');
      if (to !== 'BACKUP') this.send(fx, PRIORITY_STOP);
    }
    if (from === 'BACKUP') {
      this.cancel(fx, 'master-down');
      this.cancel(fx, 'preempt-delay');
    }
    this.preempt = 'idle';
    if (to === 'MASTER') {
      this.masterAdverIntMs = this.p.advertIntMs;
      this.send(fx, this.effective);
    }
    this._state = to;
    const key = `${from}->${to}`;
    this.counters.transitions[key] = (this.counters.transitions[key] ?? 0) + 1;
    fx.push({ type: 'transition', from, to, reason, priority: this.effective });
    if (from === 'MASTER') {
      this.counters.releasedMaster++;
      fx.push({ type: 'release' });
    }
    switch (to) {
      case 'MASTER':
        this.counters.becameMaster++;
        this.masterAddress = undefined;
        this.masterPriority = undefined;
        fx.push({ type: 'take-over' });
        this.arm(fx, 'advert', this.p.advertIntMs);
        return;
      case 'BACKUP':
        if (from !== 'MASTER') this.masterAdverIntMs = this.p.advertIntMs;
        this.arm(fx, 'master-down', downMs ?? this.msDownMs());
        return;
      case 'FAULT':
      case 'INIT':
        this.masterAddress = undefined;
        this.masterPriority = undefined;
        return;
      default: {
        const never: never = to;
        throw new RouterError('VRRP_BAD_TRANSITION', `unknown state ${String(never)}`);
      }
    }
  }

  // ---- helpers ----------------------------------------------------------------------------

  /** ms. RFC 5798 §6.1 Skew_Time with the effective priority and Master_Adver_Interval. */
  private skewMs(): number {
    return skewTimeMs(this.p.version, this.effective, this.masterAdverIntMs);
  }
  /** ms. RFC 5798 §6.1: 3 × Master_Adver_Interval + Skew_Time. */
  private msDownMs(): number {
    return masterDownIntervalMs(this.p.version, this.effective, this.masterAdverIntMs);
  }

  /**
   * ms. The master-down wait of the daemon's own start-up, counted from exec as keepalived
   * counts it from its own start (~35 ms after exec), so that a peer started in the same
   * instant sees our first advert when it would see keepalived's: a Node process needs a few
   * hundred ms before its sockets are open, and a lower-priority keepalived peer started
   * with us would otherwise time out first and flap the VIP. The wait never drops below
   * Master_Down_Interval − Advertisement_Interval (2 adverts + skew), so a master already on
   * the wire is heard at least twice even after a slow start.
   */
  private startDownMs(sinceMs: number): number {
    const full = this.msDownMs();
    return Math.max(full - Math.max(0, sinceMs), full - this.p.advertIntMs);
  }

  private arm(fx: RouterEffect[], timer: TimerName, ms: number): void {
    this.deadlines.set(timer, this.now() + ms);
    fx.push({ type: 'arm-timer', timer, ms });
  }

  private cancel(fx: RouterEffect[], timer: TimerName): void {
    if (!this.deadlines.delete(timer)) return;
    fx.push({ type: 'cancel-timer', timer });
  }

  private ignore(reason: IgnoreReason): void {
    this.counters.ignored[reason] = (this.counters.ignored[reason] ?? 0) + 1;
  }

  /** The advert this router sends with `priority`. */
  advert(priority: number = this.effective): Advert {
    // The same advert goes out every interval: reuse it while its priority and the
    // parameters stay (adverts are never changed once made).
    const last = this.lastAdvert;
    if (last !== undefined && last.priority === priority && last.params === this.p) return last.advert;
    const pass = this.p.version === 2 && this.p.authPass !== undefined && this.p.authPass !== '';
    const a: Advert = {
      version: this.p.version,
      vrid: this.p.vrid,
      priority,
      advertIntMs: this.p.advertIntMs,
      addresses: this.p.addresses,
      authType: this.p.version === 2 && this.p.authAh !== undefined ? 2 : pass ? 1 : 0,
    };
    if (pass && this.p.authPass !== undefined) a.authData = this.p.authPass;
    this.lastAdvert = { priority, params: this.p, advert: a };
    return a;
  }

  private send(fx: RouterEffect[], priority: number): void {
    this.counters.advertsSent++;
    if (priority === PRIORITY_STOP) this.counters.priorityZeroSent++;
    fx.push({ type: 'send-advert', priority, advert: this.advert(priority) });
  }

  private sendAndRearm(fx: RouterEffect[]): void {
    this.send(fx, this.effective);
    this.arm(fx, 'advert', this.p.advertIntMs);
  }

  // ---- reload, snapshot, restore --------------------------------------------------------

  /**
   * In-place reload (keepalived keeps a running instance's state across SIGHUP): priority,
   * VIPs, advert interval, preempt, preempt_delay, auth, addresses. A MASTER sends an advert
   * at once with the new values (keepalived reload_master) and, if its VIPs changed, asks for
   * a `take-over` (adding what is new; removing what went is the reload plan's job). A BACKUP
   * restarts its master-down timer with the new interval. `effectivePriority` is the new
   * TrackState's priority, else the configured one.
   */
  update(params: RouterParams, effectivePriority?: number): RouterEffect[] {
    const old = this.p;
    if (params.vrid !== old.vrid || params.version !== old.version || params.family !== old.family) {
      throw new RouterError('VRRP_UPDATE_INCOMPATIBLE', `${old.name}: VRID, version or family changed; recreate the router`);
    }
    const fx: RouterEffect[] = [];
    this.p = params;
    this.basePriority = params.priority;
    this.effective =
      params.priority === PRIORITY_OWNER ? PRIORITY_OWNER : Math.min(PRIORITY_OWNER - 1, Math.max(1, Math.round(effectivePriority ?? params.priority)));
    if (params.preemptDelayMs === 0 || !params.preempt) {
      this.cancel(fx, 'preempt-delay');
      this.preempt = 'idle';
    }
    const addressesChanged = old.addresses.length !== params.addresses.length || old.addresses.some((a, i) => a !== params.addresses[i]);
    if (this._state === 'MASTER') {
      this.masterAdverIntMs = params.advertIntMs;
      this.sendAndRearm(fx);
      if (addressesChanged) fx.push({ type: 'take-over' });
    } else if (this._state === 'BACKUP') {
      if (params.version === 2) this.masterAdverIntMs = params.advertIntMs;
      this.downCause = 'master-down';
      this.arm(fx, 'master-down', this.msDownMs());
    }
    return fx;
  }

  snapshot(): RouterSnapshot {
    const t = this.now();
    const snap: RouterSnapshot = {
      v: 1,
      state: this._state,
      wantState: this._wantState,
      priority: this.effective,
      basePriority: this.basePriority,
      masterAdverIntMs: this.masterAdverIntMs,
      fault: { ...this.ownFault },
      syncFault: this.syncFault,
      preemptDelay: this.preempt,
      timers: [...this.deadlines].map(([timer, due]) => ({ timer, remainingMs: Math.max(0, due - t) })),
      downCause: this.downCause,
      counters: cloneRouterCounters(this.counters),
      ...(this.masterAddress !== undefined ? { masterAddress: this.masterAddress } : {}),
      ...(this.masterPriority !== undefined ? { masterPriority: this.masterPriority } : {}),
    };
    return snap;
  }

  /**
   * A router in the snapshot's state, its timers due `remainingMs` after `now()` (time spent
   * between snapshot and restore is not known here). Call `resume()` for the effects that
   * re-arm them.
   */
  static restore(params: RouterParams, snap: RouterSnapshot, now: () => number, opts: RouterOptions = {}): Router {
    if (snap.v !== 1) throw new RouterError('VRRP_BAD_SNAPSHOT', `snapshot version ${String(snap.v)}`);
    const r = new Router(params, now, opts);
    r._state = snap.state;
    r._wantState = snap.wantState;
    r.basePriority = snap.basePriority;
    r.effective = snap.priority;
    r.masterAdverIntMs = snap.masterAdverIntMs;
    r.ownFault = { ...snap.fault };
    r.syncFault = snap.syncFault;
    r.preempt = snap.preemptDelay;
    r.downCause = snap.downCause;
    r.counters = cloneRouterCounters(snap.counters);
    if (snap.masterAddress !== undefined) r.masterAddress = snap.masterAddress;
    if (snap.masterPriority !== undefined) r.masterPriority = snap.masterPriority;
    const t = now();
    for (const { timer, remainingMs } of snap.timers) r.deadlines.set(timer, t + remainingMs);
    return r;
  }

  /**
   * Effects that put a restored router back on the wire: its timers re-armed; a MASTER also
   * sends an advert at once and asks for `take-over` (adding VIPs that are present is not an
   * error, and the gratuitous ARPs re-announce them after the gap).
   */
  resume(): RouterEffect[] {
    const fx: RouterEffect[] = [];
    const t = this.now();
    if (this._state === 'MASTER') {
      this.send(fx, this.effective);
      fx.push({ type: 'take-over' });
      this.arm(fx, 'advert', this.p.advertIntMs);
    }
    for (const [timer, due] of this.deadlines) {
      if (timer === 'advert' && this._state === 'MASTER') continue;
      fx.push({ type: 'arm-timer', timer, ms: Math.max(0, due - t) });
    }
    return fx;
  }
}
