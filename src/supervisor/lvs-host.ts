/**
 * The supervisor's side of LVS: health checks (scheduled here, run in the checker pool
 * or through the spawner, src/check/spawner.ts) decide which real servers are up; the desired IPVS table follows from the
 * config and those results; the reconciler makes the kernel equal to it with the fewest
 * changes. Transitions run notify_up/notify_down, quorum_up/quorum_down and mail alerts.
 *
 * A kernel without IPVS gets one clear error at start: checks, logs, notify scripts and
 * status keep working, nothing is programmed.
 */
import { CheckScheduler, type TransitionEvent as CheckTransition } from '../check/scheduler.ts';
import { targetsFromConfig, unsupportedOptions, type UserResolver } from '../check/targets.ts';
import type { AttemptResult, CheckTask } from '../check/task.ts';
import type { Config, RealServer, TrackFile } from '../config/model.ts';
import { fileCheckStatus } from '../check/track-file.ts';
import { TrackFileWatcher } from '../check/track-file-watch.ts';
import { computeDesired, desiredTimeouts, stopTransitions, vsStateKey, type CheckResult, type LvsState, type LvsTransition } from '../lvs/desired.ts';
import { realServerKey } from '../lvs/keys.ts';
import { applyPlan, describeOp, emptyOwned, planReconcile, planStop, readActual, type Owned } from '../lvs/reconcile.ts';
import { openIpvs } from '../netlink/ipvs/client.ts';
import type { IpvsControl } from '../netlink/ipvs/types.ts';
import { RouteTable } from '../netlink/route-table.ts';
import { withdrawGraceMs } from '../lvs/announce.ts';
import { AnnounceHost, type AnnounceStatus, type RouteStore } from './announce-host.ts';
import { formatRs, formatVs, type VirtualServerView } from './dumps.ts';
import type { Logger } from './logger.ts';
import { checkerAlertBody, realServerAlert, virtualServerQuorumAlert, effectiveRouterId, type Mailer, type CheckerKind } from './mail.ts';
import type { Metrics } from './metrics.ts';
import type { Notifier } from './notify.ts';

export interface LvsHostDeps {
  readonly log: Logger;
  /** the current ones: a reload replaces them */
  readonly notifier: () => Notifier;
  readonly mailer: () => Mailer;
  readonly metrics: Metrics;
  readonly runCheck: (task: CheckTask) => Promise<AttemptResult>;
  readonly resolveUser: UserResolver;
  /** injected for tests; default: the kernel's IPVS over generic netlink */
  readonly openIpvs?: () => Promise<IpvsControl>;
  /** announce_route's routing table; default: RouteTable over rtnetlink */
  readonly openRoutes?: () => Promise<RouteStore>;
}

export class LvsHost {
  private config!: Config;
  private ipvs?: IpvsControl;
  private readonly scheduler: CheckScheduler;
  private readonly results = new Map<string, CheckResult>();
  /** realServerKey → keepalived's names of the real and virtual server, for log lines */
  private readonly names = new Map<string, { rs: string; vs: string }>();
  private state?: LvsState;
  private readonly owned: Owned = emptyOwned();
  /** reconciles run one at a time; a request during one runs once more after it */
  private running?: Promise<void>;
  private again = false;
  private ipvsError?: string;
  /** FILE_CHECK: the track_file numbers */
  private readonly files = new TrackFileWatcher();
  /** announce_route (BGP + ECMP): present once a virtual server announces */
  private announce?: AnnounceHost;

  constructor(private readonly deps: LvsHostDeps) {
    this.scheduler = new CheckScheduler({ run: deps.runCheck, maxConcurrent: 512 });
    this.scheduler.on('transition', (ev) => this.onCheck(ev));
    this.files.on('value', (p, v) => {
      this.deps.log.info({ event: 'check.track-file', file: p, value: v }, `track_file ${p} now ${v}`);
      void this.reconcile();
    });
    this.files.on('error', (p, err) => this.deps.log.error({ event: 'check.track-file-error', file: p, err: err.message }, `cannot watch ${p}`));
  }

