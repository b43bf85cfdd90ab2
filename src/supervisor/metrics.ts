/**
 * Prometheus metrics (prom-client) and the opt-in HTTP endpoint that serves them.
 *
 * Each `createMetrics()` has its own Registry (never prom-client's global one), so tests and
 * a reload never collide over metric names. The supervisor updates these from the events it
 * receives (transitions, counters pushed by the VRRP worker, check results); nothing here
 * polls.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry, collectDefaultMetrics } from './prom.ts';

/**
 * Numeric value of `vigil_vrrp_state`: keepalived's state numbers (vrrp.h VRRP_STATE_*),
 * which its SNMP MIB and JSON dump also use.
 */
export const VRRP_STATE_VALUE = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 98, DELETED: 99 } as const;
export type VrrpStateName = keyof typeof VRRP_STATE_VALUE;

export interface Metrics {
  readonly registry: Registry;
  readonly vrrpState: Gauge<'instance'>;
  readonly vrrpPriority: Gauge<'instance'>;
  readonly vrrpEffectivePriority: Gauge<'instance'>;
  readonly vrrpTransitions: Counter<'instance' | 'from' | 'to'>;
  readonly advertsSent: Counter<'instance'>;
  readonly advertsReceived: Counter<'instance'>;
  readonly droppedPackets: Counter<'reason'>;
  readonly checks: Counter<'checker' | 'result'>;
  readonly realServerUp: Gauge<'virtual_server' | 'real_server'>;
  readonly scriptResults: Counter<'script' | 'result'>;
  readonly notifyScripts: Counter<'result'>;
  readonly mails: Counter<'result'>;
  readonly reloads: Counter<'result'>;
  /** Sets the state gauge from a state name. */
  setState(instance: string, state: VrrpStateName): void;
  /** Forget an instance removed by a reload (its series would otherwise linger). */
  removeInstance(instance: string): void;
}

/**
 * prom-client's process and Node metrics (`vigil_process_*`, `vigil_nodejs_*`). Its event-loop
 * lag histogram samples with a timer: at prom-client's default 10 ms that is 100 wake-ups a
 * second of an otherwise idle main thread, so it samples every second, and only once metrics
 * are served (startMetricsServer).
 */
export const EVENT_LOOP_SAMPLE_MS = 1000;
function collectDefaults(registry: Registry): void {
  // once per registry: prom-client refuses a metric name registered twice
  if (registry.getSingleMetric('vigil_process_cpu_user_seconds_total') !== undefined) return;
  collectDefaultMetrics({ register: registry, prefix: 'vigil_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
}

/** `defaultMetrics: true` collects the process metrics at once, not only when served. */
export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics === true) collectDefaults(registry);
  const registers = [registry];
  const vrrpState = new Gauge({
    name: 'vigil_vrrp_state',
    help: 'VRRP state of an instance: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 98 STOP (keepalived numbering)',
    labelNames: ['instance'] as const,
    registers,
  });
  const vrrpPriority = new Gauge({ name: 'vigil_vrrp_priority', help: 'Configured VRRP priority', labelNames: ['instance'] as const, registers });
  const vrrpEffectivePriority = new Gauge({
    name: 'vigil_vrrp_effective_priority',
    help: 'VRRP priority after tracked scripts and interfaces',
    labelNames: ['instance'] as const,
    registers,
  });
  const vrrpTransitions = new Counter({
    name: 'vigil_vrrp_transitions_total',
    help: 'VRRP state transitions',
    labelNames: ['instance', 'from', 'to'] as const,
    registers,
  });
  const advertsSent = new Counter({ name: 'vigil_vrrp_adverts_sent_total', help: 'VRRP advertisements sent', labelNames: ['instance'] as const, registers });
  const advertsReceived = new Counter({
    name: 'vigil_vrrp_adverts_received_total',
    help: 'Valid VRRP advertisements received',
    labelNames: ['instance'] as const,
    registers,
  });
  const droppedPackets = new Counter({
    name: 'vigil_vrrp_dropped_packets_total',
    help: 'VRRP packets dropped, by the decoder or validation reason',
    labelNames: ['reason'] as const,
    registers,
  });
  const checks = new Counter({ name: 'vigil_checks_total', help: 'Health checks run, by checker type and result', labelNames: ['checker', 'result'] as const, registers });
  const realServerUp = new Gauge({
    name: 'vigil_real_server_up',
    help: '1 when a real server is up (in the IPVS table with its weight), else 0',
    labelNames: ['virtual_server', 'real_server'] as const,
    registers,
  });
  const scriptResults = new Counter({
    name: 'vigil_script_results_total',
    help: 'vrrp_script and MISC_CHECK runs by result (success, failure, timeout, error)',
    labelNames: ['script', 'result'] as const,
    registers,
  });
  const notifyScripts = new Counter({ name: 'vigil_notify_scripts_total', help: 'Notify scripts run, by result', labelNames: ['result'] as const, registers });
  const mails = new Counter({ name: 'vigil_smtp_alerts_total', help: 'SMTP alerts, by result (sent, failed, dropped)', labelNames: ['result'] as const, registers });
  const reloads = new Counter({ name: 'vigil_reloads_total', help: 'Configuration reloads, by result (applied, refused)', labelNames: ['result'] as const, registers });
  return {
    registry,
    vrrpState,
    vrrpPriority,
    vrrpEffectivePriority,
    vrrpTransitions,
    advertsSent,
    advertsReceived,
    droppedPackets,
    checks,
    realServerUp,
    scriptResults,
    notifyScripts,
    mails,
    reloads,
    setState(instance, state) {
      vrrpState.set({ instance }, VRRP_STATE_VALUE[state]);
    },
    removeInstance(instance) {
      for (const g of [vrrpState, vrrpPriority, vrrpEffectivePriority]) g.remove({ instance });
      for (const c of [advertsSent, advertsReceived]) c.remove({ instance });
    },
  };
}

export class MetricsListenError extends Error {
  readonly code = 'METRICS_BAD_LISTEN';
  constructor(message: string) {
    super(message);
    this.name = 'MetricsListenError';
  }
}

/** `HOST:PORT`, `[v6]:PORT` or `:PORT` (all addresses) to host and port. Pure. */
export function parseListen(listen: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw new MetricsListenError(`metrics listen address ${JSON.stringify(listen)}: want HOST:PORT, [IPv6]:PORT or :PORT`);
  }
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

export interface MetricsServer {
  readonly server: Server;
  /** the bound address (port resolved when 0 was asked) */
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (text exposition format) on the given address. Off unless the
 * operator asks (`--metrics-listen`): the page tells anyone who can reach it the VRRP state.
 */
export async function startMetricsServer(listen: string, registry: Registry): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  collectDefaults(registry);
  // node's http server only for an operator who asked for metrics
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
    );
  });
  // A scraper that connects and stalls must not hold a socket forever (ms).
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, ...(host === undefined ? {} : { host }) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  return {
    server,
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
