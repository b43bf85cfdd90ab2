/**
 * Everything the supervisor runs around VRRP: tracking (vrrp_script, track_interface),
 * notify scripts and mail on transitions, health checkers and IPVS, metrics, the control
 * socket and the state dumps. One object so that the daemon's lifecycle reads in one place.
 */
import type { Piscina } from 'piscina';
import { checkerWorkerFile, poolCheckRunner } from '../check/pool.ts';
import { SpawnerHost } from '../check/spawner.ts';
import type { RunScriptOptions, ScriptResult } from '../check/script-runner.ts';
import type { UserResolver } from '../check/targets.ts';
import { ScriptTracker } from '../check/vrrp-script.ts';
import type { Config, ScriptCommand } from '../config/model.ts';
import type { InstanceStatus, IsolateHeap } from '../ipc/messages.ts';
import { isolateHeap, processMemory } from '../io/isolate-heap.ts';
import type { NetControl } from '../netlink/net-control.ts';
import { startControlServer, type ControlServer } from './control-socket.ts';
import { writeDump, type InstanceView, type VigilStatus } from './dumps.ts';
import { child, LogEvent, type Logger } from './logger.ts';
import { withdrawGraceMs } from '../lvs/announce.ts';
import { LvsHost } from './lvs-host.ts';
import { createMailer, effectiveRouterId, vrrpInstanceAlert, vrrpGroupAlert, type Mailer } from './mail.ts';
import { createMetrics, startMetricsServer, type Metrics, type MetricsServer, type VrrpStateName } from './metrics.ts';
import { createNotifier, createScriptPreparer, type Notifier, type VrrpNotifyState } from './notify.ts';
import type { DaemonOptions } from './options.ts';
import { checkScript, defaultScriptUser, mayRun, resolveUser, type ScriptUser } from './script-security.ts';
import { LvsSync, lvsSyncSpec } from './lvs-sync.ts';
import { StaticState } from './static-state.ts';
import { Tracking } from './tracking.ts';
import type { TransitionEvent, VrrpHost } from './vrrp-host.ts';

export interface ServicesDeps {
  readonly log: Logger;
  readonly opts: DaemonOptions;
  readonly net: NetControl;
  readonly vrrp?: VrrpHost;
}

/** How often the worker's counters are folded into the Prometheus registry (ms); scrapes are usually 15 s apart. */
const METRICS_REFRESH_MS = 2000;
/**
 * MB: upper bound of each checker thread's young generation (1 MB semi-spaces, as the VRRP
 * thread's). With 6, bench/soak saw the thread's new space double to 2 MB a few minutes in,
 * and keep it; scavenging a 1 MB semi-space every few seconds costs nothing measurable (the
 * checker pool lab: 590–690 ms of CPU for 1,000 attempts with either bound).
 */
const CHECKER_YOUNG_GENERATION_MB = 3;

export type ReloadHandler = () => Promise<{ ok: boolean; diagnostics: string[] }>;

export class Services {
  private config!: Config;
  private reloadHandler?: ReloadHandler;
  private readonly vlog: Logger;
  private readonly reloads = { ok: 0, refused: 0, failed: 0 };
  private readonly metrics: Metrics = createMetrics();
  private notifier!: Notifier;
  private mailer!: Mailer;
  /** scripts (posix_spawn from this process) and PING_CHECK (a process of its own): src/check/spawner.ts */
  private readonly spawner: SpawnerHost;
  /**
   * HTTP_GET/SSL_GET/TCP/DNS checks run here; started with the first check, so a config
   * without checkers never pays for the thread (~24 MB with undici loaded, bench/footprint).
   */
  private checkerPool?: Piscina;
  private checkerPoolStarting?: Promise<Piscina>;
  private tracking?: Tracking;
  /** static_ipaddress / static_routes / static_rules, with the VRRP side */
  private staticState?: StaticState;
  /** lvs_sync_daemon: the IPVS sync daemon following one instance */
  private lvsSync?: LvsSync;
  private lvs?: LvsHost;
  private control: ControlServer | undefined;
  private metricsServer?: MetricsServer;
  private metricsPoll: NodeJS.Timeout | undefined;
  private metricsPolling = false;
  private readonly startedAt = new Date().toISOString();
  private readonly lastTransition = new Map<string, string>();
  /** worker counters last seen, to turn absolute numbers into counter increments */
  private readonly seen = new Map<string, { sent: number; received: number; dropped: Record<string, number> }>();
  private seenUnattributed: Record<string, number> = {};
  private users = new Map<string, ScriptUser>();
  private defaultUser: ScriptUser | undefined;

