/**
 * The daemon: the main thread, sole owner of kernel state. It loads and validates the
 * config, starts the VRRP worker and the checker/script pools, does the netlink work they
 * ask for, runs notify scripts and mail alerts, and handles signals:
 *   SIGHUP  reload (validate the whole new file first; refuse it and keep running if bad)
 *   SIGTERM/SIGINT  priority 0, VIPs and IPVS entries removed, children stopped, exit 0
 *   SIGUSR1/SIGUSR2  state and statistics dumps
 */
import { writeFileSync, unlinkSync } from 'node:fs';
import v8 from 'node:v8';
import { diffConfigs } from '../config/diff.ts';
import { loadConfig } from '../config/load.ts';
import { formatDiagnostic, hasErrors } from '../config/diagnostics.ts';
import type { Config, Diagnostic } from '../config/model.ts';
import { openNetControl, type NetControl } from '../netlink/net-control.ts';
import { inNetns, reexecInNetns } from '../io/netns.ts';
import { ExitCode } from './exit-codes.ts';
import { createLogger, child, LogEvent, type Logger } from './logger.ts';
import type { DaemonOptions } from './options.ts';
import { sdNotify, SdState, monotonicUsec, startWatchdog } from './sd-notify.ts';
import { VrrpHost } from './vrrp-host.ts';
import { Services } from './services.ts';

/** ms: a stop that takes longer than this exits anyway */
const STOP_DEADLINE_MS = 8000;

/**
 * V8 runs every isolate's scavenges (young-generation collections) on helper threads it
 * shares between them, so a VRRP-thread scavenge that lands while a reload keeps the main
 * thread's collections busy waits for helpers: up to ~7 ms of late adverts measured
 * (bench/reload.ts, 500 instances). Each isolate scavenging on its own thread removes that
 * coupling; the young generations here are small, so it costs little. Set before any
 * worker starts (the flag is read at every scavenge).
 */
function decoupleScavenges(): void {
  v8.setFlagsFromString('--no-parallel-scavenge');
}

