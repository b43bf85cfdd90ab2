/**
 * The VRRP engine: every router of this node, their timers and their sockets, driven by
 * messages from the supervisor. It runs alone on the VRRP worker's event loop
 * (workers/vrrp.ts), so nothing here may block or do slow work: no netlink, no scripts,
 * no log formatting — those are asked of the supervisor by message.
 *
 * I/O is injected (sockets, gratuitous ARP/NA, the clock, timers, the port) so that the
 * engine can be stepped in unit tests; workers/vrrp.ts passes the real ones from src/io/.
 */
import type { VrrpSyncGroup } from '../config/model.ts';
import {
  assertNever,
  IPC_VERSION,
  type FromVrrp,
  type InstanceStatus,
  type IsolateHeap,
  type ToVrrp,
  type VrrpInstanceSpec,
} from '../ipc/messages.ts';
import { AH_HEADER_LEN, AhSequence, ahKey, encodeAhPacket, verifyAhPacket } from './ah.ts';
import { decodeAdvert, encodeAdvert, sameAdvert, type Advert } from './packet.ts';
import { decodeExpectFor, toRouterParams } from './params.ts';
import { Router, compareAddresses, type RouterEffect, type RouterEvent, type TimerName, type VrrpState } from './router.ts';
import { SyncGroups } from './sync-group.ts';

/** The socket the engine needs (src/io/vrrp-socket.ts provides it). */
export interface EngineSocket {
  /** Sends now; the bytes are copied before it returns (the engine sends the same buffer again). */
  send(payload: Buffer, dst: string): Error | undefined;
  close(): void;
}
export interface EngineSocketOptions {
  /** packets the socket layer refused (IP header, truncation), before any instance saw them */
  readonly onDrop: (reason: string, detail: string) => void;
  readonly family: 4 | 6;
  readonly ifname: string;
  readonly group: string;
  readonly unicast: boolean;
  readonly src?: string;
  /** TTL / hop limit of unicast sends (unicast_ttl); absent: 255 */
  readonly ttl?: number;
  /**
   * VRRPv2 with IP AH (IPv4): a socket of protocol 51 whose send() takes whole IPv4 packets
   * (IP_HDRINCL: the ICV covers the header, so vigil writes it) and whose packets carry
   * `packet`.
   */
  readonly ah?: boolean;
}
export interface EnginePacket {
  readonly family: 4 | 6;
  readonly src: string;
  readonly dst: string;
  readonly ttl: number;
  /** the IP payload: the VRRP message, or on an AH socket the AH header and the VRRP message */
  readonly payload: Buffer;
  /** AH sockets: the whole IPv4 packet, header included */
  readonly packet?: Buffer;
}
export interface EngineGarp {
  sendArp(vip: string): void;
  sendNa(vip6: string): void;
  close(): void;
}

