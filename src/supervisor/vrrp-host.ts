/**
 * The supervisor's side of VRRP: it owns the VRRP worker thread and every address the
 * worker asks for. The worker decides (state machine, timers, sockets); this file does
 * the kernel work it asks for over netlink and reports transitions to whoever listens.
 *
 * Safety: while the worker is down this node gives up every VIP it holds, before the
 * worker is restarted (with back-off), so no peer can see two masters for longer than one
 * master-down interval.
 */
import { EventEmitter } from 'node:events';
import v8 from 'node:v8';
import type { Worker } from 'node:worker_threads';
import type { Config, VirtualAddress, VrrpInstance } from '../config/model.ts';
import {
  assertNever,
  IPC_VERSION,
  type FromVrrp,
  type InstanceStatus,
  type IsolateHeap,
  type LinkSpec,
  type ToVrrp,
  type VrrpInstanceSpec,
} from '../ipc/messages.ts';
import type { AddressSpec, NetControl, RouteSpec, RuleSpec } from '../netlink/net-control.ts';
import { vrrpVirtualMac } from '../netlink/net-control.ts';
import { openSyncAddressAdder, type SyncAddressAdder } from '../netlink/sync-address.ts';
import type { Logger } from './logger.ts';
import { describeRule } from '../netlink/rules.ts';
import { routeSpec, ruleSpec } from './static-state.ts';
import { lostOwned } from './owned-deletion.ts';
import type { Deletion } from '../netlink/deletion-watch.ts';
import { closeLedgerFds } from '../io/fd-ledger.ts';
import { openGarpSender, type GarpSender } from '../io/garp.ts';
import { macBytes, macText } from '../io/wire.ts';
import { withRealtimeBoost } from '../io/thread-priority.ts';
import { bootVrrpWorker, type BootedVrrpWorker } from './vrrp-boot.ts';
import { NftVipFirewall, type FirewallAddress, type VipFirewallControl } from './vip-firewall.ts';

export interface TransitionEvent {
  readonly instance: string;
  readonly vrid: number;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  readonly priority: number;
  readonly at: number;
}

export interface VrrpHostEvents {
  transition: [TransitionEvent];
  'worker-event': [Extract<FromVrrp, { type: 'event' }>];
}


/** back-off for worker restarts, ms */
const RESTART_DELAYS = [100, 500, 2000, 5000, 10000];

export class VrrpHost extends EventEmitter<VrrpHostEvents> {
  private worker?: Worker;
  private specs: VrrpInstanceSpec[] = [];
  private config: Config;
  /** per instance: the addresses this process put into the kernel (removed on release/stop) */
  private readonly owned = new Map<string, { addrs: AddressSpec[]; routes: RouteSpec[]; rules?: RuleSpec[] }>();
  /** per instance: VMAC links this process created */
  private readonly vmacs = new Map<string, string>();
  private readonly pending = new Map<number, (msg: FromVrrp) => void>();
  private nextRequestId = 1;
  private restarts = 0;
  /**
   * Transitions and worker events, held until the daemon's services listen (listen()): the
   * worker starts while the rest of the daemon is still loading, and its first transitions
   * must still reach the notify scripts and the log.
   */
  private held: Array<Extract<FromVrrp, { type: 'transition' | 'event' }>> | undefined = [];
  /** a worker was started before: only the first one counts its start from exec */
  private spawned = false;
  private stopping = false;
  private lastStatus: InstanceStatus[] = [];
  /** packets the worker dropped before tying them to an instance, by reason */
  unattributedDrops: Readonly<Record<string, number>> = {};
  /** the VRRP thread's V8 heap at the last status reply */
  workerHeap: IsolateHeap | undefined;
  /** the latest tracking verdict per instance, replayed to a restarted worker */
  private readonly tracks = new Map<string, Extract<ToVrrp, { type: 'track' }>>();
  /** serialises kernel work per instance: take-over and release must apply in order */
  private readonly queues = new Map<string, Promise<void>>();
  /**
   * per instance: an AF_PACKET sender on its garp link, for the first gratuitous ARP / NA of
   * a take-over, sent the moment each address is in (the worker would hear of it one
   * thread hop later). Keyed by instance; the link it was opened on is kept to notice a change.
   */
  private readonly announcers = new Map<string, { sender: GarpSender; ifindex: number; mac: string }>();
  /** see takeOver(); null once it failed to open */
  private adder: SyncAddressAdder | null | undefined;
  /** global_defs `nftables` (or vrrp_iptables): drop rules for the VIPs of a no-accept master */
  private firewall: { control: VipFirewallControl; key: string } | undefined;
  /** unsubscribes from the kernel's deletions (owned-deletion.ts) */
  private unwatchDeletions: (() => void) | undefined;

