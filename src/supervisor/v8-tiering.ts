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
 * the small configs where it would only hold memory. Sparkplug, the baseline compiler, stays
 * on down to a few checks a second, and goes off below (see MAX_UNCOMPILED_ATTEMPTS_PER_S).
 * V8 reads these flags each time it decides whether to compile a function, in every isolate,
 * so switching them takes effect at once.
 */
import v8 from 'node:v8';
import type { Config } from '../config/model.ts';
import { libc } from '../io/libc.ts';

/** More VRRP instances than this (adverts both ways every advert_int) want the optimizer. */
const MAX_INTERPRETED_INSTANCES = 32;
/** More check attempts a second than this (health checks and vrrp_scripts) want it too. */
const MAX_INTERPRETED_ATTEMPTS_PER_S = 50;
/**
 * More check attempts a second than this keep Sparkplug, V8's baseline compiler, as well.
 * Its code is never flushed (node 20: --no-flush-baseline-code), and a function keeps its
 * bytecode while it has some: under bench/soak (1.5 attempts a second, a reload every 10 s)
 * the main thread's code grew 3.7 → 4.4 MB over 8 minutes with it, and stayed at 2.8 MB
 * with Sparkplug off from exec; every heap reserved 3 MB less in all.
 */
const MAX_UNCOMPILED_ATTEMPTS_PER_S = 5;
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

/**
 * The compilers `config` wants once running: TurboFan for many instances or check attempts,
 * Sparkplug wherever TurboFan is and for more than a few check attempts a second.
 */
export function tiersWanted(config: Config): { optimizer: boolean; baseline: boolean } {
  const perS = attemptsPerSecond(config);
  const optimizer = config.vrrpInstances.length > MAX_INTERPRETED_INSTANCES || perS > MAX_INTERPRETED_ATTEMPTS_PER_S;
  return { optimizer, baseline: optimizer || perS > MAX_UNCOMPILED_ATTEMPTS_PER_S };
}

/**
 * Once running, and after each reload: TurboFan and Sparkplug as `config` wants (start-up
 * runs with both), and malloc's free memory given back TRIM_AFTER_MS later. Returns which are on.
 */
export function settleAfterBurst(config: Config): { optimizer: boolean; baseline: boolean } {
  const { optimizer, baseline } = tiersWanted(config);
  v8.setFlagsFromString(optimizer ? '--opt' : '--no-opt');
  v8.setFlagsFromString(baseline ? '--sparkplug' : '--no-sparkplug');
  setTimeout(releaseFreeMemory, TRIM_AFTER_MS).unref();
  return { optimizer, baseline };
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