export interface EngineIo {
  openSocket(opts: EngineSocketOptions, onPacket: (p: EnginePacket) => void, onError: (e: Error) => void): EngineSocket;
  /** `mac` as text (`00:00:5e:00:01:33`), as the supervisor resolved it */
  openGarp(link: { ifname: string; ifindex: number; mac: string }): EngineGarp;
  post(msg: FromVrrp): void;
  /** ms, monotonic (performance.now()) */
  now(): number;
  /** wall clock for messages, ms since the epoch */
  wallNow(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /**
   * ms. libuv timers tick in whole milliseconds and may fire up to 1 ms early or late;
   * the engine wakes this much before an advert is due and waits out the rest with
   * `waitUntil`. 0 disables it.
   */
  readonly spinMs: number;
  /**
   * Blocks the thread until `now()` reaches `dueMs` (sub-millisecond), for the last
   * `spinMs` before an advert. Should neither burn the CPU nor allocate: a busy loop
   * reading the clock fills the young generation, and its scavenges (which share V8's
   * helper threads with the main thread's collections) came back as late adverts.
   */
  waitUntil(dueMs: number): void;
  /** this thread's V8 heap, for status (absent in tests) */
  heap?(): IsolateHeap;
  /** how late (ms) an advert timer fired, each time (max_auto_priority; absent: not wanted) */
  firedLate?(ms: number): void;
}

/**
 * An instance's advert timer. One object per instance, armed again every interval: the
 * advert path allocates next to nothing (see `encoded`), because what the VRRP thread
 * allocates comes back as scavenges that hold up adverts.
 */
interface AdvertTimer {
  /** ms, monotonic; NaN while not armed */
  due: number;
  /** the advert slot (whole ms of the monotonic clock) held, -1 none; see takeAdvertSlot */
  slot: number;
  /** in the shared advert queue (see queueAdvert) */
  queued: boolean;
}

/**
 * Adverts armed per whole ms, a ring indexed by ms modulo its length. An advert is armed at
 * most one interval ahead (255 s, RFC 3768's largest), less than the ring's 262 s, so two
 * armed slots never share an entry.
 */
const SLOT_RING = 1 << 18;
const SLOT_MASK = SLOT_RING - 1;

/** the event every advert timer delivers (routers do not keep or change events) */
const ADVERT_TIMER: RouterEvent = { type: 'timer', timer: 'advert' };

/**
 * Adverts allowed to fall due in one millisecond. Instances that become MASTER together
 * (a start, a peer's failure) share one schedule, and their adverts go out one after
 * another: 500 of them take several ms, so the last ones are late by that much, by a
 * different amount each time. An advert timer armed into a crowded millisecond moves
 * earlier (never later: that would be a gap) into the nearest one with room, at most half
 * an interval; drift correction then keeps the new phase. One advert sooner than
 * advert_int once is harmless to backups (it only restarts their master-down timer early).
 */
const ADVERTS_PER_MS = 8;

/** garp pacing on one interface or garp_group, one family: who waits, and when the next may go */
interface GarpLane {
  /** io.now() from which the next gratuitous ARP (NA) may go out */
  nextFree: number;
  queue: { inst: Instance; intervalMs: number; send: () => void }[];
  /** armed while the queue is not empty */
  timer?: unknown;
}

interface Instance {
  spec: VrrpInstanceSpec;
  router: Router;
  socket: SharedSocket;
  /**
   * master-down and preempt-delay: the io's timer handle of each that is armed. A record,
   * not a Map: a Map that empties and fills again reallocates its table.
   */
  timers: { [K in Exclude<TimerName, 'advert'>]?: unknown };
  advert: AdvertTimer;
  garp?: { sender: EngineGarp; timers: unknown[] };
  stats: Counters;
  /** the advert timer's previous due time: re-arming from it, not from `now`, keeps the schedule from drifting */
  lastAdvertDue?: number;
  /** outstanding take-over/release request */
  pendingVips?: { requestId: number; kind: 'take-over' | 'release' };
  masterAddress?: string;
  /** the last advert encoded, per destination (see `encoded`) */
  encoded?: { readonly spec: VrrpInstanceSpec; readonly advert: Advert; readonly payloads: Buffer[] };
  /** `auth_type AH`: the HMAC key, the sequence counter and the IPv4 id of the last advert */
  ah?: { readonly key: Buffer; readonly seq: AhSequence; ipId: number };
}

interface Counters {
  advertsSent: number;
  advertsReceived: number;
  transitions: number;
  becameMaster: number;
  priorityZeroSent: number;
  priorityZeroReceived: number;
  dropped: Record<string, number>;
  /** how late each advert timer fired (ms), the last LATE_WINDOW of them, a ring */
  lateMs: Float64Array;
  /** adverts timed so far (lateMs holds the last min(n, LATE_WINDOW)) */
  lateN: number;
}

interface SharedSocket {
  key: string;
  socket: EngineSocket;
  users: number;
}

const LATE_WINDOW = 1024;

const isTakeOver = (e: RouterEffect): boolean => e.type === 'take-over';

function newCounters(): Counters {
  return {
    advertsSent: 0,
    advertsReceived: 0,
    transitions: 0,
    becameMaster: 0,
    priorityZeroSent: 0,
    priorityZeroReceived: 0,
    dropped: {},
    lateMs: new Float64Array(LATE_WINDOW),
    lateN: 0,
  };
}

function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

export class VrrpEngine {
  private readonly instances = new Map<string, Instance>();
  /** instances with a delayed lower-priority gratuitous ARP round pending */
  private readonly lowerPrioPending = new Set<Instance>();
  /** garp pacing: one lane per `group|family` (see pacedSend) */
  private readonly garpLanes = new Map<string, GarpLane>();
  private readonly sockets = new Map<string, SharedSocket>();
  private syncGroups = new SyncGroups([]);
  private nextRequestId = 1;
  /** requestId → instance name, for vips-done */
  private readonly vipRequests = new Map<number, string>();
  /** adverts due per whole ms of the monotonic clock (see ADVERTS_PER_MS, SLOT_RING) */
  private readonly advertSlots = new Uint16Array(SLOT_RING);
  /** every instance's next advert, earliest first (see queueAdvert) */
  private readonly advertQueue: Instance[] = [];
  private advertWake: unknown;
  private advertWakeAt = Infinity;
  private readonly onAdvertWake = (): void => this.runAdverts();
  private stopping?: { requestId: number; pending: Set<number> };
  /** drops not tied to an instance: socket-level reasons and unknown VRIDs */
  private readonly unattributed: Record<string, number> = {};
  /** rate limit for drop events: reason → last time reported */
  private readonly dropReported = new Map<string, number>();

  constructor(private readonly io: EngineIo) {}

