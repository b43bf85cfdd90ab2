/**
 * Everything the supervisor runs around VRRP: tracking (vrrp_script, track_interface),
 * notify scripts and mail on transitions, health checkers and IPVS, metrics, the control
 * socket and the state dumps. One object so that the daemon's lifecycle reads in one place.
 */
import type { Config } from '../config/model.ts';
import type { NetControl } from '../netlink/net-control.ts';
import { child, LogEvent, type Logger } from './logger.ts';
import type { DaemonOptions } from './options.ts';
import type { TransitionEvent, VrrpHost } from './vrrp-host.ts';

export interface ServicesDeps {
  readonly log: Logger;
  readonly opts: DaemonOptions;
  readonly net: NetControl;
  readonly vrrp?: VrrpHost;
}

export type ReloadHandler = () => Promise<{ ok: boolean; diagnostics: string[] }>;

export class Services {
  private config?: Config;
  private reloadHandler?: ReloadHandler;
  private readonly vlog: Logger;
  private readonly reloads = { ok: 0, refused: 0, failed: 0 };

  constructor(private readonly deps: ServicesDeps) {
    this.vlog = child(deps.log, 'vrrp');
    deps.vrrp?.on('transition', (t) => this.onTransition(t));
    deps.vrrp?.on('worker-event', (e) => {
      const fields = { event: e.event, ...(e.instance !== undefined ? { instance: e.instance } : {}), ...e.fields };
      this.vlog[e.level](fields, e.event);
    });
  }

  configure(config: Config): void {
    this.config = config;
  }

  async start(): Promise<void> {}

  reconfigure(_prev: Config, next: Config): void {
    this.config = next;
  }

  setReloadHandler(h: ReloadHandler): void {
    this.reloadHandler = h;
  }

  countReload(result: 'ok' | 'refused' | 'failed'): void {
    this.reloads[result]++;
  }

  async dump(_kind: 'data' | 'stats'): Promise<void> {}

  async stop(): Promise<void> {}

  private onTransition(t: TransitionEvent): void {
    this.vlog.info(
      { event: LogEvent.vrrpTransition, instance: t.instance, vrid: t.vrid, from: t.from, to: t.to, reason: t.reason, priority: t.priority },
      `${t.instance} ${t.from} -> ${t.to}`,
    );
  }
}