  constructor(private readonly deps: ServicesDeps) {
    this.vlog = child(deps.log, 'vrrp');
    // Checks wait on sockets: many tasks per thread; the runners' own deadlines bound each one.
    // Scripts start through posix_spawn: this address space is never forked.
    this.spawner = new SpawnerHost((event, detail) => deps.log.warn({ event }, detail));
    deps.vrrp?.on('transition', (t) => this.onTransition(t));
    deps.vrrp?.on('worker-event', (e) => {
      const fields = { event: e.event, ...(e.instance !== undefined ? { instance: e.instance } : {}), ...e.fields };
      this.vlog[e.level](fields, e.event);
    });
  }

  /**
   * Notifier and mailer for this config (globals: FIFOs, script user, SMTP settings). On a
   * reload the previous pair finishes what it has queued and is then closed, so FIFOs and
   * SMTP queues do not pile up.
   */
  configure(config: Config): void {
    this.config = config;
    if (this.notifier !== undefined) retire(this.notifier, this.mailer);
    this.notifier = createNotifier({
      globals: config.globalDefs,
      prepare: createScriptPreparer(config.globalDefs, child(this.deps.log, 'notify')),
      log: child(this.deps.log, 'notify'),
      onResult: (r) => this.metrics.notifyScripts.inc({ result: r }),
      // Through the spawner too (posix_spawn): a fork of this process at a take-over would
      // stall the VRRP thread and the first gratuitous ARP (bench/fork-stall.ts).
      run: (argv, o) => this.runNotifyScript(argv, o),
    });
    this.mailer = createMailer(config.globalDefs, {
      log: child(this.deps.log, 'mail'),
      onResult: (r) => this.metrics.mails.inc({ result: r }),
    });
  }

  private async runNotifyScript(argv: readonly string[], o: RunScriptOptions): Promise<ScriptResult> {
    const started = Date.now();
    try {
      return await this.spawner.run({
        kind: 'script',
        argv,
        timeoutMs: o.timeoutMs,
        ...(o.graceMs !== undefined ? { graceMs: o.graceMs } : {}),
        ...(o.uid !== undefined ? { uid: o.uid } : {}),
        ...(o.gid !== undefined ? { gid: o.gid } : {}),
      });
    } catch (e) {
      // the daemon is stopping: the script did not run
      this.deps.log.warn({ event: 'spawner.failed', argv, err: (e as Error).message }, 'notify script not run');
      return { exitCode: null, signal: null, timedOut: false, durationMs: Date.now() - started, output: '', error: 'VIGIL_SPAWNER' };
    }
  }