  async start(config: Config): Promise<void> {
    this.config = config;
    if (config.virtualServers.length === 0) return;
    try {
      this.ipvs = await (this.deps.openIpvs ?? (() => openIpvs()))();
    } catch (e) {
      this.ipvsError = (e as Error).message;
      this.deps.log.error(
        { event: 'lvs.unavailable', code: (e as { code?: string }).code ?? 'unknown', err: this.ipvsError },
        'IPVS is not available in this kernel: health checks run and report, nothing is programmed',
      );
    }
    this.seedResults(config);
    this.files.start(config.trackFiles ?? []);
    this.warnUnsupported(config);
    this.scheduler.setTargets(targetsFromConfig(config, { resolveUser: this.deps.resolveUser }));
    await this.startAnnounce(config);
    await this.applyTimeouts();
    await this.reconcile();
  }

  /** Checker options a task cannot carry (targets.ts says why): one warning per checker. */
  private warnUnsupported(config: Config): void {
    for (const vs of config.virtualServers) {
      for (const rs of vs.realServers) {
        for (const c of rs.checkers) {
          const opts = unsupportedOptions(c);
          if (opts.length === 0) continue;
          this.deps.log.warn(
            { event: 'check.unsupported-option', real_server: formatRs(rs, vs), checker: c.type, options: opts, file: c.loc.file, line: c.loc.line },
            `${c.type} of ${formatRs(rs, vs)}: ${opts.join(', ')} not implemented by vigil; checking without`,
          );
        }
      }
    }
  }

  private async startAnnounce(config: Config): Promise<void> {
    if (this.announce || !config.virtualServers.some((vs) => vs.announceRoute !== undefined)) return;
    const a = new AnnounceHost({
      log: this.deps.log,
      metrics: this.deps.metrics,
      openRoutes: this.deps.openRoutes ?? (async () => new RouteTable()),
      programming: () => this.ipvs !== undefined,
    });
    try {
      await a.start(config);
      this.announce = a;
    } catch (e) {
      this.deps.log.error({ event: 'announce.unavailable', err: (e as Error).message }, 'cannot open the routing table: nothing is announced');
    }
  }

  /** global_defs lvs_timeouts: the kernel's TCP, TCP FIN and UDP connection timeouts */
  private async applyTimeouts(): Promise<void> {
    const t = desiredTimeouts(this.config.globalDefs.lvsTimeouts);
    if (!this.ipvs || !t) return;
    try {
      await this.ipvs.setTimeouts(t);
    } catch (e) {
      this.deps.log.error({ event: 'lvs.timeouts-failed', err: (e as Error).message }, 'could not set lvs_timeouts');
    }
  }

  async reconfigure(config: Config): Promise<void> {
    this.config = config;
    this.seedResults(config);
    this.files.start(config.trackFiles ?? []);
    this.warnUnsupported(config);
    this.scheduler.setTargets(targetsFromConfig(config, { resolveUser: this.deps.resolveUser }));
    if (!this.ipvs && config.virtualServers.length > 0 && this.ipvsError === undefined) {
      await this.start(config);
      return;
    }
    if (this.announce) await this.announce.reconfigure(config);
    else await this.startAnnounce(config);
    await this.applyTimeouts();
    await this.reconcile();
  }

  /** `vigil drain` / `vigil undrain`: withdraw (or restore) every announcement, IPVS untouched. */
  async setDrained(drained: boolean): Promise<AnnounceStatus> {
    if (!this.announce) throw new Error('no virtual server has announce_route');
    return this.announce.setDrained(drained);
  }

  announceStatus(): AnnounceStatus | undefined {
    return this.announce?.status();
  }

  /**
   * Stop, first step (the daemon calls it before anything else): every route is withdrawn so
   * the router moves flows away while IPVS and the VIPs keep serving them.
   */
  async withdraw(): Promise<void> {
    await this.announce?.withdraw();
  }

  /** Stops checking; omega servers run their down notifications; removes only what vigil added. */
  async stop(): Promise<void> {
    if (this.announce) {
      await this.announce.withdraw();
      // withdraw_grace: the router drops this next hop while IPVS still serves its flows
      const left = withdrawGraceMs(this.config) - (this.announce.msSinceWithdrawal ?? 0);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    }
    this.scheduler.stop();
    this.files.stop();
    if (this.state) for (const t of stopTransitions(this.config, this.state)) this.report(t);
    await this.running;
    if (this.ipvs) {
      try {
        const ops = planStop(await readActual(this.ipvs), this.owned);
        const res = await applyPlan(this.ipvs, ops, this.owned);
        for (const f of res.failed) this.deps.log.error({ event: 'lvs.apply-failed', op: describeOp(f.op), code: f.error.code }, f.error.message);
      } catch (e) {
        this.deps.log.error({ event: 'lvs.stop-failed', err: (e as Error).message }, 'could not remove IPVS entries');
      }
      await this.ipvs.close();
      delete this.ipvs;
    }
    await this.announce?.stop();
    delete this.announce;
  }

