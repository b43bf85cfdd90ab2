/**
 * keepalived's `lvs_sync_daemon IFACE INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP]`
 * (global_defs; `lvs_sync_daemon_interface IFACE` in a vrrp_instance is its old form): the
 * kernel's IPVS connection-sync daemon follows one VRRP instance. While it is MASTER this
 * director runs the master daemon (multicasting its connection table); otherwise the backup
 * daemon (receiving the master's), so that the director that takes over already knows the
 * established connections. Both are stopped when vigil stops.
 */
import type { Config } from '../config/model.ts';
import { openSyncDaemons, type SyncDaemon, type SyncDaemonControl } from '../netlink/ipvs/sync-daemon.ts';
import type { Logger } from './logger.ts';

export interface LvsSyncSpec {
  readonly instance: string;
  readonly daemon: Omit<SyncDaemon, 'state'>;
}

/** The sync daemon the config asks for, or undefined (with why, when the words are wrong). */
export function lvsSyncSpec(config: Config): { spec?: LvsSyncSpec; error?: string } {
  const words = config.globalDefs.lvsSyncDaemon;
  if (words === undefined) {
    const inst = config.vrrpInstances.find((i) => i.lvsSyncDaemonInterface !== undefined);
    return inst === undefined ? {} : { spec: { instance: inst.name, daemon: { ifname: inst.lvsSyncDaemonInterface!, syncId: 0 } } };
  }
  const [ifname, instance, ...rest] = words;
  if (ifname === undefined || instance === undefined) return { error: 'lvs_sync_daemon needs an interface and a vrrp_instance' };
  const d: { ifname: string; syncId: number; maxLen?: number; port?: number; ttl?: number; group?: string } = { ifname, syncId: 0 };
  for (let i = 0; i < rest.length; i += 2) {
    const k = rest[i]!;
    const v = rest[i + 1];
    if (v === undefined) return { error: `lvs_sync_daemon: \`${k}\` needs a value` };
    if (k === 'group') {
      d.group = v;
      continue;
    }
    const n = Number(v);
    const lim = { id: 255, maxlen: 65507, port: 65535, ttl: 255 }[k];
    if (lim === undefined) return { error: `lvs_sync_daemon: unknown option \`${k}\`` };
    if (!Number.isInteger(n) || n < 0 || n > lim) return { error: `lvs_sync_daemon ${k}: \`${v}\` is not in 0..${lim}` };
    if (k === 'id') d.syncId = n;
    else if (k === 'maxlen') d.maxLen = n;
    else if (k === 'port') d.port = n;
    else d.ttl = n;
  }
  return { spec: { instance, daemon: d } };
}

export class LvsSync {
  private control: SyncDaemonControl | undefined;
  private running: 'master' | 'backup' | undefined;
  /** transitions are applied one at a time, in order */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly spec: LvsSyncSpec,
    private readonly log: Logger,
    private readonly open: () => Promise<SyncDaemonControl> = () => openSyncDaemons(),
  ) {}

  /** Opens the IPVS channel and starts the backup daemon (the instance starts below MASTER). */
  start(): Promise<void> {
    return this.enqueue(async () => {
      try {
        this.control = await this.open();
      } catch (e) {
        this.log.error({ event: 'lvs.sync-unavailable', err: (e as Error).message }, 'no IPVS: lvs_sync_daemon not started');
        return;
      }
      await this.become('backup');
    });
  }

  /** A transition of any instance; only the sync instance's matter. */
  onTransition(instance: string, to: string): Promise<void> {
    if (instance !== this.spec.instance) return Promise.resolve();
    return this.enqueue(() => this.become(to === 'MASTER' ? 'master' : 'backup'));
  }

  stop(): Promise<void> {
    return this.enqueue(async () => {
      const c = this.control;
      if (!c) return;
      for (const s of ['master', 'backup'] as const) await c.stop(s).catch(() => undefined);
      this.running = undefined;
      this.control = undefined;
      await c.close();
    });
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    this.tail = this.tail.then(fn, fn);
    return this.tail;
  }

  private async become(state: 'master' | 'backup'): Promise<void> {
    const c = this.control;
    if (!c || this.running === state) return;
    const other = state === 'master' ? 'backup' : 'master';
    try {
      await c.stop(other);
      await c.start({ ...this.spec.daemon, state });
      this.running = state;
      this.log.info({ event: 'lvs.sync-daemon', state, interface: this.spec.daemon.ifname, syncId: this.spec.daemon.syncId }, `IPVS ${state} sync daemon on ${this.spec.daemon.ifname}`);
    } catch (e) {
      this.log.error({ event: 'lvs.sync-failed', state, err: (e as Error).message }, `IPVS ${state} sync daemon not started`);
    }
  }
}