  async start(): Promise<void> {
    await this.resolveUsers(this.config);
    const resolve = this.userResolver();
    if (this.deps.vrrp) {
      this.staticState = new StaticState(this.deps.net, child(this.deps.log, 'static'));
      await this.staticState.apply(this.config);
      const sync = lvsSyncSpec(this.config);
      if (sync.error !== undefined) this.deps.log.error({ event: 'lvs.sync-config' }, sync.error);
      if (sync.spec !== undefined) {
        this.lvsSync = new LvsSync(sync.spec, child(this.deps.log, 'lvs'));
        await this.lvsSync.start();
      }
      const tracker = new ScriptTracker({ run: (task) => this.spawner.run(task) });
      this.tracking = new Tracking(tracker, this.deps.net, this.deps.vrrp, child(this.deps.log, 'track'), resolve);
      await this.tracking.start(this.runnable(this.config));
    }
    if (!this.deps.opts.vrrpOnly) {
      this.lvs = new LvsHost({
        log: child(this.deps.log, 'lvs'),
        notifier: () => this.notifier,
        mailer: () => this.mailer,
        metrics: this.metrics,
        runCheck: poolCheckRunner({ run: async (task) => (await this.startCheckerPool()).run(task) }, { run: (task) => this.spawner.run(task) }),
        resolveUser: resolve,
      });
      await this.lvs.start(this.runnable(this.config));
    }
    this.control = await startControlServer({
      path: this.deps.opts.controlSocket,
      handlers: {
        status: async () => this.status(),
        reload: async () => {
          if (!this.reloadHandler) return { ok: false, diagnostics: ['not ready'] };
          return this.reloadHandler();
        },
        ...(this.deps.vrrp ? { restartVrrpWorker: () => this.deps.vrrp!.crashWorker() } : {}),
        drain: async () => this.setDrained(true),
        undrain: async () => this.setDrained(false),
      },
      onError: (e) => this.deps.log.warn({ event: LogEvent.controlError, err: e.message }, 'control socket error'),
    }).catch((e: Error) => {
      this.deps.log.error({ event: LogEvent.controlError, path: this.deps.opts.controlSocket, err: e.message }, 'control socket not started');
      return undefined;
    });
    if (this.deps.opts.metricsListen !== undefined) {
      this.metricsServer = await startMetricsServer(this.deps.opts.metricsListen, this.metrics.registry);
      this.deps.log.info({ event: LogEvent.metricsListen, address: this.metricsServer.address }, 'metrics listening');
      // The advert and drop counters live in the VRRP worker and reach the registry only
      // through a status reply; prom-client reads its values synchronously, so a scrape cannot
      // wait for the worker. Poll instead, so a scrape is at most METRICS_REFRESH_MS old.
      this.metricsPoll = setInterval(() => void this.refreshMetrics(), METRICS_REFRESH_MS);
      this.metricsPoll.unref();
    }
  }

  private startCheckerPool(): Promise<Piscina> {
    this.checkerPoolStarting ??= import('piscina').then(({ Piscina }) => {
      this.checkerPool = new Piscina({
        filename: checkerWorkerFile(),
        minThreads: 1,
        maxThreads: 2,
        concurrentTasksPerWorker: 256,
        // No advert depends on a checker thread's pauses: a small young generation (scavenged
        // more often) instead of one grown to ~8 MB by undici's start-up (bench/footprint lvs100).
        resourceLimits: { maxYoungGenerationSizeMb: CHECKER_YOUNG_GENERATION_MB },
        // piscina's run/wait-time histograms: nothing reads them, and recording them was a
        // twentieth of the main thread's busy time with 100 real servers under HTTP_GET (--cpu-prof).
        recordTiming: false,
        // Tasks reach the thread as port messages, not through piscina's Atomics.wait loop:
        // that loop costs the main thread a futex wake per task, and it blocks the thread's
        // event loop between tasks, so its own timers (collectOnGrowth) run only while a task
        // does. 100 real servers under HTTP_GET, on the 2-core host with a second vigil running
        // beside it: main thread 1.01–1.06 → 0.89–0.92 % of a core, the checker thread
        // unchanged (2.1–2.4 %). Measured alone, only together with the check scheduler's slack
        // (README, "wake-ups per health check").
        atomics: 'disabled',
      });
      return this.checkerPool;
    });
    return this.checkerPoolStarting;
  }

  /** One status round trip to the VRRP worker, folded into the metrics; never overlapping. */
  private async refreshMetrics(): Promise<void> {
    if (this.metricsPolling || !this.deps.vrrp) return;
    this.metricsPolling = true;
    try {
      this.updateCounters(await this.deps.vrrp.status());
    } catch {
      /* a busy or restarting worker: the next poll catches up */
    } finally {
      this.metricsPolling = false;
    }
  }