  status(): VirtualServerView[] {
    const results = this.withFileChecks();
    return this.config.virtualServers.map((vs) => ({
      name: formatVs(vs),
      lbAlgo: vs.lbAlgo,
      lbKind: vs.lbKind,
      quorumUp: this.state?.vs.get(vsStateKey(vs))?.quorumUp ?? true,
      realServers: vs.realServers.map((rs) => {
        const r = results.get(realServerKey(vs, rs));
        return {
          name: formatRs(rs, vs),
          weight: r?.weight ?? rs.weight,
          up: r?.up ?? false,
          checkers: [...rs.checkers.map((c) => c.type), ...(rs.fileChecks ?? []).map(() => 'FILE_CHECK')],
        };
      }),
    }));
  }

  get programming(): boolean {
    return this.ipvs !== undefined;
  }

  /** Results of real servers not yet checked: alpha starts down, else up (keepalived). */
  private seedResults(config: Config): void {
    const keys = new Set<string>();
    for (const vs of config.virtualServers) {
      for (const rs of vs.realServers) {
        const key = realServerKey(vs, rs);
        keys.add(key);
        this.names.set(key, { rs: formatRs(rs, vs), vs: formatVs(vs) });
        if (!this.results.has(key)) {
          // alpha is the polled checkers' (FILE_CHECK's state is known at once: keepalived clears its alpha)
          const alpha = rs.checkers.length > 0 && (vs.alpha || rs.checkers.some((c) => c.alpha));
          this.results.set(key, { up: !alpha });
        }
      }
    }
    for (const k of [...this.results.keys()]) if (!keys.has(k)) this.results.delete(k);
    for (const k of [...this.names.keys()]) if (!keys.has(k)) this.names.delete(k);
  }

  /**
   * The polled checkers' results combined with the FILE_CHECKs (keepalived check_file.c): a
   * real server is up when its checkers and every FILE_CHECK are; each FILE_CHECK adds its
   * value × weight to the weight (the misc_dynamic weight, else the configured one).
   */
  private withFileChecks(): Map<string, CheckResult> {
    const out = new Map(this.results);
    const tracks = new Map((this.config.trackFiles ?? []).map((f) => [f.name, f]));
    for (const vs of this.config.virtualServers) {
      for (const rs of vs.realServers) {
        if (rs.fileChecks === undefined || rs.fileChecks.length === 0) continue;
        const key = realServerKey(vs, rs);
        const base = out.get(key) ?? { up: true };
        const f = fileChecksOf(rs, tracks, (p) => this.files.value(p));
        out.set(key, { up: base.up && f.up, weight: (base.weight ?? rs.weight) + f.delta });
      }
    }
    return out;
  }

  private onCheck(ev: CheckTransition): void {
    this.results.set(ev.key, { up: ev.up, ...(ev.weight !== undefined ? { weight: ev.weight } : {}) });
    this.deps.metrics.checks.inc({ checker: 'real_server', result: ev.up ? 'up' : 'down' });
    this.deps.log.info(
      { event: ev.up ? 'check.up' : 'check.down', real_server: ev.key, ...this.names.get(ev.key), reason: ev.reason, ...(ev.detail !== undefined ? { detail: ev.detail } : {}) },
      `real server ${ev.key} ${ev.change === 'weight' ? `weight ${String(ev.weight)}` : ev.up ? 'up' : 'down'} (${ev.reason})`,
    );
    // announce_route: the verdict moves the route now, not after an IPVS reconcile that may
    // be in flight (the same computation from the same committed state that reconcile makes)
    if (this.announce) void this.announce.update(this.config, computeDesired(this.config, this.results, this.state).state);
    void this.reconcile();
  }

