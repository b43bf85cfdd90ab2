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
import type { NetControl } from '../netlink/net-control.ts';
import { inNetns, reexecInNetns } from '../io/netns.ts';
import { ExitCode } from './exit-codes.ts';
import type { Logger } from './logger.ts';
import type { DaemonOptions } from './options.ts';
import { bootVrrpWorker, vrrpRealtimePriority } from './vrrp-boot.ts';
import { applyProcessLimits } from './process-limits.ts';
import { releaseFreeMemory, settleAfterBurst } from './v8-tiering.ts';
import { collectOnGrowth, MAIN_GROWTH_BUDGET_BYTES } from '../io/isolate-heap.ts';
// What is imported above loads before the VRRP worker boots: keep it light. (lvs/announce.ts,
// for one function, brought the netlink package: ~60 ms before the boot, on the path to the
// first advert.)

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

/**
 * undici parses HTTP_GET responses with llhttp, a WebAssembly module. V8 compiles it with
 * Liftoff, its baseline compiler, then recompiles the functions that get hot with TurboFan on
 * its helper threads, even while TurboFan is off for JavaScript (v8-tiering.ts). Under
 * bench/soak (a malloc trace): 21 such compilations in the first seconds, one of them a
 * single 2.2 MB malloc, and one more at 5.5 minutes; in two runs of three, one helper thread's
 * malloc arena grew by 2.3 MB between minutes 5 and 6 and kept it through malloc_trim.
 * Liftoff's code parses these small responses no slower: 4,000 attempts in one thread took
 * 2.48–2.74 s of CPU with Liftoff only against 2.69–2.94 s (this host, three runs each).
 * Set before any thread compiles llhttp.
 */
function wasmBaselineOnly(): void {
  v8.setFlagsFromString('--liftoff-only');
}

/**
 * The daemon's modules, loaded once the VRRP worker is booting (see vrrp-boot.ts), in two
 * steps: what the worker's `init` needs (the logger, rtnetlink to resolve links, the host),
 * then the rest (services: checkers, notify, mail, metrics, control socket), which loads
 * while the worker starts its instances. All of it used to load first, ~380 ms.
 */
async function loadVrrpModules() {
  const [logger, netControl, vrrpHost] = await Promise.all([import('./logger.ts'), import('../netlink/net-control.ts'), import('./vrrp-host.ts')]);
  return { ...logger, ...netControl, ...vrrpHost };
}
async function loadServiceModules() {
  const [sd, services] = await Promise.all([import('./sd-notify.ts'), import('./services.ts')]);
  return { ...sd, ...services };
}

/**
 * `normalPriority`: puts the main thread back to normal scheduling; main.ts raised it for the
 * start-up (it is called once the VRRP worker has its instances, or at once when the config
 * runs the VRRP threads without realtime priority or has no instance).
 */
export async function runDaemon(opts: DaemonOptions, normalPriority: () => void = () => undefined): Promise<number> {
  decoupleScavenges();
  wasmBaselineOnly();
  const first = loadConfig(opts.configFile, { configId: opts.configId });
  const runnable = first.config !== undefined && !hasErrors(first.diagnostics);
  if (!runnable || opts.checkOnly || first.config!.vrrpInstances.length === 0 || vrrpRealtimePriority(first.config!) === undefined) normalPriority();
  // -s / net_namespace: the process re-executes inside the namespace below; nothing boots before
  const netns = runnable ? (opts.namespace ?? first.config!.globalDefs.netNamespace) : undefined;
  const reexecs = netns !== undefined && !inNetns(netns);
  const booted = runnable && !opts.checkOnly && !reexecs ? bootVrrpWorker(first.config!) : undefined;
  const { createLogger, child, LogEvent, openNetControl, VrrpHost } = await loadVrrpModules();
  const log = createLogger({ level: opts.logLevel, format: opts.logFormat });
  const dlog = child(log, 'daemon');
  reportDiagnostics(dlog, first.diagnostics, LogEvent.configDiagnostic);
  if (!first.config || !runnable) {
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
      sinceExecMs: Math.round(performance.now()),
    },
    'vigil starting',
  );

  // -s / net_namespace: re-executed inside the namespace before anything touches the network
  if (reexecs) {
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
    normalPriority();
    dlog.fatal({ event: 'netlink.open-failed', err: (e as Error).message }, 'cannot open rtnetlink');
    await booted?.worker.terminate();
    removePid(opts.pidFile);
    return ExitCode.MISSING_PERMISSION;
  }

  const vrrp = opts.checkOnly ? undefined : new VrrpHost(net, config, child(log, 'vrrp'));
  // The instances start (links resolved, `init` sent) while the services load.
  const vrrpStarted = vrrp?.start(booted).then(
    () => void normalPriority(),
    (e: unknown) => (normalPriority(), e as Error),
  );
  if (!vrrp) normalPriority();
  const { sdNotify, SdState, monotonicUsec, startWatchdog, Services } = await loadServiceModules();
  const services = new Services({ log, opts, net, ...(vrrp ? { vrrp } : {}) });
  services.configure(config);
  vrrp?.listen();
  try {
    const failed = await vrrpStarted;
    if (failed) throw failed;
    // after the start-up's realtime stretch (see process-limits.ts)
    applyProcessLimits(config, dlog);
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
  const { optimizer, baseline } = settleAfterBurst(config);
  collectOnGrowth(releaseFreeMemory, MAIN_GROWTH_BUDGET_BYTES);
  dlog.info({ event: LogEvent.ready, sinceExecMs: Math.round(performance.now()), optimizer, baseline }, 'vigil running');

  let reloading: Promise<void> | undefined;
  const reload = async (): Promise<{ ok: boolean; diagnostics: string[] }> => {
    sdNotify(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}`);
    const started = performance.now();
    dlog.info({ event: LogEvent.reloadStart, file: opts.configFile }, 'reloading configuration');
    const next = loadConfig(opts.configFile, { configId: opts.configId });
    reportDiagnostics(dlog, next.diagnostics, LogEvent.configDiagnostic);
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
      applyProcessLimits(config, dlog);
      settleAfterBurst(config);
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
      // announce_route: routes go first, IPVS keeps serving for withdraw_grace (inside the deadline)
      const withdrawing = services.withdrawAnnouncements().catch((e: Error) => dlog.error({ event: 'announce.withdraw-failed', err: e.message }, 'withdrawal failed'));
      const limitMs = STOP_DEADLINE_MS + services.withdrawGraceMs();
      const deadline = setTimeout(() => {
        dlog.error({ event: 'daemon.stop-timeout' }, `stop took longer than ${limitMs} ms; exiting anyway`);
        resolve(ExitCode.FATAL);
      }, limitMs);
      void (async () => {
        await withdrawing;
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

/** `event`: LogEvent.configDiagnostic (the logger module is loaded late, see loadVrrpModules) */
function reportDiagnostics(log: Logger, diags: readonly Diagnostic[], event: string): void {
  for (const d of diags) {
    const line = formatDiagnostic(d);
    const fields = { event, severity: d.severity, code: d.code, file: d.loc.file, line: d.loc.line, col: d.loc.col };
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
