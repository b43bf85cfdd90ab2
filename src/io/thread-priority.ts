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

const SCHED_RR = 2;

/**
 * Real-time round-robin scheduling for the calling thread at `priority` (1–99), as keepalived
 * does for its VRRP process with `vrrp_rt_priority`. Needs CAP_SYS_NICE and an RT budget
 * (systemd's RestrictRealtime=yes refuses it); returns an error string instead of throwing.
 */
export function setThreadRealtime(priority: number): { ok: true; tid: number } | { ok: false; error: string } {
  const nr = SYS_GETTID[process.arch];
  if (nr === undefined) return { ok: false, error: `no gettid syscall number for ${process.arch}` };
  const lib = koffi.load('libc.so.6');
  const syscall = lib.func('long syscall(long number)') as (n: number) => number;
  const setscheduler = lib.func('int sched_setscheduler(int pid, int policy, const void *param)') as (p: number, pol: number, param: Buffer) => number;
  const tid = syscall(nr);
  if (tid <= 0) return { ok: false, error: `gettid failed: ${lastErrno()}` };
  const param = Buffer.alloc(4);
  param.writeInt32LE(priority, 0);
  if (setscheduler(tid, SCHED_RR, param) !== 0) return { ok: false, error: `sched_setscheduler(SCHED_RR, ${priority}) failed: ${lastErrno()}` };
  return { ok: true, tid };
}

/** The priority the VRRP threads ask for, from the environment the VRRP worker sets for itself and its reader. */
export function applyVrrpThreadPriority(): { ok: true } | { ok: false; error: string } {
  const rt = Number(process.env['VIGIL_VRRP_RT_PRIORITY'] ?? '0');
  if (rt > 0) {
    const r = setThreadRealtime(Math.min(99, Math.max(1, Math.round(rt))));
    if (r.ok) return { ok: true };
    // fall through to the nice value: better than nothing
    const n = setThreadNice(Number(process.env['VIGIL_VRRP_NICE'] ?? '-10'));
    return { ok: false, error: `${r.error}${n.ok ? '; nice applied instead' : `; ${n.error}`}` };
  }
  const nice = Number(process.env['VIGIL_VRRP_NICE'] ?? '-10');
  if (nice === 0) return { ok: true };
  const r = setThreadNice(nice);
  return r.ok ? { ok: true } : r;
}
