/**
 * global_defs limits on the whole daemon process, applied after start-up and after each
 * reload: `vrrp_no_swap` (and `checker_no_swap`, `bfd_no_swap`: vigil is one process, its
 * checkers are threads of it, so each of the three locks the same memory: its code and
 * main stack, not the V8 heaps — see src/io/process-limits.ts) and `vrrp_rlimit_rttime`.
 *
 * keepalived applies a 10 ms RLIMIT_RTTIME to its realtime processes by default; vigil only
 * when the config sets one: its VRRP thread is a V8 isolate whose start-up and garbage
 * collections can run longer than 10 ms without a blocking call, and the hard limit is the
 * kernel's SIGKILL of the whole daemon.
 */
import type { Config } from '../config/model.ts';
import { lockMemory, setRealtimeCpuLimit, unlockMemory } from '../io/process-limits.ts';
import type { Logger } from './logger.ts';

let locked = false;
let rttimeUs: number | undefined;
let sigxcpuWatched = false;

export function applyProcessLimits(config: Config, log: Logger): void {
  const g = config.globalDefs;
  if (g.noSwap === true && !locked) {
    const r = lockMemory();
    if (r.ok) {
      locked = true;
      log.info({ event: 'daemon.memory-locked', mappings: r.mappings }, 'code and stack locked in memory (no_swap)');
    } else log.warn({ event: 'daemon.memory-lock-failed', err: r.error }, 'cannot lock the process in memory');
  } else if (g.noSwap !== true && locked) {
    const r = unlockMemory();
    if (r.ok) locked = false;
    else log.warn({ event: 'daemon.memory-lock-failed', err: r.error }, 'cannot unlock the process memory');
  }
  const us = g.vrrpRlimitRttimeUs;
  if (us !== undefined && us !== rttimeUs) {
    const r = setRealtimeCpuLimit(us);
    if (r.ok) {
      rttimeUs = us;
      log.info({ event: 'daemon.rlimit-rttime', us }, `realtime CPU limit ${us} us (SIGXCPU at ${Math.floor(us / 2)} us)`);
      // keepalived's SIGXCPU handler logs; without one the signal would end the daemon
      if (!sigxcpuWatched) {
        sigxcpuWatched = true;
        process.on('SIGXCPU', () => log.warn({ event: 'daemon.rlimit-rttime-exceeded', us: rttimeUs }, 'a realtime thread ran past half its RLIMIT_RTTIME without blocking'));
      }
    } else log.warn({ event: 'daemon.rlimit-rttime-failed', err: r.error }, 'cannot set RLIMIT_RTTIME');
  }
}