  handle(msg: ToVrrp): void {
    switch (msg.type) {
      case 'init':
        this.configure(msg.instances, msg.syncGroups, [], msg.daemonStartedAt);
        this.io.post({ type: 'ready', version: IPC_VERSION });
        return;
      case 'reconfigure':
        this.configure(msg.instances, msg.syncGroups, msg.keep);
        this.io.post({ type: 'reconfigured', requestId: msg.requestId });
        return;
      case 'track': {
        const inst = this.instances.get(msg.instance);
        if (!inst) return;
        this.dispatch(inst, { type: 'priority', priority: msg.priority });
        this.dispatch(inst, { type: 'fault', fault: msg.fault, reason: msg.reason });
        return;
      }
      case 'lost-owned': {
        const inst = this.instances.get(msg.instance);
        if (inst) this.dispatch(inst, { type: 'lost-owned', reason: msg.reason });
        return;
      }
      case 'vips-done':
        this.vipsDone(msg.requestId, msg.ok, msg.error, msg.announced === true);
        return;
      case 'status-request':
        this.io.post({
          type: 'status',
          requestId: msg.requestId,
          instances: this.status(),
          unattributedDrops: { ...this.unattributed },
          ...(this.io.heap ? { heap: this.io.heap() } : {}),
        });
        return;
      case 'stop':
        this.stop(msg.requestId);
        return;
      default:
        assertNever(msg);
    }
  }

  /** ms until the thread next wakes for an advert (it wakes spinMs before one is due); Infinity if none is armed */
  msToNextAdvert(): number {
    const head = this.advertQueue[0];
    return head === undefined ? Infinity : head.advert.due - this.io.spinMs - this.io.now();
  }

  status(): InstanceStatus[] {
    return [...this.instances.values()].map((i) => {
      const late = i.stats.lateMs.slice(0, Math.min(i.stats.lateN, LATE_WINDOW)).sort();
      const inst = i.spec.instance;
      return {
        name: inst.name,
        vrid: inst.virtualRouterId,
        family: inst.family,
        interface: inst.interface,
        state: i.router.state,
        priority: i.router.priority,
        configuredPriority: inst.priority,
        ...(i.masterAddress !== undefined ? { masterAddress: i.masterAddress } : {}),
        advertsSent: i.stats.advertsSent,
        advertsReceived: i.stats.advertsReceived,
        transitions: i.stats.transitions,
        becameMaster: i.stats.becameMaster,
        priorityZeroSent: i.stats.priorityZeroSent,
        priorityZeroReceived: i.stats.priorityZeroReceived,
        dropped: { ...i.stats.dropped },
        ...(late.length > 0
          ? {
              advertLateMs: {
                p50: percentile(late, 0.5),
                p99: percentile(late, 0.99),
                max: late[late.length - 1] ?? 0,
                n: late.length,
              },
            }
          : {}),
      };
    });
  }

  /** Applies a whole instance set: new ones start, removed ones stop, unchanged ones keep running untouched. */
  private configure(
    specs: readonly VrrpInstanceSpec[],
    syncGroups: readonly VrrpSyncGroup[],
    keep: readonly string[] = [],
    daemonStartedAt?: number,
  ): void {
    const wanted = new Map(specs.map((s) => [s.instance.name, s]));
    const kept = new Set(keep);
    for (const [name, inst] of this.instances) {
      if (kept.has(name)) continue;
      const next = wanted.get(name);
      if (!next || this.needsRestart(inst.spec, next)) this.remove(inst);
    }
    this.syncGroups = new SyncGroups(syncGroups);
    for (const [name, inst] of this.instances) this.syncGroups.attach(name, inst.router);
    const started: Instance[] = [];
    for (const spec of specs) {
      const existing = this.instances.get(spec.instance.name);
      if (existing) {
        if (JSON.stringify(existing.spec) !== JSON.stringify(spec)) {
          existing.spec = spec;
          this.apply(existing, existing.router.update(toRouterParams(spec.instance, spec.link.primaryAddress)));
        }
        continue;
      }
      const params = toRouterParams(spec.instance, spec.link.primaryAddress);
      const name = spec.instance.name;
      // The gate reads whichever sync-group table is current, so a reload can regroup members.
      const router = new Router(params, () => this.io.now(), {
        sync: {
          canGoMaster: () => this.syncGroups.gate(name)?.canGoMaster() ?? true,
          othersFaulted: () => this.syncGroups.gate(name)?.othersFaulted() ?? false,
        },
      });
      this.syncGroups.attach(name, router);
      const inst: Instance = {
        spec,
        router,
        socket: this.acquireSocket(spec, params.authAh !== undefined),
        timers: {},
        advert: { due: NaN, slot: -1, queued: false },
        stats: newCounters(),
      };
      if (params.authAh !== undefined) inst.ah = { key: ahKey(params.authAh), seq: new AhSequence(), ipId: 0 };
      this.instances.set(spec.instance.name, inst);
      started.push(inst);
    }
    // The sockets are read on this thread's loop from the moment they are open (reader.ts):
    // the routers start at once.
    const sinceMs = daemonStartedAt === undefined ? undefined : this.io.wallNow() - daemonStartedAt;
    const start = sinceMs === undefined ? { type: 'start' as const } : { type: 'start' as const, sinceMs };
    for (const inst of started) this.dispatch(inst, start);
  }