  constructor(
    private readonly net: NetControl,
    config: Config,
    private readonly log: Logger,
  ) {
    super();
    this.config = config;
  }

  /** `booted`: the worker the daemon started before loading the rest of itself (vrrp-boot.ts) */
  async start(booted?: BootedVrrpWorker): Promise<void> {
    await this.configureFirewall(this.config);
    try {
      this.specs = await this.resolveSpecs(this.config);
    } catch (e) {
      if (booted) await booted.worker.terminate();
      throw e;
    }
    await this.spawn(booted);
    try {
      this.unwatchDeletions = this.net.watchDeletions((d) => this.onDeletion(d));
    } catch (e) {
      this.log.warn({ event: 'vrrp.deletion-watch-failed', err: (e as Error).message }, 'cannot watch the kernel for deleted VIPs, routes and rules; a deletion goes unnoticed');
    }
  }

  /** keepalived: a tracked VIP, virtual route or rule deleted by someone else makes its master step down and come back. */
  private onDeletion(d: Deletion): void {
    for (const [name, held] of this.owned) {
      const inst = this.instance(name);
      const reason = inst && lostOwned(inst, held, d);
      if (reason === undefined) continue;
      this.log.warn({ event: 'vrrp.owned-deleted', instance: name, reason }, `${reason} by someone else; stepping down to put it back`);
      const msg: ToVrrp = { type: 'lost-owned', instance: name, reason };
      this.worker?.postMessage(msg);
    }
  }

