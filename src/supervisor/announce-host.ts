/**
 * The supervisor's side of `announce_route` (more than one director, BGP + ECMP): holds
 * each announcing VIP on `lo`, and its route in the configured table while the virtual
 * server is up, for BIRD or FRR to export. vigil never talks to the routing daemon: the
 * kernel table is the contract, so a daemon that is down or restarts changes nothing here.
 *
 * - LvsHost calls `update()` right after each quorum computation, before it touches IPVS,
 *   so a withdrawal is on the wire within the same tick as the check verdict.
 * - At start, routes of vigil's protocol found in its tables are adopted: the ones still
 *   wanted stay (a restart does not flap them), the others (a crash's leftovers) go.
 *   Protocols 0..4 belong to the kernel and operators: nothing of theirs is adopted.
 * - `drain()`/`undrain()`: the operator's maintenance switch; it survives reloads.
 * - Stop: `withdraw()` (every route goes, reason `stop`), then LvsHost keeps IPVS serving
 *   for withdraw_grace, then `stop()` removes the VIPs this process put on lo.
 * - Without IPVS nothing is announced (reason `ipvs`): announcing would draw traffic into a
 *   director that cannot forward it.
 */
import { Counter, Gauge } from './prom.ts';
import type { Family } from '../config/model.ts';
import { announcements, announceTables, describeAnnounced, vipsOnLo, type Announcement, type WithdrawReason } from '../lvs/announce.ts';
import { Announcer, type AnnounceEvent, type RouteWriter } from '../lvs/announcer.ts';
import type { LvsConfig, LvsState } from '../lvs/desired.ts';
import type { TableRoute } from '../netlink/route-table.ts';
import { setIpvsSloppyTcp } from '../netlink/sysctl.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

/** The kernel side: RouteTable (routes in the table, VIPs on lo, batched). */
export interface RouteStore extends RouteWriter {
  dump(table: number, protocol: number): Promise<TableRoute[]>;
  loopbackAddresses(op: 'add' | 'del', list: ReadonlyArray<{ readonly address: string; readonly family: Family }>): Promise<Array<'added' | 'present' | 'removed' | 'absent' | Error>>;
  close(): Promise<void>;
}

export interface AnnounceHostDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly openRoutes: () => Promise<RouteStore>;
  /** IPVS is programmed here (false: nothing is announced) */
  readonly programming: () => boolean;
}

export interface AnnouncementView {
  /** `10.213.9.10/32` */
  readonly prefix: string;
  readonly table: number;
  readonly protocol: number;
  readonly metric?: number;
  /** the route is in the kernel table */
  readonly announced: boolean;
  /** why not, when it is not wanted */
  readonly reason?: WithdrawReason;
  readonly virtualServers: readonly string[];
  /** ISO time of the last change */
  readonly since?: string;
  /** the kernel refused the last attempt (errno name or code) */
  readonly lastError?: string;
}

export interface AnnounceStatus {
  readonly drained: boolean;
  readonly routes: readonly AnnouncementView[];
}

/** kernel protocols (rtnetlink.h RTPROT_UNSPEC..RTPROT_STATIC) vigil never adopts */
const KERNEL_PROTOCOLS = 4;

export class AnnounceHost {
  private config: LvsConfig = { virtualServers: [], virtualServerGroups: [] };
  private state: LvsState | undefined;
  private drained = false;
  private stopping = false;
  private store?: RouteStore;
  private announcer?: Announcer;
  private wants = new Map<string, Announcement>();
  private readonly since = new Map<string, string>();
  private readonly lastError = new Map<string, string>();
  /** VIPs on lo: address → whether this process added it (only those are removed) */
  private readonly vips = new Map<string, { family: Family; added: boolean }>();
  private sloppySet = false;
  private withdrawnAt: number | undefined;
  private readonly announced: Gauge<'vip' | 'table'>;
  private readonly failures: Counter<'vip' | 'op' | 'errno'>;