  /** Reload: the new config is valid; apply only what changed. */
  async reconfigure(_prev: Config, next: Config): Promise<void> {
    this.configure(next);
    await this.resolveUsers(next);
    const runnable = this.runnable(next);
    this.tracking?.apply(runnable);
    await this.staticState?.apply(next);
    if (this.lvs) await this.lvs.reconfigure(runnable);
  }

  /** `vigil drain|undrain` (announce_route) */
  private async setDrained(drained: boolean): Promise<unknown> {
    if (!this.lvs) throw new Error('no virtual server has announce_route');
    return this.lvs.setDrained(drained);
  }

  /** Stop, first step: withdraw announced routes (announce_route) before anything else stops. */
  async withdrawAnnouncements(): Promise<void> {
    await this.lvs?.withdraw();
  }

  /** ms a stop keeps serving after the withdrawal: the longest withdraw_grace (0 without announcements). */
  withdrawGraceMs(): number {
    return withdrawGraceMs(this.config);
  }

  setReloadHandler(h: ReloadHandler): void {
    this.reloadHandler = h;
  }

  countReload(result: 'ok' | 'refused' | 'failed'): void {
    this.reloads[result]++;
    this.metrics.reloads.inc({ result });
  }

  async status(): Promise<VigilStatus> {
    const instances = (await this.deps.vrrp?.status()) ?? [];
    this.updateCounters(instances);
    const views: InstanceView[] = instances.map((s) => {
      const inst = this.config.vrrpInstances.find((i) => i.name === s.name);
      const last = this.lastTransition.get(s.name);
      return {
        ...s,
        vips: (inst?.virtualIpaddress ?? []).map((v) => `${v.address}/${v.prefixLen}${v.dev !== undefined ? ` dev ${v.dev}` : ''}`),
        ...(inst?.syncGroup !== undefined ? { syncGroup: inst.syncGroup } : {}),
        ...(inst ? { version: inst.version, advertIntMs: inst.advertIntMs, nopreempt: inst.nopreempt } : {}),
        ...(last !== undefined ? { lastTransition: last } : {}),
      };
    });
    return {
      pid: process.pid,
      routerId: effectiveRouterId(this.config.globalDefs),
      configFile: this.deps.opts.configFile,
      startedAt: this.startedAt,
      now: new Date().toISOString(),
      instances: views,
      syncGroups: this.config.vrrpSyncGroups.map((g) => ({
        name: g.name,
        members: g.members,
        state: views.find((v) => v.syncGroup === g.name)?.state ?? 'INIT',
      })),
      virtualServers: this.lvs?.status() ?? [],
      ...(this.lvs?.announceStatus() !== undefined ? { announce: this.lvs.announceStatus()! } : {}),
      reloads: { ...this.reloads },
      counters: {
        notifyScripts: this.notifier.stats.scripts,
        notifyFailed: this.notifier.stats.failed,
        mailsSent: this.mailer.stats.sent,
        mailsFailed: this.mailer.stats.failed,
        ipvsProgramming: this.lvs?.programming ? 1 : 0,
        ...Object.fromEntries(Object.entries(this.deps.vrrp?.unattributedDrops ?? {}).map(([k, v]) => [`droppedUnattributed.${k}`, v])),
      },
      memory: await this.memory(),
    };
  }

  /** the process's memory and each V8 heap (the VRRP thread's from the status reply above) */
  private async memory(): Promise<NonNullable<VigilStatus['memory']>> {
    const isolates: Record<string, IsolateHeap> = { main: isolateHeap() };
    const vrrpHeap = this.deps.vrrp?.workerHeap;
    if (vrrpHeap) isolates['vrrp'] = vrrpHeap;
    if (this.checkerPool) {
      try {
        isolates['checker'] = (await this.checkerPool.run(null, { name: 'isolateHeap' })) as IsolateHeap;
      } catch {
        /* a pool shutting down: leave it out */
      }
    }
    return { ...processMemory(), isolates };
  }

  async dump(kind: 'data' | 'stats' | 'json'): Promise<void> {
    try {
      const file = writeDump(kind, await this.status());
      this.deps.log.info({ event: LogEvent.dumpWritten, file }, `state dump written to ${file}`);
    } catch (e) {
      this.deps.log.error({ event: LogEvent.dumpFailed, err: (e as Error).message }, 'state dump failed');
    }
  }