export async function runDaemon(opts: DaemonOptions): Promise<number> {
  decoupleScavenges();
  const log = createLogger({ level: opts.logLevel, format: opts.logFormat });
  const dlog = child(log, 'daemon');

  const first = loadConfig(opts.configFile, { configId: opts.configId });
  reportDiagnostics(dlog, first.diagnostics);
  if (!first.config || hasErrors(first.diagnostics)) {
    dlog.fatal({ event: LogEvent.reloadRefused, file: opts.configFile }, 'configuration has errors; not starting');
    return ExitCode.CONFIG;
  }
  let config: Config = first.config;
  dlog.info(
    {
      event: LogEvent.startup,
      file: opts.configFile,
      instances: config.vrrpInstances.length,
      virtualServers: config.virtualServers.length,
      pid: process.pid,
    },
    'vigil starting',
  );

  // -s / net_namespace: re-executed inside the namespace before anything touches the network
  const netns = opts.namespace ?? config.globalDefs.other['net_namespace']?.[0];
  if (netns !== undefined && !inNetns(netns)) {
    dlog.info({ event: 'daemon.netns', namespace: netns }, `entering network namespace ${netns}`);
    const why = reexecInNetns(netns);
    dlog.fatal({ event: 'daemon.netns-failed', namespace: netns, err: why }, 'cannot run in the network namespace');
    return ExitCode.CONFIG;
  }

  writePid(opts.pidFile, dlog);
  let net: NetControl;
  try {
    net = await openNetControl();
  } catch (e) {
    dlog.fatal({ event: 'netlink.open-failed', err: (e as Error).message }, 'cannot open rtnetlink');
    removePid(opts.pidFile);
    return ExitCode.MISSING_PERMISSION;
  }

  const vrrp = opts.checkOnly ? undefined : new VrrpHost(net, config, child(log, 'vrrp'));
  const services = new Services({ log, opts, net, ...(vrrp ? { vrrp } : {}) });
  services.configure(config);
  try {
    await vrrp?.start();
    await services.start();
  } catch (e) {
    dlog.fatal({ event: 'daemon.start-failed', err: (e as Error).message }, 'start failed');
    await vrrp?.stop().catch(() => undefined);
    await services.stop().catch(() => undefined);
    await net.close();
    removePid(opts.pidFile);
    return ExitCode.FATAL;
  }

  sdNotify(`${SdState.ready}\n${SdState.status}running ${config.vrrpInstances.length} VRRP instance(s)`);
  const watchdog = startWatchdog();
  dlog.info({ event: LogEvent.ready }, 'vigil running');

  let reloading: Promise<void> | undefined;
  const reload = async (): Promise<{ ok: boolean; diagnostics: string[] }> => {
    sdNotify(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}`);
    const started = performance.now();
    dlog.info({ event: LogEvent.reloadStart, file: opts.configFile }, 'reloading configuration');
    const next = loadConfig(opts.configFile, { configId: opts.configId });
    reportDiagnostics(dlog, next.diagnostics);
    const diagnostics = next.diagnostics.map(formatDiagnostic);
    if (!next.config || hasErrors(next.diagnostics)) {
      services.countReload('refused');
      dlog.error(
        { event: LogEvent.reloadRefused, errors: next.diagnostics.filter((d) => d.severity === 'error').length },
        'new configuration has errors; still running the previous one',
      );
      sdNotify(SdState.ready);
      return { ok: false, diagnostics };
    }
    const prev = config;
    config = next.config;
    const plan = diffConfigs(prev, config);
    const names = (d: { added: readonly string[]; removed: readonly string[]; changed: readonly { name: string }[] }): Record<string, string[]> => ({
      added: [...d.added],
      removed: [...d.removed],
      changed: d.changed.map((c) => c.name),
    });
    dlog.info(
      {
        event: 'reload.plan',
        empty: plan.empty,
        instances: names(plan.vrrpInstances),
        restarted: plan.vrrpInstances.changed.filter((c) => c.restart).map((c) => c.name),
        scripts: names(plan.vrrpScripts),
        virtualServers: names(plan.virtualServers),
        globalDefs: [...plan.globalDefs],
      },
      plan.empty ? 'configuration unchanged' : 'applying configuration changes',
    );
    try {
      await vrrp?.reconfigure(config);
      await services.reconfigure(prev, config);
      services.countReload('ok');
      dlog.info({ event: LogEvent.reloadDone, ms: Math.round(performance.now() - started) }, 'configuration reloaded');
    } catch (e) {
      services.countReload('failed');
      dlog.error({ event: 'reload.failed', err: (e as Error).message }, 'reload failed part way');
    }
    sdNotify(SdState.ready);
    return { ok: true, diagnostics };
  };
  const serialReload = (): Promise<{ ok: boolean; diagnostics: string[] }> => {
    const run = (reloading ?? Promise.resolve()).then(reload);
    reloading = run.then(() => undefined, () => undefined);
    return run;
  };
  services.setReloadHandler(serialReload);

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      dlog.info({ event: LogEvent.shutdown, signal }, 'stopping');
      sdNotify(SdState.stopping);
      watchdog?.stop();
      const deadline = setTimeout(() => {
        dlog.error({ event: 'daemon.stop-timeout' }, `stop took longer than ${STOP_DEADLINE_MS} ms; exiting anyway`);
        resolve(ExitCode.FATAL);
      }, STOP_DEADLINE_MS);
      void (async () => {
        await vrrp?.stop().catch((e: Error) => dlog.error({ event: 'vrrp.stop-failed', err: e.message }, 'VRRP stop failed'));
        await services.stop().catch((e: Error) => dlog.error({ event: 'services.stop-failed', err: e.message }, 'stop failed'));
        await net.close().catch(() => undefined);
        removePid(opts.pidFile);
        clearTimeout(deadline);
        for (const s of ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGUSR1', 'SIGUSR2'] as const) process.removeAllListeners(s);
        dlog.info({ event: 'daemon.stopped' }, 'stopped');
        resolve(ExitCode.OK);
      })();
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => void serialReload());
    process.on('SIGUSR1', () => void services.dump('data'));
    process.on('SIGUSR2', () => void services.dump('stats'));
  });
}

function reportDiagnostics(log: Logger, diags: readonly Diagnostic[]): void {
  for (const d of diags) {
    const line = formatDiagnostic(d);
    const fields = { event: LogEvent.configDiagnostic, severity: d.severity, code: d.code, file: d.loc.file, line: d.loc.line, col: d.loc.col };
    if (d.severity === 'error') log.error(fields, line);
    else log.warn(fields, line);
  }
}

function writePid(file: string, log: Logger): void {
  try {
    writeFileSync(file, `${process.pid}\n`);
  } catch (e) {
    log.warn({ event: 'daemon.pidfile-failed', file, err: (e as Error).message }, 'cannot write pid file');
  }
}

function removePid(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}