  constructor(private readonly deps: AnnounceHostDeps) {
    const registers = [deps.metrics.registry];
    this.announced = new Gauge({
      name: 'vigil_announced',
      help: 'announce_route: 1 while the route of a VIP is in its table (announced), 0 while withdrawn',
      labelNames: ['vip', 'table'] as const,
      registers,
    });
    this.failures = new Counter({
      name: 'vigil_announce_failures_total',
      help: 'announce_route: route changes the kernel refused (retried with back-off)',
      labelNames: ['vip', 'op', 'errno'] as const,
      registers,
    });
  }

  /** Opens the table, adopts what vigil left there, puts the VIPs on lo. */
  async start(config: LvsConfig): Promise<void> {
    this.config = config;
    this.store = await this.deps.openRoutes();
    this.announcer = new Announcer({
      writer: this.store,
      setTimer: (fn, ms) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
      },
      onEvent: (e) => this.onEvent(e),
    });
    await this.adopt(config);
    await this.syncVips(config);
  }

  /** A reload: new tables are searched for leftovers, VIPs follow the config; routes follow at the next update. */
  async reconfigure(config: LvsConfig): Promise<void> {
    const before = new Set(announceTables(this.config).map((t) => `${t.table}/${t.protocol}`));
    this.config = config;
    await this.adopt(config, before);
    await this.syncVips(config);
    await this.update(config, this.state);
  }

  /** New quorum state (or config): the kernel follows. Resolves when the batch is answered. */
  update(config: LvsConfig, state: LvsState | undefined): Promise<void> {
    this.config = config;
    this.state = state;
    if (!this.announcer) return Promise.resolve();
    const ipvs = this.deps.programming();
    const wants = announcements(config, state, { drained: this.drained, stopping: this.stopping, ipvs });
    this.wants = wants;
    if (!ipvs && wants.size > 0 && !this.warnedNoIpvs) {
      this.warnedNoIpvs = true;
      this.deps.log.error({ event: 'announce.no-ipvs' }, 'IPVS is not available: nothing is announced (this director could not forward what it would attract)');
    }
    void this.sloppyTcp(wants.size > 0 && ipvs);
    return this.announcer.update(wants);
  }

  private warnedNoIpvs = false;

  /** `vigil drain` / `vigil undrain`; resolves with the status once the kernel has followed. */
  async setDrained(drained: boolean): Promise<AnnounceStatus> {
    if (this.drained !== drained) {
      this.drained = drained;
      this.deps.log.warn({ event: drained ? 'announce.drain' : 'announce.undrain' }, drained ? 'drained: every announcement withdrawn' : 'undrained: announcements follow the quorum again');
    }
    await this.update(this.config, this.state);
    return this.status();
  }

  /** Stop, first step: withdraw every route. Resolves when the kernel has answered. */
  async withdraw(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.withdrawnAt = performance.now();
    }
    await this.update(this.config, this.state);
  }

  /** ms since withdraw(), for the grace; undefined before it */
  get msSinceWithdrawal(): number | undefined {
    return this.withdrawnAt === undefined ? undefined : performance.now() - this.withdrawnAt;
  }

  /** Stop, last step: VIPs this process added leave lo; the table is closed. */
  async stop(): Promise<void> {
    await this.withdraw();
    await this.announcer?.idle();
    this.announcer?.close();
    await this.removeVips([...this.vips].filter(([, v]) => v.added).map(([address, v]) => ({ address, family: v.family })));
    this.vips.clear();
    await this.store?.close();
    delete this.store;
  }

  status(): AnnounceStatus {
    const routes: AnnouncementView[] = [];
    for (const [key, a] of this.wants) {
      const r = a.route;
      const since = this.since.get(key);
      const err = this.lastError.get(key);
      const announced = this.announcer?.isHeld(key) ?? false;
      routes.push({
        prefix: `${r.address}/${r.prefixLen}`,
        table: r.table,
        protocol: r.protocol,
        ...(r.metric !== undefined ? { metric: r.metric } : {}),
        announced,
        ...(a.reason !== undefined ? { reason: a.reason } : {}),
        virtualServers: a.vsKeys,
        ...(since !== undefined ? { since } : {}),
        ...(err !== undefined ? { lastError: err } : {}),
      });
    }
    return { drained: this.drained, routes };
  }

  private async adopt(config: LvsConfig, skip: ReadonlySet<string> = new Set()): Promise<void> {
    if (!this.store || !this.announcer) return;
    for (const { table, protocol } of announceTables(config)) {
      if (protocol <= KERNEL_PROTOCOLS || skip.has(`${table}/${protocol}`)) continue;
      try {
        const found = await this.store.dump(table, protocol);
        this.announcer.adopt(found);
        if (found.length > 0) {
          this.deps.log.info({ event: 'announce.found', table, protocol, routes: found.length }, `${found.length} route(s) of protocol ${protocol} already in table ${table}`);
        }
      } catch (e) {
        this.deps.log.error({ event: 'announce.dump-failed', table, protocol, err: (e as Error).message }, `could not read table ${table}`);
      }
    }
  }

  /** VIP/32 on lo for every announcing virtual server, configured or not up; one batch each way. */
  private async syncVips(config: LvsConfig): Promise<void> {
    if (!this.store) return;
    const want = vipsOnLo(config);
    const wanted = new Set(want.map((v) => v.address));
    const add = want.filter((v) => !this.vips.has(v.address));
    if (add.length > 0) {
      const res = await this.store.loopbackAddresses('add', add).catch((e: Error) => add.map(() => e));
      add.forEach((v, i) => {
        const r = res[i];
        if (r === 'added' || r === 'present') this.vips.set(v.address, { family: v.family, added: r === 'added' });
        else this.deps.log.error({ event: 'announce.vip-failed', vip: v.address, op: 'add', err: r instanceof Error ? r.message : String(r) }, `could not put ${v.address} on lo`);
      });
    }
    const gone = [...this.vips].filter(([address]) => !wanted.has(address));
    for (const [address] of gone) this.vips.delete(address);
    await this.removeVips(gone.filter(([, v]) => v.added).map(([address, v]) => ({ address, family: v.family })));
  }

  private async removeVips(list: Array<{ address: string; family: Family }>): Promise<void> {
    if (!this.store || list.length === 0) return;
    const res = await this.store.loopbackAddresses('del', list).catch((e: Error) => list.map(() => e));
    list.forEach((v, i) => {
      const r = res[i];
      if (r instanceof Error) this.deps.log.error({ event: 'announce.vip-failed', vip: v.address, op: 'remove', err: r.message }, `could not remove ${v.address} from lo`);
    });
  }

  private async sloppyTcp(on: boolean): Promise<void> {
    if (!on || this.sloppySet) return;
    this.sloppySet = true;
    try {
      await setIpvsSloppyTcp(true);
    } catch (e) {
      this.deps.log.warn({ event: 'announce.sysctl-failed', err: (e as Error).message }, 'could not set net.ipv4.vs.sloppy_tcp=1; flows moved from another director will be reset');
    }
  }

  private onEvent(e: AnnounceEvent): void {
    const vip = `${e.route.address}/${e.route.prefixLen}`;
    const table = String(e.route.table);
    switch (e.type) {
      case 'up':
        this.since.set(e.key, new Date().toISOString());
        this.lastError.delete(e.key);
        this.announced.set({ vip, table }, 1);
        this.deps.log.info({ event: 'announce.up', vip, table: e.route.table, protocol: e.route.protocol }, `announcing ${describeAnnounced(e.route)}`);
        return;
      case 'down':
        this.since.set(e.key, new Date().toISOString());
        this.lastError.delete(e.key);
        this.announced.set({ vip, table }, 0);
        this.deps.log.info(
          { event: 'announce.down', vip, table: e.route.table, protocol: e.route.protocol, reason: e.reason },
          `withdrawn ${describeAnnounced(e.route)} (${e.reason})`,
        );
        return;
      case 'failed': {
        const errno = e.error.errno ?? e.error.code;
        this.lastError.set(e.key, errno);
        this.failures.inc({ vip, op: e.op, errno });
        this.deps.log.error(
          { event: 'announce.failed', vip, table: e.route.table, op: e.op, errno, code: e.error.code, retry_ms: e.retryInMs },
          `${e.op === 'add' ? 'could not announce' : 'could not withdraw'} ${describeAnnounced(e.route)}: ${e.error.message}; retrying in ${e.retryInMs} ms`,
        );
        return;
      }
    }
  }
}
