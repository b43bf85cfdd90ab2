/**
 * Scheduling priority of the calling thread. The VRRP worker and its socket reader run at a
 * raised priority (nice −10 by default, like keepalived's `vrrp_priority`), so that on a
 * busy host — checks, scripts, the main thread — the kernel runs them first and adverts stay
 * on time. Linux applies setpriority(PRIO_PROCESS, tid) to the one thread.
 */
import koffi from 'koffi';
import { lastErrno } from './libc.ts';

/** x86_64 / aarch64 syscall numbers of gettid */
const SYS_GETTID: Partial<Record<string, number>> = { x64: 186, arm64: 178 };
const PRIO_PROCESS = 0;

/** Sets the calling thread's nice value; returns an error string instead of throwing. */
export function setThreadNice(nice: number): { ok: true; tid: number } | { ok: false; error: string } {
  const nr = SYS_GETTID[process.arch];
  if (nr === undefined) return { ok: false, error: `no gettid syscall number for ${process.arch}` };
  const lib = koffi.load('libc.so.6');
  const syscall = lib.func('long syscall(long number)') as (n: number) => number;
  const setpriority = lib.func('int setpriority(int which, unsigned int who, int prio)') as (w: number, who: number, p: number) => number;
  const tid = syscall(nr);
  if (tid <= 0) return { ok: false, error: `gettid failed: ${lastErrno()}` };
  if (setpriority(PRIO_PROCESS, tid, nice) !== 0) return { ok: false, error: `setpriority(${nice}) failed: ${lastErrno()}` };
  return { ok: true, tid };
}