  /** Delivers what was held for the listeners now attached, and everything from now on as it comes. */
  listen(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const m of held) {
      if (m.type === 'transition') this.emit('transition', m);
      else this.emit('worker-event', m);
    }
  }

  /** Applies a new config: unchanged instances keep state, timers and VIPs. */
  async reconfigure(config: Config): Promise<void> {
    const specs = await this.resolveSpecs(config);
    const removed = this.specs.filter((s) => !specs.some((n) => n.instance.name === s.instance.name));
    // Only new or changed specs cross to the worker; unchanged ones go by name.
    const before = new Map(this.specs.map((s) => [s.instance.name, JSON.stringify(s)]));
    const keep: string[] = [];
    const changed: VrrpInstanceSpec[] = [];
    for (const s of specs) {
      if (before.get(s.instance.name) === JSON.stringify(s)) keep.push(s.instance.name);
      else changed.push(s);
    }
    this.config = config;
    this.specs = specs;
    await this.configureFirewall(config);
    // New, changed (updated or restarted in the worker) and removed instances get their
    // tracking verdict again: services re-applies tracking right after this.
    const kept = new Set(keep);
    for (const name of [...this.tracks.keys()]) if (!kept.has(name)) this.tracks.delete(name);
    this.log.info({ event: 'vrrp.reconfigure', unchanged: keep.length, changed: changed.length }, `VRRP: ${changed.length} instance(s) new or changed, ${keep.length} unchanged`);
    if (this.worker) await this.request({ type: 'reconfigure', requestId: 0, instances: changed, keep, syncGroups: config.vrrpSyncGroups });
    // The worker released removed instances' VIPs already (it runs `release` for a master);
    // VMACs and anything left over go here.
    for (const s of removed) {
      await this.releaseInstance(s.instance.name);
      await this.dropVmac(s.instance.name);
      this.closeAnnouncer(s.instance.name);
    }
    // Changed VIP sets of a MASTER: the worker's in-place update re-announces; make the
    // kernel match for instances we hold.
    for (const s of specs) {
      const held = this.owned.get(s.instance.name);
      if (held) await this.enqueue(s.instance.name, () => this.syncHeld(s.instance));
    }
  }

  /**
   * The tracking verdict for an instance. Sent to the worker only when it differs from the
   * last one: a reload re-computes every instance's verdict, and 500 unchanged ones would
   * otherwise reach the VRRP thread as one burst of messages while adverts are due.
   */
  setTrack(instance: string, priority: number, fault: boolean, reason: string): void {
    const prev = this.tracks.get(instance);
    if (prev && prev.priority === priority && prev.fault === fault && prev.reason === reason) return;
    const msg: ToVrrp = { type: 'track', instance, priority, fault, reason };
    this.tracks.set(instance, msg);
    this.worker?.postMessage(msg);
  }

  async status(): Promise<InstanceStatus[]> {
    if (!this.worker) return this.lastStatus;
    try {
      const reply = await this.request({ type: 'status-request', requestId: 0 }, 2000);
      if (reply.type === 'status') {
        this.lastStatus = [...reply.instances];
        this.unattributedDrops = reply.unattributedDrops;
        this.workerHeap = reply.heap;
      }
    } catch {
      /* a busy or dead worker: report what we had */
    }
    return this.lastStatus;
  }

  /** Failover drill: the worker is terminated as if it had crashed; the crash path releases and restarts. */
  async crashWorker(): Promise<{ restarting: boolean }> {
    if (!this.worker) return { restarting: false };
    this.log.warn({ event: 'worker.drill', worker: 'vrrp' }, 'terminating the VRRP worker on request (failover drill)');
    await this.worker.terminate();
    return { restarting: true };
  }

  /** Graceful stop: priority 0 from every master, VIPs and VMACs removed. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopping = true;
    this.unwatchDeletions?.();
    this.unwatchDeletions = undefined;
    if (this.worker) {
      try {
        await this.request({ type: 'stop', requestId: 0 }, timeoutMs);
      } catch (e) {
        this.log.warn({ event: 'vrrp.stop-timeout', err: (e as Error).message }, 'VRRP worker did not stop in time');
      }
      await this.worker.terminate();
      delete this.worker;
    }
    for (const name of [...this.owned.keys()]) await this.releaseInstance(name);
    for (const name of [...this.vmacs.keys()]) await this.dropVmac(name);
    for (const name of [...this.announcers.keys()]) this.closeAnnouncer(name);
    this.adder?.close();
    this.adder = undefined;
    await this.closeFirewall();
  }

  /**
   * Starts, keeps or replaces the VIP firewall for `config`. A changed table, priority or
   * counters setting gets a fresh table: the old one is deleted and every instance that
   * holds its VIPs is filled in again (at start nothing is held: a table a crashed run left
   * is deleted, as keepalived does before its first use).
   */
  private async configureFirewall(config: Config): Promise<void> {
    const fw = config.globalDefs.vipFirewall;
    const key = JSON.stringify(fw ?? null);
    if (this.firewall?.key === key) return;
    await this.closeFirewall();
    if (fw === undefined) return;
    const control = new NftVipFirewall(fw);
    this.firewall = { control, key };
    try {
      await control.close();
    } catch (e) {
      this.log.warn({ event: 'vrrp.firewall-failed', table: fw.table, err: (e as Error).message }, `cannot reset nftables table ${fw.table}`);
    }
    // changed accept modes and VIP lists of held instances are synced by reconfigure's syncHeld
  }

  private async closeFirewall(): Promise<void> {
    const fw = this.firewall;
    if (fw === undefined) return;
    this.firewall = undefined;
    try {
      await fw.control.close();
    } catch (e) {
      this.log.warn({ event: 'vrrp.firewall-failed', err: (e as Error).message }, 'cannot delete the VIP firewall tables');
    }
  }

  /**
   * The drop rules for a MASTER's VIPs: what the firewall holds for instance `name` becomes
   * the VIPs of `inst` (the instance it now holds) when that is neither the address owner
   * nor in accept mode, else nothing (`inst` undefined: released).
   * A failure is logged, not thrown: the VIPs still move (keepalived logs and carries on).
   */
  private async syncFirewall(name: string, inst: VrrpInstance | undefined): Promise<void> {
    const fw = this.firewall;
    if (fw === undefined) return;
    const block = inst !== undefined && !inst.accept && inst.priority !== 255;
    const addrs: FirewallAddress[] = [];
    if (block) {
      for (const v of [...inst.virtualIpaddress, ...inst.virtualIpaddressExcluded]) {
        const ifname = this.addrSpec(inst, v).ifname;
        const link = v.family === 6 && v.address.toLowerCase().startsWith('fe') ? await this.net.getLink(ifname) : undefined;
        const fwc = this.config.globalDefs.vipFirewall;
        addrs.push({
          address: v.address,
          family: v.family,
          ifname,
          ...(link ? { ifindex: link.ifindex } : {}),
          ...(fwc?.ifindex !== true && inst.dontTrackPrimary ? { byName: true } : {}),
        });
      }
    }
    try {
      await fw.control.hold(name, addrs);
      if (addrs.length > 0) this.log.info({ event: 'vrrp.firewall-set', instance: name, count: addrs.length }, 'nftables drop rules set for the VIPs (no accept mode)');
    } catch (e) {
      this.log.error({ event: 'vrrp.firewall-failed', instance: name, err: (e as Error).message }, 'cannot set the nftables drop rules for the VIPs');
    }
  }

  private async spawn(booted?: BootedVrrpWorker): Promise<void> {
    const boot = booted ?? bootVrrpWorker(this.config);
    const { worker, fdLedger } = boot;
    const early = boot.adopt();
    if (early.error || early.exitCode !== undefined) {
      throw new Error(`VRRP worker failed while starting: ${early.error?.message ?? `exit code ${String(early.exitCode)}`}`);
    }
    this.worker = worker;
    worker.on('message', (msg: FromVrrp) => this.onMessage(msg));
    for (const m of early.messages) this.onMessage(m as FromVrrp);
    worker.on('error', (err) => this.log.error({ event: 'worker.error', worker: 'vrrp', err: err.message }, 'VRRP worker failed'));
    worker.on('exit', (code) => {
      const closed = closeLedgerFds(fdLedger);
      if (closed > 0) this.log.debug({ event: 'worker.fds-closed', worker: 'vrrp', count: closed }, 'closed sockets left by the VRRP worker');
      void this.onExit(worker, code);
    });
    const ready = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('VRRP worker did not answer init within 10 s')), 10_000);
      const onMsg = (m: FromVrrp): void => {
        if (m.type === 'ready') {
          clearTimeout(t);
          worker.off('message', onMsg);
          resolve();
        }
      };
      worker.on('message', onMsg);
    });
    // The daemon's first start counts its master-down waits from exec (performance.timeOrigin
    // of the main thread is the process's start); a restarted worker waits them in full.
    const first = !this.spawned;
    this.spawned = true;
    worker.postMessage({
      type: 'init',
      version: IPC_VERSION,
      instances: this.specs,
      syncGroups: this.config.vrrpSyncGroups,
      ...(first ? { daemonStartedAt: performance.timeOrigin } : {}),
    } satisfies ToVrrp);
    await ready;
    for (const t of this.tracks.values()) worker.postMessage(t);
  }

  private async onExit(worker: Worker, code: number): Promise<void> {
    if (this.worker !== worker) return;
    delete this.worker;
    for (const [, resolve] of this.pending) resolve({ type: 'stopped', requestId: -1 });
    this.pending.clear();
    if (this.stopping) return;
    this.log.error({ event: 'worker.exit', worker: 'vrrp', code }, 'VRRP worker exited; releasing all VIPs before restarting it');
    // Until the new worker answers, nothing here is MASTER (or anything else): say so in status and metrics.
    this.lastStatus = this.lastStatus.map((st) => ({ ...st, state: 'INIT' as const }));
    for (const name of [...this.owned.keys()]) await this.releaseInstance(name);
    const delay = RESTART_DELAYS[Math.min(this.restarts, RESTART_DELAYS.length - 1)] ?? 10_000;
    this.restarts++;
    setTimeout(() => {
      if (this.stopping) return;
      this.log.warn({ event: 'worker.restart', worker: 'vrrp', attempt: this.restarts }, 'restarting VRRP worker');
      this.spawn().catch((e: Error) => this.log.error({ event: 'worker.restart-failed', err: e.message }, 'VRRP worker restart failed'));
    }, delay).unref();
  }

  private onMessage(msg: FromVrrp): void {
    switch (msg.type) {
      case 'ready':
        return;
      case 'transition':
        if (msg.to === 'MASTER') this.restarts = 0;
        if (this.held) this.held.push(msg);
        else this.emit('transition', msg);
        return;
      case 'take-over':
        // Answer first, log after: the worker sends the rest of the gratuitous ARPs on this
        // answer, and a log line (a synchronous write) would only delay them.
        void this.enqueue(msg.instance, () => this.takeOver(msg.instance)).then(
          (announced) => {
            this.reply(msg.requestId, true, undefined, announced);
            this.log.info({ event: 'vrrp.vips-added', instance: msg.instance, count: this.owned.get(msg.instance)?.addrs.length ?? 0 }, 'virtual addresses added');
          },
          (e: Error) => this.reply(msg.requestId, false, e.message),
        );
        return;
      case 'release':
        void this.enqueue(msg.instance, () => this.releaseInstance(msg.instance)).then(
          () => this.reply(msg.requestId, true),
          (e: Error) => this.reply(msg.requestId, false, e.message),
        );
        return;
      case 'reconfigured':
      case 'status':
      case 'stopped': {
        const resolve = this.pending.get(msg.requestId);
        this.pending.delete(msg.requestId);
        resolve?.(msg);
        return;
      }
      case 'event':
        if (this.held) this.held.push(msg);
        else this.emit('worker-event', msg);
        return;
      default:
        assertNever(msg);
    }
  }

  private reply(requestId: number, ok: boolean, error?: string, announced = false): void {
    this.worker?.postMessage({
      type: 'vips-done',
      requestId,
      ok,
      ...(error !== undefined ? { error } : {}),
      ...(announced ? { announced } : {}),
    } satisfies ToVrrp);
  }

  private request(msg: Extract<ToVrrp, { requestId: number }>, timeoutMs = 5000): Promise<FromVrrp> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error('VRRP worker is not running'));
    const requestId = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`VRRP worker did not answer ${msg.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(requestId, (m) => {
        clearTimeout(t);
        resolve(m);
      });
      worker.postMessage({ ...msg, requestId });
    });
  }

  private enqueue<T>(instance: string, work: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(instance) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(work);
    this.queues.set(instance, next.then(() => undefined, () => undefined));
    return next;
  }

  private instance(name: string): VrrpInstance | undefined {
    return this.config.vrrpInstances.find((i) => i.name === name);
  }

  private addrSpec(inst: VrrpInstance, v: VirtualAddress): AddressSpec {
    const ifname = v.dev ?? this.vmacs.get(inst.name) ?? inst.interface;
    return {
      ifname,
      address: v.address,
      prefixLen: v.prefixLen,
      family: v.family,
      ...(v.label !== undefined ? { label: v.label } : {}),
      ...(v.scope !== undefined ? { scope: v.scope } : {}),
      ...(v.broadcast !== undefined ? { broadcast: v.broadcast } : {}),
      ...(v.peer !== undefined ? { peer: v.peer } : {}),
      ...(v.noPrefixRoute !== undefined ? { noPrefixRoute: v.noPrefixRoute } : {}),
    };
  }

  private routeSpec(inst: VrrpInstance, r: VrrpInstance['virtualRoutes'][number]): RouteSpec {
    return routeSpec(r, inst.interface);
  }

  /**
   * Adds the instance's addresses and routes. Each address goes in through a synchronous
   * RTM_NEWADDR when it is on the instance's own link (no event-loop turn between the
   * worker's request and the kernel), and each virtual_ipaddress gets its first gratuitous
   * ARP / NA right after — keepalived's order. Resolves true when every one was announced
   * here (the worker then sends one round fewer).
   */
  private async takeOver(name: string): Promise<boolean> {
    const inst = this.instance(name);
    if (!inst) return false;
    // keepalived sets the drop rules before the addresses: no moment answers on them
    await this.syncFirewall(name, inst);
    const held = this.owned.get(name) ?? { addrs: [], routes: [] };
    this.owned.set(name, held);
    const errors: string[] = [];
    const link = this.specs.find((s) => s.instance.name === name)?.garpLink;
    const adder = this.syncAdder();
    // With garp pacing (vrrp_garp_interval, garp_group) the worker spaces every announcement itself.
    const announcer = link && inst.garpMasterRepeat > 0 && inst.garpPacing === undefined ? this.announcer(name, link) : undefined;
    let announced = announcer !== undefined;
    const announce = new Set(inst.virtualIpaddress);
    /** One gratuitous ARP / NA for `v` while every VIP so far got one; after a failure the worker sends the full count. */
    const announceOne = (v: VirtualAddress): void => {
      if (!announcer || !announced || !announce.has(v)) return;
      try {
        if (v.family === 4) announcer.sendArp(v.address);
        else announcer.sendNa(v.address);
      } catch {
        announced = false; // the worker's burst counts its own failures
      }
    };
    for (const v of [...inst.virtualIpaddress, ...inst.virtualIpaddressExcluded]) {
      const spec = this.addrSpec(inst, v);
      let added = false;
      if (adder && link && spec.ifname === link.ifname) {
        // The add and the first announcement back to back, at realtime priority for these
        // few µs, so that no other task on a busy host gets in between them.
        withRealtimeBoost(1, () => {
          try {
            adder.add(spec, link.ifindex);
          } catch {
            return; // e.g. the link was re-created under a new index: the async path resolves it by name and says why
          }
          added = true;
          announceOne(v);
        });
      }
      if (!added) {
        try {
          await this.net.addAddress(spec);
        } catch (e) {
          announced = false;
          errors.push(`${v.address}: ${(e as Error).message}`);
          continue;
        }
        announceOne(v);
      }
      if (!held.addrs.some((a) => a.address === spec.address && a.ifname === spec.ifname)) held.addrs.push(spec);
    }
    for (const r of inst.virtualRoutes) {
      const spec = this.routeSpec(inst, r);
      try {
        await this.net.addRoute(spec);
        held.routes.push(spec);
      } catch (e) {
        errors.push(`route ${r.to}/${r.prefixLen}: ${(e as Error).message}`);
      }
    }
    for (const r of inst.virtualRules ?? []) {
      const spec = ruleSpec(r);
      try {
        await this.net.addRule(spec);
        (held.rules ??= []).push(spec);
      } catch (e) {
        errors.push(`rule ${describeRule(spec)}: ${(e as Error).message}`);
      }
    }
    if (errors.length > 0) throw new Error(errors.join('; '));
    return announced;
  }

  /** The synchronous address adder, opened on first use; undefined (logged once) if it cannot open. */
  private syncAdder(): SyncAddressAdder | undefined {
    if (this.adder === undefined) {
      try {
        this.adder = openSyncAddressAdder();
      } catch (e) {
        this.adder = null;
        this.log.warn({ event: 'vrrp.sync-netlink-failed', err: (e as Error).message }, 'synchronous rtnetlink socket unavailable; addresses go through the async client');
      }
    }
    return this.adder ?? undefined;
  }

  /** The instance's take-over announcer on `link`, (re)opened when the link changed; undefined if it cannot open. */
  private announcer(name: string, link: LinkSpec): GarpSender | undefined {
    const have = this.announcers.get(name);
    if (have && have.ifindex === link.ifindex && have.mac === link.mac) return have.sender;
    this.closeAnnouncer(name);
    try {
      const sender = openGarpSender({ ifname: link.ifname, ifindex: link.ifindex, mac: macBytes(link.mac) });
      this.announcers.set(name, { sender, ifindex: link.ifindex, mac: link.mac });
      return sender;
    } catch (e) {
      this.log.warn({ event: 'vrrp.garp-failed', instance: name, err: (e as Error).message }, 'cannot open the gratuitous ARP socket on the main thread; the worker announces alone');
      return undefined;
    }
  }

  private closeAnnouncer(name: string): void {
    this.announcers.get(name)?.sender.close();
    this.announcers.delete(name);
  }

  /** Removes what this process added for the instance, routes first. */
  private async releaseInstance(name: string): Promise<void> {
    const held = this.owned.get(name);
    if (!held) return;
    this.owned.delete(name);
    const errors: string[] = [];
    for (const r of held.rules ?? []) {
      try {
        await this.net.removeRule(r);
      } catch (e) {
        errors.push(`rule ${describeRule(r)}: ${(e as Error).message}`);
      }
    }
    for (const r of held.routes) {
      try {
        await this.net.removeRoute(r);
      } catch (e) {
        errors.push(`route ${r.to}: ${(e as Error).message}`);
      }
    }
    for (const a of held.addrs) {
      try {
        await this.net.removeAddress(a);
      } catch (e) {
        errors.push(`${a.address}: ${(e as Error).message}`);
      }
    }
    this.log.info({ event: 'vrrp.vips-removed', instance: name, count: held.addrs.length }, 'virtual addresses removed');
    await this.syncFirewall(name, undefined);
    if (errors.length > 0) throw new Error(errors.join('; '));
  }

  /** After a reload: a held instance's kernel addresses follow its new VIP list. */
  private async syncHeld(inst: VrrpInstance): Promise<void> {
    const held = this.owned.get(inst.name);
    if (!held) return;
    await this.syncFirewall(inst.name, inst);
    const want = [...inst.virtualIpaddress, ...inst.virtualIpaddressExcluded].map((v) => this.addrSpec(inst, v));
    for (const a of held.addrs) {
      if (!want.some((w) => w.address === a.address && w.ifname === a.ifname)) await this.net.removeAddress(a);
    }
    for (const w of want) {
      if (!held.addrs.some((a) => a.address === w.address && a.ifname === w.ifname)) await this.net.addAddress(w);
    }
    held.addrs = want;
  }

  private async dropVmac(name: string): Promise<void> {
    const link = this.vmacs.get(name);
    if (link === undefined) return;
    this.vmacs.delete(name);
    try {
      await this.net.deleteLink(link);
    } catch (e) {
      this.log.warn({ event: 'vrrp.vmac-remove-failed', instance: name, link, err: (e as Error).message }, 'could not remove VMAC');
    }
  }

  /** Interface facts the worker needs, read over netlink; VMACs created here. */
  private async resolveSpecs(config: Config): Promise<VrrpInstanceSpec[]> {
    const specs: VrrpInstanceSpec[] = [];
    const addrs = await this.net.listAddresses();
    const vips = new Set(config.vrrpInstances.flatMap((i) => i.virtualIpaddress.map((v) => v.address)));
    for (const inst of config.vrrpInstances) {
      const base = await this.net.getLink(inst.interface);
      if (!base) {
        this.log.error({ event: 'vrrp.no-interface', instance: inst.name, interface: inst.interface }, 'interface not found; instance not started');
        continue;
      }
      const own = addrs.filter((a) => a.ifname === inst.interface && a.family === inst.family && !vips.has(a.address));
      const primary =
        inst.unicastSrcIp ??
        inst.mcastSrcIp ??
        (inst.family === 6 ? own.find((a) => a.address.startsWith('fe80'))?.address : own[0]?.address);
      if (primary === undefined) {
        this.log.error(
          { event: 'vrrp.no-address', instance: inst.name, interface: inst.interface },
          `interface ${inst.interface} has no IPv${inst.family} address to send adverts from; instance not started`,
        );
        continue;
      }
      const baseLink: LinkSpec = { ifname: base.ifname, ifindex: base.ifindex, mac: macText(base.mac), primaryAddress: primary };
      let link = baseLink;
      let garpLink = baseLink;
      if (inst.useVmac) {
        const mac = vrrpVirtualMac(inst.virtualRouterId, inst.family);
        await this.net.addMacvlan(inst.interface, inst.useVmac.name, mac);
        this.vmacs.set(inst.name, inst.useVmac.name);
        const v = await this.net.getLink(inst.useVmac.name);
        if (v) {
          const vlink: LinkSpec = { ifname: v.ifname, ifindex: v.ifindex, mac: macText(v.mac), primaryAddress: primary };
          garpLink = vlink;
          if (!inst.vmacXmitBase) link = vlink;
        }
      }
      specs.push({
        instance: inst,
        link,
        garpLink,
        mcastGroup: inst.family === 6 ? config.globalDefs.vrrpMcastGroup6 : config.globalDefs.vrrpMcastGroup4,
      });
    }
    return specs;
  }
}