  /** Changes the protocol cannot absorb in place: the instance stops (priority 0 if master) and starts again. */
  private needsRestart(prev: VrrpInstanceSpec, next: VrrpInstanceSpec): boolean {
    const a = prev.instance;
    const b = next.instance;
    return (
      a.virtualRouterId !== b.virtualRouterId ||
      a.interface !== b.interface ||
      a.version !== b.version ||
      a.family !== b.family ||
      a.unicastSrcIp !== b.unicastSrcIp ||
      (a.authentication?.type === 'AH') !== (b.authentication?.type === 'AH') ||
      JSON.stringify(a.unicastPeers) !== JSON.stringify(b.unicastPeers) ||
      JSON.stringify(prev.link) !== JSON.stringify(next.link) ||
      prev.mcastGroup !== next.mcastGroup
    );
  }

  private remove(inst: Instance): void {
    this.apply(inst, inst.router.handle({ type: 'stop' }));
    for (const h of Object.values(inst.timers)) if (h !== undefined) this.io.clearTimer(h);
    inst.timers = {};
    this.disarmAdvert(inst);
    this.clearGarp(inst);
    this.releaseSocket(inst.socket);
    this.syncGroups.detach(inst.spec.instance.name);
    this.instances.delete(inst.spec.instance.name);
  }

  private socketKey(spec: VrrpInstanceSpec, ah: boolean): string {
    const i = spec.instance;
    const unicast = i.unicastPeers.length > 0;
    return `${i.family}|${spec.link.ifname}|${unicast ? `u|${spec.link.primaryAddress}|${i.unicastTtl ?? 255}` : `m|${spec.mcastGroup}`}${ah ? '|ah' : ''}`;
  }

  private acquireSocket(spec: VrrpInstanceSpec, ah: boolean): SharedSocket {
    const key = this.socketKey(spec, ah);
    let shared = this.sockets.get(key);
    if (!shared) {
      const unicast = spec.instance.unicastPeers.length > 0;
      const socket = this.io.openSocket(
        {
          onDrop: (reason, detail) => this.countDropGlobal(reason, detail),
          family: spec.instance.family,
          ifname: spec.link.ifname,
          group: spec.mcastGroup,
          unicast,
          src: spec.link.primaryAddress,
          ...(unicast && spec.instance.unicastTtl !== undefined ? { ttl: spec.instance.unicastTtl } : {}),
          ...(ah ? { ah } : {}),
        },
        (p) => this.receive(key, p),
        (e) =>
          this.io.post({
            type: 'event',
            level: 'error',
            event: 'vrrp.socket-error',
            fields: { socket: key, error: e.message, code: (e as { code?: string }).code ?? 'unknown' },
          }),
      );
      shared = { key, socket, users: 0 };
      this.sockets.set(key, shared);
    }
    shared.users++;
    return shared;
  }

  private releaseSocket(shared: SharedSocket): void {
    if (--shared.users > 0) return;
    this.sockets.delete(shared.key);
    shared.socket.close(); // sends are synchronous: the priority-0 advert on stop has gone out
  }

  private receive(key: string, p: EnginePacket): void {
    // The VRID is byte 1 of both versions; pick the instance before the full validation.
    const at = p.packet !== undefined ? AH_HEADER_LEN : 0;
    const vrid = p.payload.length >= at + 2 ? p.payload[at + 1] : undefined;
    let inst: Instance | undefined;
    for (const i of this.instances.values()) {
      if (i.socket.key === key && i.spec.instance.virtualRouterId === vrid) {
        inst = i;
        break;
      }
    }
    if (!inst) {
      this.countDropGlobal('unknown-vrid', `no instance with VRID ${String(vrid)} on ${key}`);
      return;
    }
    const i = inst.spec.instance;
    let payload = p.payload;
    let seq: number | undefined;
    if (inst.ah) {
      const v = p.packet === undefined ? undefined : verifyAhPacket(p.packet, inst.ah.key, i.unicastPeers.length > 0);
      if (!v?.ok) {
        const reason = v?.reason ?? 'protocol';
        inst.stats.dropped[reason] = (inst.stats.dropped[reason] ?? 0) + 1;
        this.reportDrop(i.name, reason, v?.detail ?? 'no AH header', p.src);
        return;
      }
      payload = v.value.vrrp;
      seq = v.value.seq;
    }
    const decoded = decodeAdvert(payload, {
      family: p.family,
      src: p.src,
      dst: p.dst,
      ttlOrHopLimit: p.ttl,
      unicast: i.unicastPeers.length > 0,
      expect: decodeExpectFor(inst.router.params),
    });
    if (!decoded.ok) {
      inst.stats.dropped[decoded.reason] = (inst.stats.dropped[decoded.reason] ?? 0) + 1;
      this.reportDrop(i.name, decoded.reason, decoded.detail, p.src);
      return;
    }
    // Our own adverts come back on some setups (unicast to self, looped multicast).
    if (p.src === inst.spec.link.primaryAddress) return;
    const refused = i.checkUnicastSrc === true ? unicastSourceRefused(i, p) : undefined;
    if (refused !== undefined) {
      inst.stats.dropped[refused.reason] = (inst.stats.dropped[refused.reason] ?? 0) + 1;
      this.reportDrop(i.name, refused.reason, refused.detail, p.src);
      return;
    }
    if (inst.ah && seq !== undefined && !this.acceptAhSeq(inst, inst.ah.seq, seq, decoded.value.priority, p.src)) return;
    inst.stats.advertsReceived++;
    if (decoded.value.priority === 0) inst.stats.priorityZeroReceived++;
    this.dispatch(inst, { type: 'advert', advert: decoded.value, source: p.src });
    if (inst.router.state === 'BACKUP') inst.masterAddress = p.src;
  }

