/**
 * What the daemon keeps of its start-up (and of each reload) once it runs: V8's optimizing
 * compiler (TurboFan) and the memory malloc holds on to.
 *
 * Start-up code (module loading, the config parser, the workers' own start) is hot for a
 * moment and never again; what TurboFan compiled for it stayed resident: its code, the
 * compiler's zone memory, freed but kept by glibc's malloc, and the compiler's own pages of
 * node's text. Measured with bench/footprint's node A config, vigil alone on the host: RSS
 * 82 MB as it was; 71 MB with TurboFan off from exec; 76 MB with TurboFan on for start-up,
 * then off, and malloc_trim(0) a few seconds after. The last is what runs: start-up keeps
 * TurboFan, because in the IPVS test VM (an emulated CPU) an interpreted start-up put the
 * first advert 4 s later (14.7 s against 10.7 s, lvs100), and a late first advert is the
 * joint-start flap this daemon must not cause.
 *
 * Once running, the config decides, at start and at each reload: TurboFan stays on where the
 * steady load is more than a few dozen instances or checks a second (interpreted, HTTP checks
 * cost twice the CPU: bench/checks, 4,785 → 2,132 attempts per core-second) and goes off for
 * the small configs where it would only hold memory. V8 reads the flag each time it decides
 * whether to optimize a function, in every isolate, so switching it takes effect at once.
 */
import v8 from 'node:v8';
import type { Config } from '../config/model.ts';
import { libc } from '../io/libc.ts';

/** More VRRP instances than this (adverts both ways every advert_int) want the optimizer. */
const MAX_INTERPRETED_INSTANCES = 32;
/** More check attempts a second than this (health checks and vrrp_scripts) want it too. */
const MAX_INTERPRETED_ATTEMPTS_PER_S = 50;
/** ms after start-up or a reload before malloc's free memory is given back: the burst's
 * collections and the workers' start are over by then. */
const TRIM_AFTER_MS = 5000;

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

/**
 * Once running, and after each reload: TurboFan as `config` wants, and malloc's free memory
 * given back TRIM_AFTER_MS later. Returns whether TurboFan is on.
 */
export function settleAfterBurst(config: Config): boolean {
  const on = optimizerWanted(config);
  v8.setFlagsFromString(on ? '--opt' : '--no-opt');
  setTimeout(releaseFreeMemory, TRIM_AFTER_MS).unref();
  return on;
}

/**
 * Gives the memory malloc keeps free (in every thread's arena) back to the system: glibc's
 * malloc_trim(0). Each arena is locked while it is trimmed; threads allocate from arenas of
 * their own, so the VRRP thread does not wait on the main thread's. Returns false where
 * there is no glibc to ask.
 */
export function releaseFreeMemory(): boolean {
  try {
    libc().malloc_trim(0);
    return true;
  } catch {
    return false;
  }
}
