/**
 * Whether V8's optimizing compiler (TurboFan) runs in this process. It is off from exec
 * (main.ts): start-up code (module loading, the config parser, the workers' own start) is
 * hot for a moment and never again, and what TurboFan compiled for it stayed resident —
 * its code, the compiler's zone memory kept by malloc, and the compiler's own pages of
 * node's text. Measured with bench/footprint's node A config (alone on the host): RSS 82 →
 * 71 MB with TurboFan off throughout, 82 → 76 MB with it off only until start-up is over.
 *
 * The price is in what runs hot for good: HTTP checks cost about twice the CPU interpreted
 * (bench/checks: 4,785 → 2,132 attempts per core-second), and so would adverts of hundreds
 * of instances. So the config decides, at start and at each reload: TurboFan comes on where
 * the steady load is more than a few dozen instances or checks a second, and stays off for
 * the small configs where it would only hold memory. V8 reads the flag each time it decides
 * whether to optimize a function, in every isolate, so switching it takes effect at once.
 */
import v8 from 'node:v8';
import type { Config } from '../config/model.ts';

/** More VRRP instances than this (adverts both ways every advert_int) want the optimizer. */
const MAX_INTERPRETED_INSTANCES = 32;
/** More check attempts a second than this (health checks and vrrp_scripts) want it too. */
const MAX_INTERPRETED_ATTEMPTS_PER_S = 50;

/** Check attempts a second the config asks for, failures and retries aside. */
export function attemptsPerSecond(config: Config): number {
  let n = 0;
  for (const vs of config.virtualServers)
    for (const rs of vs.realServers) for (const c of rs.checkers) if (c.delayLoopMs > 0) n += 1000 / c.delayLoopMs;
  for (const s of config.vrrpScripts) if (s.intervalMs > 0) n += 1000 / s.intervalMs;
  return n;
}

export function optimizerWanted(config: Config): boolean {
  return config.vrrpInstances.length > MAX_INTERPRETED_INSTANCES || attemptsPerSecond(config) > MAX_INTERPRETED_ATTEMPTS_PER_S;
}

/** Start-up: interpreted (and baseline-compiled) JavaScript only. */
export function optimizerOffForStartup(): void {
  v8.setFlagsFromString('--no-opt');
}

/** Once running, and after each reload: as `config` wants. Returns whether it is on. */
export function applyOptimizer(config: Config): boolean {
  const on = optimizerWanted(config);
  v8.setFlagsFromString(on ? '--opt' : '--no-opt');
  return on;
}