  /** keepalived's anti-replay (ah.ts AhSequence); counts and reports a replay. */
  private acceptAhSeq(inst: Instance, counter: AhSequence, seq: number, priority: number, src: string): boolean {
    if (!counter.accept(seq)) {
      inst.stats.dropped['ah-replay'] = (inst.stats.dropped['ah-replay'] ?? 0) + 1;
      this.reportDrop(inst.spec.instance.name, 'ah-replay', `AH sequence number ${seq} not above ${counter.current}`, src);
      return false;
    }
    // A master hearing a lower priority (not a priority-0 release) moves past its number.
    const r = inst.router;
    if (r.state === 'MASTER' && priority !== 0 && (priority < r.priority || (priority === r.priority && compareAddresses(src, inst.spec.link.primaryAddress) < 0))) {
      counter.syncPast(seq);
    }
    return true;
  }

  private countDropGlobal(reason: string, detail: string): void {
    this.unattributed[reason] = (this.unattributed[reason] ?? 0) + 1;
    this.reportDrop(undefined, reason, detail, '');
  }

  /** One event per reason and instance per 60 s: a flood of bad packets must not flood the log. */
  private reportDrop(instance: string | undefined, reason: string, detail: string, src: string): void {
    const k = `${instance ?? ''}|${reason}`;
    const now = this.io.now();
    const last = this.dropReported.get(k);
    if (last !== undefined && now - last < 60_000) return;
    this.dropReported.set(k, now);
    this.io.post({
      type: 'event',
      level: 'warn',
      event: 'vrrp.packet-dropped',
      ...(instance !== undefined ? { instance } : {}),
      fields: { reason, detail, src },
    });
  }

  private dispatch(inst: Instance, ev: RouterEvent): void {
    this.apply(inst, inst.router.handle(ev));
  }

  private apply(inst: Instance, effects: readonly RouterEffect[]): void {
    // A take-over is asked for before anything else is reported: the supervisor adds the
    // addresses (and sends the first gratuitous ARP) before it logs the transition or runs
    // notify scripts.
    if (effects.length > 1 && effects.some(isTakeOver)) {
      effects = [...effects.filter(isTakeOver), ...effects.filter((e) => !isTakeOver(e))];
    }
    for (const e of effects) {
      switch (e.type) {
        case 'send-advert':
          this.sendAdvert(inst, e.advert);
          break;
        case 'arm-timer':
          if (e.timer === 'advert') this.armAdvert(inst, e.ms);
          else this.arm(inst, e.timer, e.ms);
          break;
        case 'cancel-timer': {
          if (e.timer === 'advert') {
            this.disarmAdvert(inst);
            delete inst.lastAdvertDue;
            break;
          }
          const h = inst.timers[e.timer];
          if (h !== undefined) this.io.clearTimer(h);
          inst.timers[e.timer] = undefined;
          break;
        }
        case 'transition':
          this.transition(inst, e.from, e.to, e.reason, e.priority);
          break;
        case 'take-over':
          this.requestVips(inst, 'take-over');
          break;
        case 'release':
          this.clearGarp(inst);
          this.requestVips(inst, 'release');
          break;
        case 'lower-prio-garp':
          this.lowerPrioGarp(inst);
          break;
        default:
          assertNever(e);
      }
    }
  }

  private transition(inst: Instance, from: VrrpState, to: VrrpState, reason: string, priority: number): void {
    inst.stats.transitions++;
    if (to === 'MASTER') {
      inst.stats.becameMaster++;
      delete inst.masterAddress;
      inst.ah?.seq.becomeMaster();
    }
    const i = inst.spec.instance;
    this.io.post({
      type: 'transition',
      instance: i.name,
      vrid: i.virtualRouterId,
      from,
      to,
      reason,
      priority,
      at: this.io.wallNow(),
    });
    if (i.syncGroup !== undefined && !this.stopping) {
      for (const ev of this.syncGroups.onTransition(i.name, to)) {
        const other = this.instances.get(ev.instance);
        if (other) this.dispatch(other, ev.event);
      }
    }
  }

  private arm(inst: Instance, timer: Exclude<TimerName, 'advert'>, ms: number): void {
    const prev = inst.timers[timer];
    if (prev !== undefined) this.io.clearTimer(prev);
    const h = this.io.setTimer(() => {
      if (inst.timers[timer] !== h) return;
      inst.timers[timer] = undefined;
      this.dispatch(inst, { type: 'timer', timer });
    }, ms);
    inst.timers[timer] = h;
  }