  private reconcile(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = async (): Promise<void> => {
      do {
        this.again = false;
        const res = computeDesired(this.config, this.withFileChecks(), this.state);
        this.state = res.state;
        // before anything slow: a lost quorum withdraws the route within this tick
        void this.announce?.update(this.config, res.state);
        for (const p of res.problems) this.deps.log.error({ event: 'lvs.invalid', vs: p.vsKey, code: p.error.code }, p.error.message);
        for (const t of res.transitions) this.report(t);
        if (!this.ipvs) continue;
        try {
          const ops = planReconcile(res.services, await readActual(this.ipvs), this.owned);
          if (ops.length === 0) continue;
          const applied = await applyPlan(this.ipvs, ops, this.owned);
          this.deps.log.info({ event: 'lvs.applied', ops: ops.length, applied: applied.applied, adopted: applied.adopted, failed: applied.failed.length }, 'IPVS table updated');
          for (const f of applied.failed) this.deps.log.error({ event: 'lvs.apply-failed', op: describeOp(f.op), code: f.error.code }, f.error.message);
        } catch (e) {
          this.deps.log.error({ event: 'lvs.reconcile-failed', err: (e as Error).message }, 'IPVS reconcile failed');
        }
      } while (this.again);
    };
    this.running = run().finally(() => {
      delete this.running;
      // A verdict that arrived after the loop's last pass but before this settled (two checks
      // finishing in one tick, with nothing to await when IPVS is absent) still gets its pass.
      if (this.again) void this.reconcile();
    });
    return this.running;
  }

  private report(t: LvsTransition): void {
    switch (t.type) {
      case 'rs-up':
      case 'rs-down':
        this.reportRealServer(t, t.type === 'rs-up');
        return;
      case 'quorum-up':
      case 'quorum-down':
        this.reportQuorum(t, t.type === 'quorum-up');
        return;
    }
  }

  private reportRealServer(t: Extract<LvsTransition, { rs: unknown }>, up: boolean): void {
    const vsName = formatVs(t.vs);
    const rsName = formatRs(t.rs, t.vs);
    this.deps.metrics.realServerUp.set({ virtual_server: vsName, real_server: rsName }, up ? 1 : 0);
    this.deps.notifier().realServer(vsName, rsName, t.rs, up);
    if (this.alerts(t.rs.smtpAlert, true) && this.deps.mailer().enabled) {
      const kind = (t.rs.checkers[0]?.type ?? 'TCP_CHECK') as CheckerKind;
      const a = realServerAlert(effectiveRouterId(this.config.globalDefs), rsName, vsName, up, checkerAlertBody(kind, up));
      this.deps.mailer().alert(a.subject, a.body);
    }
  }

  private reportQuorum(t: Extract<LvsTransition, { threshold: number }>, up: boolean): void {
    const vsName = formatVs(t.vs);
    this.deps.log.warn(
      { event: up ? 'lvs.quorum-up' : 'lvs.quorum-down', vs: vsName, live_weight: t.liveWeight, threshold: t.threshold },
      `${vsName} quorum ${up ? 'gained' : 'lost'}`,
    );
    this.deps.notifier().quorum(vsName, t.vs, up);
    if (this.alerts(t.vs.smtpAlert, false) && this.deps.mailer().enabled) {
      const a = virtualServerQuorumAlert(effectiveRouterId(this.config.globalDefs), vsName, {
        up,
        init: t.init,
        quorum: t.vs.quorum,
        hysteresis: t.vs.hysteresis,
        threshold: t.threshold,
        weightSum: t.liveWeight,
      });
      this.deps.mailer().alert(a.subject, a.body);
    }
  }

  /**
   * keepalived check_data.c: the server's own smtp_alert, else global smtp_alert_checker, else
   * smtp_alert, else yes for a real server and no for a virtual server's quorum ("inconsistent
   * ... in order to maintain backwards compatibility", says keepalived).
   */
  private alerts(own: boolean | undefined, fallback: boolean): boolean {
    return own ?? this.config.globalDefs.smtpAlertChecker ?? this.config.globalDefs.smtpAlert ?? fallback;
  }
}

/** Every FILE_CHECK of a real server at once: down if any is, else the sum of their deltas. */
export function fileChecksOf(rs: RealServer, tracks: ReadonlyMap<string, Pick<TrackFile, 'file' | 'weight' | 'weightReverse'>>, value: (path: string) => number): { up: boolean; delta: number } {
  let up = true;
  let delta = 0;
  for (const fc of rs.fileChecks ?? []) {
    const tf = tracks.get(fc.trackFile);
    if (tf === undefined) continue; // refused by config validation
    const s = fileCheckStatus(value(tf.file), fc.weight ?? tf.weight, fc.weight !== undefined ? (fc.reverse ?? false) : tf.weightReverse);
    if (s.up) delta += s.delta;
    else up = false;
  }
  return { up, delta };
}
