/**
 * Starting the VRRP worker thread. The daemon boots it first, right after the config is
 * read and before it loads the rest of itself (logger, netlink, checkers, mail, metrics:
 * ~380 ms of module loading, bench/footprint), so that the thread's isolate and its modules
 * come up on the other core meanwhile; VrrpHost sends `init` once the
 * specs are resolved. A restarted worker boots through the same function.
 */
import v8 from 'node:v8';
import type { Worker } from 'node:worker_threads';
import type { Config } from '../config/model.ts';
import { createFdLedger } from '../io/fd-ledger.ts';
import { startingAtStartupPriority, startupRealtimePriority } from '../io/thread-priority.ts';
import { startWorker } from './threads.ts';

/**
 * MB: upper bound of the VRRP thread's young generation, by the number of instances at boot.
 * A few instances allocate little per advert, and a young generation grown during start-up
 * (module loading) is never given back in a thread without the memory reducer: 3 MB (1 MB
 * semi-spaces) keeps the thread's heap at ~9 MB instead of ~12.5 (bench/footprint). Hundreds
 * of instances (bench/reload: 500) get room, so a reload's burst is not scavenged mid-advert.
 * A reload that grows a small config keeps the small bound until the thread restarts.
 */
export function vrrpYoungGenerationMb(instances: number): number {
  return instances <= 32 ? 3 : 48;
}

export interface BootedVrrpWorker {
  readonly worker: Worker;
  /** fds the thread opens, closed from the main thread if it dies (fd-ledger.ts) */
  readonly fdLedger: SharedArrayBuffer;
  /**
   * Hands over what the thread said (messages, an error) before its owner listened, and
   * stops holding it: a Worker emits to whoever listens at the time, and the owner attaches
   * its listeners only once the rest of the daemon is loaded.
   */
  adopt(): { messages: unknown[]; error?: Error; exitCode?: number };
}

/** What workers/vrrp.ts reads from workerData. */
export interface VrrpWorkerData {
  readonly fdLedger: SharedArrayBuffer;
  readonly rtPriority?: number;
  readonly nice?: number;
  /** global_defs max_auto_priority (≤ 0: off) and min_auto_priority_delay in ms */
  readonly maxAutoPriority?: number;
  readonly minAutoPriorityDelayMs?: number;
}

export function bootVrrpWorker(config: Config): BootedVrrpWorker {
  // A dead worker runs no cleanup: the sockets it opened are closed from here (fd ledger).
  const fdLedger = createFdLedger();
  // No memory reducer in the VRRP thread's heap: after start-up it runs full collections of
  // its own (seen at 8 and 17 s, pauses of 0.6–4.4 ms) whenever its timer says so, which
  // may be inside a run of adverts. The thread collects in the quiet instead
  // (src/vrrp/quiet-gc.ts). V8 reads the flag when it sets up a heap, so it is off only
  // until this worker's isolate exists ('online').
  v8.setFlagsFromString('--no-memory-reducer');
  const g = config.globalDefs;
  const workerData: VrrpWorkerData = {
    fdLedger,
    ...threadPriority(config),
    ...(g.maxAutoPriority !== undefined && g.maxAutoPriority > 0 ? { maxAutoPriority: g.maxAutoPriority, minAutoPriorityDelayMs: (g.minAutoPriorityDelayUs ?? 1_000_000) / 1000 } : {}),
  };
  // On the path to the first advert: the thread starts at the start-up's realtime priority.
  const worker = startingAtStartupPriority(() =>
    startWorker('vrrp', {
      name: 'vrrp',
      workerData,
      // An upper bound only: V8 starts the young generation at about 1 MB and grows it when
      // much survives. What keeps scavenges from pausing the advert clock is that the
      // thread allocates little per advert and collects between adverts (quiet-gc.ts).
      resourceLimits: { maxYoungGenerationSizeMb: vrrpYoungGenerationMb(config.vrrpInstances.length) },
    }),
  );
  const restoreReducer = (): void => void v8.setFlagsFromString('--memory-reducer');
  worker.once('online', restoreReducer);
  worker.once('exit', restoreReducer);
  const early: { messages: unknown[]; error?: Error; exitCode?: number } = { messages: [] };
  const onMessage = (m: unknown): void => void early.messages.push(m);
  const onError = (e: Error): void => void (early.error = e);
  const onExit = (code: number): void => void (early.exitCode = code);
  worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  return {
    worker,
    fdLedger,
    adopt() {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      return early;
    },
  };
}

/**
 * The SCHED_RR priority the VRRP threads will run at for this config (as
 * applyVrrpThreadPriority decides it), or undefined when they run at normal scheduling:
 * the daemon's start-up runs at it until the worker has its instances (daemon.ts).
 */
export function vrrpRealtimePriority(config: Config): number | undefined {
  const p = threadPriority(config);
  if (p.rtPriority !== undefined) return p.rtPriority;
  // vrrp_priority alone keeps normal scheduling, unless the environment asks for realtime
  if (p.nice !== undefined && process.env['VIGIL_VRRP_RT_PRIORITY'] === undefined) return undefined;
  return startupRealtimePriority();
}

/** global_defs `vrrp_rt_priority` (SCHED_RR 1–99) and `vrrp_priority` (nice −20…19), as keepalived reads them. */
function threadPriority(config: Config): { rtPriority?: number; nice?: number } {
  const rt = config.globalDefs.vrrpRtPriority;
  const nice = config.globalDefs.vrrpPriority;
  return {
    ...(rt !== undefined && rt >= 1 && rt <= 99 ? { rtPriority: rt } : {}),
    ...(nice !== undefined && nice >= -20 && nice <= 19 ? { nice } : {}),
  };
}