  private armAdvert(inst: Instance, ms: number): void {
    const a = inst.advert;
    this.disarmAdvert(inst);
    const now = this.io.now();
    // Keep the advert schedule: the next advert is due one interval after the previous
    // one was due, not after it was actually sent (drift correction).
    a.due = inst.lastAdvertDue !== undefined && now - inst.lastAdvertDue < ms ? inst.lastAdvertDue + ms : now + ms;
    this.takeAdvertSlot(a, now, ms);
    this.queueAdvert(inst);
  }

  private disarmAdvert(inst: Instance): void {
    const a = inst.advert;
    if (a.queued) {
      const q = this.advertQueue;
      const at = q.indexOf(inst);
      if (at >= 0) q.splice(at, 1);
      a.queued = false;
      if (at === 0) this.scheduleAdverts();
    }
    this.releaseSlot(a);
    a.due = NaN;
  }

  /** runAdverts has taken `a` off the queue: wait out its last sub-millisecond, then advertise. */
  private fireAdvert(inst: Instance): void {
    const a = inst.advert;
    this.releaseSlot(a);
    if (this.io.spinMs > 0) this.io.waitUntil(a.due); // libuv timers tick in whole ms
    const late = this.io.now() - a.due;
    inst.stats.lateMs[inst.stats.lateN++ % LATE_WINDOW] = late;
    this.io.firedLate?.(late);
    inst.lastAdvertDue = a.due;
    a.due = NaN;
    this.dispatch(inst, ADVERT_TIMER);
  }

  /**
   * Advert timers share one libuv timer and fire strictly in due order. Each advert wakes
   * spinMs early and waits (blocking the thread) until its due time; were every instance its
   * own libuv timer, one waiting for its own advert would hold back another's that falls due
   * meanwhile (and libuv rounds to whole ms, so they do not even wake in due order).
   */
  private queueAdvert(inst: Instance): void {
    const due = inst.advert.due;
    inst.advert.queued = true;
    const q = this.advertQueue;
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (q[mid]!.advert.due <= due) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, inst);
    this.scheduleAdverts();
  }

  private scheduleAdverts(): void {
    const head = this.advertQueue[0];
    const wakeAt = head === undefined ? Infinity : head.advert.due - this.io.spinMs;
    if (this.advertWake !== undefined) {
      if (this.advertWakeAt <= wakeAt) return;
      this.io.clearTimer(this.advertWake);
      this.advertWake = undefined;
    }
    if (head === undefined) return;
    this.advertWakeAt = wakeAt;
    this.advertWake = this.io.setTimer(this.onAdvertWake, Math.max(0, wakeAt - this.io.now()));
  }

  /** Fires every advert due within spinMs, earliest first; each waits for its own due time. */
  private runAdverts(): void {
    this.advertWake = undefined;
    this.advertWakeAt = Infinity;
    const q = this.advertQueue;
    for (;;) {
      const head = q[0];
      if (head === undefined || head.advert.due - this.io.now() > this.io.spinMs) break;
      q.shift();
      head.advert.queued = false;
      this.fireAdvert(head); // re-arms its instance's next advert into the queue
    }
    this.scheduleAdverts();
  }

  /** Moves `t.due` earlier into the nearest millisecond with room (see ADVERTS_PER_MS) and holds it. */
  private takeAdvertSlot(t: AdvertTimer, now: number, intervalMs: number): void {
    const first = Math.floor(t.due);
    // not into the past (nor the next ms or so: the wake-up needs a timer tick to land in)
    const earliest = Math.max(first - Math.floor(intervalMs / 2), Math.floor(now) + 2);
    let slot = first;
    for (let s = first; s >= earliest; s--) {
      if (this.advertSlots[s & SLOT_MASK]! < ADVERTS_PER_MS) {
        slot = s;
        break;
      }
    }
    if (slot !== first) t.due -= first - slot;
    t.slot = slot;
    this.advertSlots[slot & SLOT_MASK]!++;
  }

  private releaseSlot(t: AdvertTimer): void {
    if (t.slot < 0) return;
    const at = t.slot & SLOT_MASK;
    if (this.advertSlots[at]! > 0) this.advertSlots[at]!--;
    t.slot = -1;
  }

  private sendAdvert(inst: Instance, advert: Advert): void {
    if (inst.ah) {
      // One sequence number and IP id per advert, whatever the number of peers (keepalived).
      inst.ah.ipId = (inst.ah.ipId % 0xffff) + 1; // 1..65535: the kernel rewrites an id of 0
      inst.ah.seq.next();
    }
    const peers = inst.spec.instance.unicastPeers;
    if (peers.length === 0) this.sendTo(inst, advert, 0, inst.spec.mcastGroup);
    else for (let d = 0; d < peers.length; d++) this.sendTo(inst, advert, d, peers[d]!);
    inst.stats.advertsSent++;
    if (advert.priority === 0) inst.stats.priorityZeroSent++;
  }