  async stop(): Promise<void> {
    if (this.metricsPoll) clearInterval(this.metricsPoll);
    this.metricsPoll = undefined;
    this.tracking?.stop();
    await this.lvsSync?.stop();
    await this.staticState?.release();
    await this.lvs?.stop();
    await this.control?.close();
    await this.metricsServer?.close();
    // notify_stop scripts and the last alerts get their own deadlines inside the notifier/mailer
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([this.notifier.idle(), this.mailer.idle()]),
      new Promise((r) => (deadline = setTimeout(r, 3000))),
    ]);
    clearTimeout(deadline);
    this.notifier.close();
    this.mailer.close();
    await Promise.all([this.spawner.stop(), this.checkerPool?.destroy()]);
  }

  private onTransition(t: TransitionEvent): void {
    this.vlog.info(
      { event: LogEvent.vrrpTransition, instance: t.instance, vrid: t.vrid, from: t.from, to: t.to, reason: t.reason, priority: t.priority },
      `${t.instance} ${t.from} -> ${t.to}`,
    );
    this.lastTransition.set(t.instance, new Date(t.at).toISOString());
    void this.lvsSync?.onTransition(t.instance, t.to);
    this.metrics.vrrpTransitions.inc({ instance: t.instance, from: t.from, to: t.to });
    const state: VrrpNotifyState | undefined = t.to === 'INIT' ? 'STOP' : t.to === 'MASTER' || t.to === 'BACKUP' || t.to === 'FAULT' ? t.to : undefined;
    this.metrics.setState(t.instance, (t.to === 'INIT' ? 'STOP' : t.to) as VrrpStateName);
    this.metrics.vrrpEffectivePriority.set({ instance: t.instance }, t.priority);
    const inst = this.config.vrrpInstances.find((i) => i.name === t.instance);
    if (!inst || !state) return;
    // keepalived runs the instance's own scripts; a sync group's scripts run once, when the group moves
    this.notifier.vrrpInstance(inst, state, t.priority);
    const group = inst.syncGroup !== undefined ? this.config.vrrpSyncGroups.find((g) => g.name === inst.syncGroup) : undefined;
    if (group && group.members[0] === inst.name) this.notifier.vrrpGroup(group, state);
    const alert = inst.smtpAlert ?? this.config.globalDefs.smtpAlertVrrp ?? this.config.globalDefs.smtpAlert ?? false;
    if (alert && this.mailer.enabled && state !== 'STOP') {
      const routerId = effectiveRouterId(this.config.globalDefs);
      const a = group ? vrrpGroupAlert(routerId, group.name, state) : vrrpInstanceAlert(routerId, inst.name, state);
      if (!group || group.members[0] === inst.name) this.mailer.alert(a.subject, a.body);
    }
  }

  private updateCounters(instances: readonly InstanceStatus[]): void {
    for (const [reason, n] of Object.entries(this.deps.vrrp?.unattributedDrops ?? {})) {
      const before = this.seenUnattributed[reason] ?? 0;
      if (n > before) this.metrics.droppedPackets.inc({ reason }, n - before);
    }
    this.seenUnattributed = { ...(this.deps.vrrp?.unattributedDrops ?? {}) };
    for (const s of instances) {
      const prev = this.seen.get(s.name) ?? { sent: 0, received: 0, dropped: {} };
      if (s.advertsSent > prev.sent) this.metrics.advertsSent.inc({ instance: s.name }, s.advertsSent - prev.sent);
      if (s.advertsReceived > prev.received) this.metrics.advertsReceived.inc({ instance: s.name }, s.advertsReceived - prev.received);
      for (const [reason, n] of Object.entries(s.dropped)) {
        const before = prev.dropped[reason] ?? 0;
        if (n > before) this.metrics.droppedPackets.inc({ reason }, n - before);
      }
      this.seen.set(s.name, { sent: s.advertsSent, received: s.advertsReceived, dropped: { ...s.dropped } });
      this.metrics.vrrpPriority.set({ instance: s.name }, s.configuredPriority);
      this.metrics.vrrpEffectivePriority.set({ instance: s.name }, s.priority);
      this.metrics.setState(s.name, s.state === 'INIT' ? 'INIT' : s.state);
    }
  }

  /** script_user and per-script users, resolved once per (re)load so that scheduling never waits on getent. */
  private async resolveUsers(config: Config): Promise<void> {
    const scripts: ScriptCommand[] = [
      ...config.vrrpScripts.map((s) => s.script),
      ...config.virtualServers.flatMap((vs) => vs.realServers.flatMap((rs) => rs.checkers.flatMap((c) => (c.type === 'MISC_CHECK' ? [c.miscPath] : [])))),
    ];
    try {
      this.defaultUser = scripts.length > 0 ? (await defaultScriptUser(config.globalDefs)).user : undefined;
    } catch (e) {
      this.deps.log.error({ event: LogEvent.scriptInsecure, err: (e as Error).message }, 'no user to run scripts as; scripts run as this process');
      this.defaultUser = undefined;
    }
    const users = new Map<string, ScriptUser>();
    for (const s of scripts) {
      if (s.user === undefined) continue;
      const key = `${s.user}:${s.group ?? ''}`;
      if (users.has(key)) continue;
      try {
        users.set(key, await resolveUser(s.user, s.group));
      } catch (e) {
        this.deps.log.error({ event: LogEvent.scriptInsecure, user: s.user, err: (e as Error).message }, `unknown script user ${s.user}`);
      }
    }
    this.users = users;
  }

  /**
   * The config as the scripts may run it: a vrrp_script or MISC_CHECK whose file is unsafe
   * under enable_script_security (or missing) is disabled, as keepalived does — logged once
   * per (re)load, left out of tracking and checking.
   */
  private runnable(config: Config): Config {
    const ok = (cmd: ScriptCommand, what: string): boolean => {
      const user = cmd.user !== undefined ? this.users.get(`${cmd.user}:${cmd.group ?? ''}`) : this.defaultUser;
      if (!user) return true;
      const argv0 = cmd.argv[0];
      if (argv0 === undefined) return false;
      const c = checkScript(argv0, user, config.globalDefs.enableScriptSecurity);
      if (c.message !== undefined && c.status !== 'ok') {
        this.deps.log[mayRun(c) ? 'warn' : 'error']({ event: LogEvent.scriptInsecure, script: what, status: c.status, path: c.path }, c.message);
      }
      return mayRun(c);
    };
    const scripts = config.vrrpScripts.filter((s) => ok(s.script, `vrrp_script ${s.name}`));
    const virtualServers = config.virtualServers.map((vs) => ({
      ...vs,
      realServers: vs.realServers.map((rs) => ({
        ...rs,
        checkers: rs.checkers.filter((c) => c.type !== 'MISC_CHECK' || ok(c.miscPath, `MISC_CHECK ${rs.address}:${rs.port}`)),
      })),
    }));
    return { ...config, vrrpScripts: scripts, virtualServers };
  }

  private userResolver(): UserResolver {
    return (cmd) => {
      const u = cmd.user !== undefined ? this.users.get(`${cmd.user}:${cmd.group ?? ''}`) : this.defaultUser;
      if (!u || (u.uid === process.getuid?.() && u.gid === process.getgid?.())) return undefined;
      return { uid: u.uid, gid: u.gid };
    };
  }
}

/**
 * A notifier and mailer replaced by a reload finish what they have queued, then close. A
 * function of its own, not a closure inside configure(): V8 keeps one context for all the
 * closures of a scope, so the new pair's callbacks, created beside this one, would hold the
 * old pair, and every reload would keep the whole chain of its predecessors (bench/soak:
 * the main heap grew by ~0.2 MB a minute under a reload every 10 s).
 */
function retire(notifier: Notifier, mailer: Mailer): void {
  void Promise.all([notifier.idle(), mailer.idle()]).finally(() => {
    notifier.close();
    mailer.close();
  });
}