  private sendTo(inst: Instance, advert: Advert, d: number, dst: string): void {
    let bytes = this.encoded(inst, advert, d, dst);
    const ah = inst.ah;
    if (ah) {
      // A new ICV every advert (sequence number, id): VRRPv2 sends at most one a second.
      const unicast = inst.spec.instance.unicastPeers.length > 0;
      bytes = encodeAhPacket(bytes, { src: inst.spec.link.primaryAddress, dst, id: ah.ipId, seq: ah.seq.current, key: ah.key, unicast });
    }
    const err = inst.socket.socket.send(bytes, dst);
    if (err) {
      inst.stats.dropped['send-error'] = (inst.stats.dropped['send-error'] ?? 0) + 1;
      this.reportDrop(inst.spec.instance.name, 'send-error', err.message, dst);
    }
  }

  /**
   * The advert's bytes for destination number `d`. A master sends the same advert every
   * interval, so it is encoded once and the same bytes go out until something in it (or
   * the instance's spec) changes: what the VRRP thread allocates per advert comes back as
   * scavenges that hold up adverts.
   */
  private encoded(inst: Instance, advert: Advert, d: number, dst: string): Buffer {
    let cache = inst.encoded;
    if (cache === undefined || cache.spec !== inst.spec || !sameAdvert(cache.advert, advert)) {
      cache = { spec: inst.spec, advert, payloads: [] };
      inst.encoded = cache;
    }
    let payload = cache.payloads[d];
    if (payload === undefined) {
      payload = encodeAdvert(advert, { family: inst.spec.instance.family, src: inst.spec.link.primaryAddress, dst });
      cache.payloads[d] = payload;
    }
    return payload;
  }

  private requestVips(inst: Instance, kind: 'take-over' | 'release'): void {
    if (kind === 'take-over') this.prepareGarp(inst);
    const requestId = this.nextRequestId++;
    inst.pendingVips = { requestId, kind };
    this.vipRequests.set(requestId, inst.spec.instance.name);
    if (this.stopping && kind === 'release') this.stopping.pending.add(requestId);
    this.io.post({ type: kind, requestId, instance: inst.spec.instance.name });
  }

  private vipsDone(requestId: number, ok: boolean, error: string | undefined, announced: boolean): void {
    const name = this.vipRequests.get(requestId);
    this.vipRequests.delete(requestId);
    if (this.stopping?.pending.delete(requestId)) this.maybeStopped();
    if (name === undefined) return;
    const inst = this.instances.get(name);
    if (!inst || inst.pendingVips?.requestId !== requestId) return;
    const kind = inst.pendingVips.kind;
    delete inst.pendingVips;
    if (!ok) {
      this.io.post({
        type: 'event',
        level: 'error',
        event: 'vrrp.vips-failed',
        instance: name,
        fields: { kind, error: error ?? 'unknown' },
      });
    }
    // Announce the addresses only if we are still master: the state may have moved on.
    if (kind === 'take-over' && inst.router.state === 'MASTER') this.startGarp(inst, announced ? 1 : 0);
  }

  /**
   * Opens the AF_PACKET sender when the take-over is asked for, so that the socket exists by
   * the time the addresses are in and the first burst goes out at once.
   */
  private prepareGarp(inst: Instance): void {
    if (inst.garp) return;
    const link = inst.spec.garpLink;
    try {
      const sender = this.io.openGarp({ ifname: link.ifname, ifindex: link.ifindex, mac: link.mac });
      inst.garp = { sender, timers: [] };
    } catch (e) {
      this.io.post({
        type: 'event',
        level: 'error',
        event: 'vrrp.garp-failed',
        instance: inst.spec.instance.name,
        fields: { error: (e as Error).message },
      });
    }
  }

  /**
   * garp_master_repeat gratuitous ARPs / NAs now (less the `alreadySent` rounds the
   * supervisor sent as it added the addresses), the same again after garp_master_delay,
   * then every garp_master_refresh.
   */
  private startGarp(inst: Instance, alreadySent = 0): void {
    const i = inst.spec.instance;
    if (inst.garp) for (const h of inst.garp.timers) this.io.clearTimer(h);
    this.dropPaced(inst);
    this.prepareGarp(inst);
    const garp = inst.garp;
    if (!garp) return;
    garp.timers = [];
    const burst = (repeat: number): void => this.garpBurst(inst, garp.sender, repeat);
    burst(Math.max(0, i.garpMasterRepeat - alreadySent));
    if (i.garpMasterDelayMs > 0) {
      garp.timers.push(this.io.setTimer(() => burst(i.garpMasterRepeat), i.garpMasterDelayMs));
    }
    if (i.garpMasterRefreshMs > 0) {
      // One slot for the refresh timer, re-armed in place so the list does not grow.
      const slot = garp.timers.length;
      const refresh = (): void => {
        burst(i.garpMasterRefreshRepeat);
        garp.timers[slot] = this.io.setTimer(refresh, i.garpMasterRefreshMs);
      };
      garp.timers[slot] = this.io.setTimer(refresh, i.garpMasterRefreshMs);
    }
  }

  private garpBurst(inst: Instance, sender: EngineGarp, repeat: number): void {
    const i = inst.spec.instance;
    const send = (v: (typeof i.virtualIpaddress)[number]): void => {
      try {
        if (v.family === 4) sender.sendArp(v.address);
        else sender.sendNa(v.address);
      } catch (e) {
        this.reportDrop(i.name, 'garp-send', (e as Error).message, v.address);
      }
    };
    const pace = i.garpPacing;
    for (let n = 0; n < repeat; n++) {
      for (const v of i.virtualIpaddress) {
        const interval = pace === undefined ? 0 : v.family === 4 ? pace.arpIntervalMs : pace.naIntervalMs;
        if (interval <= 0) send(v);
        else this.pacedSend(inst, `${pace!.group}|${v.family}`, interval, () => send(v));
      }
    }
  }

  /**
   * vrrp_garp_interval / vrrp_gna_interval / garp_group: one gratuitous ARP (NA) per
   * interval on an interface or group, across every instance that announces there. The ones
   * that must wait queue on the lane, which has one timer; the next free time counts from
   * the send that happened, so a timer that fires late never brings the next send closer
   * than the interval.
   */
  private pacedSend(inst: Instance, key: string, intervalMs: number, send: () => void): void {
    const now = this.io.now();
    let lane = this.garpLanes.get(key);
    if (!lane) this.garpLanes.set(key, (lane = { nextFree: -Infinity, queue: [] }));
    if (lane.timer === undefined && lane.queue.length === 0 && now >= lane.nextFree) {
      send();
      lane.nextFree = now + intervalMs;
      return;
    }
    lane.queue.push({ inst, intervalMs, send });
    this.armLane(lane, now);
  }

  private armLane(lane: GarpLane, now: number): void {
    if (lane.timer !== undefined || lane.queue.length === 0) return;
    lane.timer = this.io.setTimer(() => {
      lane.timer = undefined;
      const next = lane.queue.shift();
      if (!next) return;
      const at = this.io.now();
      next.send();
      lane.nextFree = at + next.intervalMs;
      this.armLane(lane, at);
    }, Math.max(0, lane.nextFree - now));
  }

  /** An instance's queued gratuitous ARPs (NAs) leave every lane without using up an interval. */
  private dropPaced(inst: Instance): void {
    for (const lane of this.garpLanes.values()) {
      const kept = lane.queue.filter((p) => p.inst !== inst);
      if (kept.length === lane.queue.length) continue;
      lane.queue = kept;
      if (kept.length === 0 && lane.timer !== undefined) {
        this.io.clearTimer(lane.timer);
        lane.timer = undefined;
      }
    }
  }

  /**
   * keepalived vrrp_state_master_rx on a lower-priority advert: garp_lower_prio_repeat
   * gratuitous ARPs / NAs now and again after garp_lower_prio_delay (defaults:
   * garp_master_repeat, garp_master_delay). At most one delayed round is pending, however
   * many lower-priority adverts arrive meanwhile.
   */
  private lowerPrioGarp(inst: Instance): void {
    const i = inst.spec.instance;
    const repeat = i.garpLowerPrioRepeat ?? i.garpMasterRepeat;
    if (repeat <= 0 || inst.router.state !== 'MASTER') return;
    this.prepareGarp(inst);
    const garp = inst.garp;
    if (!garp) return;
    this.garpBurst(inst, garp.sender, repeat);
    const delay = i.garpLowerPrioDelayMs ?? i.garpMasterDelayMs;
    if (delay <= 0 || this.lowerPrioPending.has(inst)) return;
    this.lowerPrioPending.add(inst);
    garp.timers.push(
      this.io.setTimer(() => {
        this.lowerPrioPending.delete(inst);
        if (inst.garp && inst.router.state === 'MASTER') this.garpBurst(inst, inst.garp.sender, repeat);
      }, delay),
    );
  }

  private clearGarp(inst: Instance): void {
    this.lowerPrioPending.delete(inst);
    this.dropPaced(inst);
    if (!inst.garp) return;
    for (const h of inst.garp.timers) this.io.clearTimer(h);
    inst.garp.sender.close();
    delete inst.garp;
  }

  /** Priority 0 from every master, addresses released, then `stopped` once the supervisor confirms. */
  private stop(requestId: number): void {
    this.stopping = { requestId, pending: new Set() };
    for (const inst of [...this.instances.values()]) this.remove(inst);
    this.maybeStopped();
  }

  private maybeStopped(): void {
    if (this.stopping && this.stopping.pending.size === 0) {
      this.io.post({ type: 'stopped', requestId: this.stopping.requestId });
    }
  }
}

/**
 * check_unicast_src (keepalived vrrp.c vrrp_check_packet): an advert must come from one of
 * the instance's unicast peers, with a TTL / hop limit in that peer's min_ttl..max_ttl.
 */
function unicastSourceRefused(i: VrrpInstanceSpec['instance'], p: EnginePacket): { reason: 'unicast-src' | 'ttl'; detail: string } | undefined {
  if (!i.unicastPeers.includes(p.src)) return { reason: 'unicast-src', detail: `unicast source address ${p.src} is not a unicast peer` };
  const r = i.unicastPeerTtl?.[p.src];
  if (r !== undefined && (p.ttl < r.min || p.ttl > r.max)) return { reason: 'ttl', detail: `TTL/hop limit ${p.ttl} not in range ${r.min}-${r.max}` };
  return undefined;
}
