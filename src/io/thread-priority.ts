/**
 * Scheduling priority of the calling thread. The VRRP worker (which reads its own sockets) runs at a
 * raised priority (SCHED_RR 1 by default, or what keepalived's `vrrp_rt_priority` /
 * `vrrp_priority` say), so that on a busy host — checks, scripts, the main thread — the
 * kernel runs them first and adverts stay on time. Linux applies setpriority(PRIO_PROCESS,
 * tid) and sched_setscheduler(tid) to the one thread.
 */
import { readdirSync } from 'node:fs';
import { lastErrno, libcLibrary } from './libc.ts';

/** x86_64 / aarch64 syscall numbers of gettid */
const SYS_GETTID: Partial<Record<string, number>> = { x64: 186, arm64: 178 };
const PRIO_PROCESS = 0;
const SCHED_OTHER = 0;
const SCHED_RR = 2;
/** or'ed into the policy: threads and processes this one creates start at normal scheduling */
const SCHED_RESET_ON_FORK = 0x40000000;

interface SchedCalls {
  syscall(n: number): number;
  setpriority(which: number, who: number, prio: number): number;
  setscheduler(pid: number, policy: number, param: Buffer): number;
}
let bound: SchedCalls | undefined;

/** The libc calls this file makes, bound once per thread. */
function sched(): SchedCalls {
  if (bound) return bound;
  const lib = libcLibrary();
  bound = {
    syscall: lib.func('long syscall(long number)') as SchedCalls['syscall'],
    setpriority: lib.func('int setpriority(int which, unsigned int who, int prio)') as SchedCalls['setpriority'],
    setscheduler: lib.func('int sched_setscheduler(int pid, int policy, const void *param)') as SchedCalls['setscheduler'],
  };
  return bound;
}

/** The calling thread's kernel id, or why it cannot be had. */
function gettid(): { ok: true; tid: number } | { ok: false; error: string } {
  const nr = SYS_GETTID[process.arch];
  if (nr === undefined) return { ok: false, error: `no gettid syscall number for ${process.arch}` };
  const tid = sched().syscall(nr);
  return tid > 0 ? { ok: true, tid } : { ok: false, error: `gettid failed: ${lastErrno()}` };
}

/** struct sched_param */
function schedParam(priority: number): Buffer {
  const param = Buffer.alloc(4);
  param.writeInt32LE(priority, 0);
  return param;
}

/** Sets the calling thread's nice value; returns an error string instead of throwing. */
export function setThreadNice(nice: number): { ok: true; tid: number } | { ok: false; error: string } {
  const id = gettid();
  if (!id.ok) return id;
  if (sched().setpriority(PRIO_PROCESS, id.tid, nice) !== 0) return { ok: false, error: `setpriority(${nice}) failed: ${lastErrno()}` };
  return id;
}

/**
 * Real-time round-robin scheduling for the calling thread at `priority` (1–99), as keepalived
 * does for its VRRP process with `vrrp_rt_priority`. Needs CAP_SYS_NICE and an RT budget
 * (systemd's RestrictRealtime=yes refuses it); returns an error string instead of throwing.
 */
export function setThreadRealtime(priority: number): { ok: true; tid: number } | { ok: false; error: string } {
  const id = gettid();
  if (!id.ok) return id;
  if (sched().setscheduler(id.tid, SCHED_RR, schedParam(priority)) !== 0) {
    return { ok: false, error: `sched_setscheduler(SCHED_RR, ${priority}) failed: ${lastErrno()}` };
  }
  return id;
}

/**
 * Runs `fn` with the calling thread at SCHED_RR `priority`, then puts it back to normal
 * scheduling (its nice value is kept). For a short critical section that must not be split
 * by a preemption: the supervisor's VIP add and first gratuitous ARP at a take-over. Without
 * CAP_SYS_NICE (or with RestrictRealtime) it simply runs `fn`. pid 0 = the calling thread.
 */
export function withRealtimeBoost<T>(priority: number, fn: () => T): T {
  const boosted = sched().setscheduler(0, SCHED_RR, schedParam(priority)) === 0;
  try {
    return fn();
  } finally {
    if (boosted) toNormal(0);
  }
}

/** The start-up's realtime priority while realtimeUntil holds it on this thread. */
let startupPriority: number | undefined;

/**
 * Puts the process's start-up at SCHED_RR `priority` until the returned function puts it
 * back to normal scheduling: the daemon's start-up must reach the VRRP worker's `init`
 * before a peer started in the same instant times out. That is the calling thread and the
 * threads Node started before it: V8's helpers, which compile and collect for it, and
 * libuv's pool, which reads each module file the start-up loads (at normal scheduling, on a
 * busy host, every read waited for a pool thread). Threads created meanwhile start at normal
 * scheduling (SCHED_RESET_ON_FORK), except the VRRP worker (startingAtStartupPriority). A
 * refusal (no CAP_SYS_NICE) leaves the threads as they were; the restore is then a no-op.
 */
export function realtimeUntil(priority: number): () => void {
  const rr = schedParam(priority);
  if (sched().setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, rr) !== 0) return () => undefined;
  startupPriority = priority;
  const self = gettid();
  const helpers = otherThreads(self.ok ? self.tid : process.pid).filter((tid) => sched().setscheduler(tid, SCHED_RR | SCHED_RESET_ON_FORK, rr) === 0);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    startupPriority = undefined;
    for (const tid of [0, ...helpers]) toNormal(tid);
  };
}

/**
 * Puts the calling thread at normal scheduling: a daemon whose start-up runs without
 * realtime priority may still have been started at it (vigil.service's CPUSchedulingPolicy).
 */
export function normalScheduling(): void {
  toNormal(0);
}

/** Puts thread `tid` (0: the calling one) at normal scheduling; its nice value is kept. */
function toNormal(tid: number): void {
  sched().setscheduler(tid, SCHED_OTHER, schedParam(0));
}

/** This process's threads but `self`, from /proc; none when it cannot be read. */
function otherThreads(self: number): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter((tid) => tid !== self);
  } catch {
    return [];
  }
}

/**
 * Runs `create`, which starts a thread, so that the thread begins at the start-up's
 * realtime priority (realtimeUntil) instead of normal scheduling: SCHED_RESET_ON_FORK is
 * off for the call. For the VRRP worker, whose isolate and modules come up on the path to
 * the first advert: at normal scheduling, beside six busy processes on a 2-core host, its
 * isolate took ~230 ms to come online instead of ~35 (test/system/vrrp/joint-start.test.ts
 * starts it on a busy host). Outside the start-up (a restarted worker) it simply runs `create`.
 */
export function startingAtStartupPriority<T>(create: () => T): T {
  const priority = startupPriority;
  if (priority === undefined) return create();
  const inherit = sched().setscheduler(0, SCHED_RR, schedParam(priority)) === 0;
  try {
    return create();
  } finally {
    if (inherit) sched().setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, schedParam(priority));
  }
}

/**
 * SCHED_RR priority of the VRRP threads when the config sets neither `vrrp_rt_priority` nor
 * `vrrp_priority`. keepalived leaves its VRRP process at normal priority unless told; vigil
 * does not, because a Node thread at nice −10 still loses the CPU for milliseconds on a
 * busy 2-core host (bench/jitter-load: advert error p99 5.2 ms, max 8.2 ms) while any
 * realtime priority keeps it under 0.3 ms. 1 is the lowest: it outranks every normal task
 * and no other realtime one. The threads sleep between adverts (they wait out the last 2 ms in a futex), and
 * the kernel's RT throttling (sched_rt_runtime_us) bounds a runaway.
 */
export const DEFAULT_VRRP_RT_PRIORITY = 1;

/**
 * The realtime priority of the daemon's start-up (before its config is read): the VRRP
 * threads' default, or VIGIL_VRRP_RT_PRIORITY; undefined when that is 0 (realtime off).
 */
export function startupRealtimePriority(): number | undefined {
  const env = process.env['VIGIL_VRRP_RT_PRIORITY'];
  const rt = env !== undefined ? Number(env) : DEFAULT_VRRP_RT_PRIORITY;
  return Number.isInteger(rt) && rt >= 1 && rt <= 99 ? rt : undefined;
}

/**
 * The priority the VRRP threads ask for, from the environment the VRRP worker sets for
 * itself: VIGIL_VRRP_RT_PRIORITY (1–99; 0 = none), else VIGIL_VRRP_NICE
 * alone when only that is set, else SCHED_RR at DEFAULT_VRRP_RT_PRIORITY. When realtime
 * is refused (no CAP_SYS_NICE, RestrictRealtime=yes) the nice value applies (default −10).
 */
export function applyVrrpThreadPriority(): { ok: true; policy: string } | { ok: false; error: string } {
  const rtEnv = process.env['VIGIL_VRRP_RT_PRIORITY'];
  const niceEnv = process.env['VIGIL_VRRP_NICE'];
  const rt = rtEnv !== undefined ? Number(rtEnv) : niceEnv !== undefined ? 0 : DEFAULT_VRRP_RT_PRIORITY;
  const nice = Number(niceEnv ?? '-10');
  if (rt > 0) {
    const prio = Math.min(99, Math.max(1, Math.round(rt)));
    const r = setThreadRealtime(prio);
    if (r.ok) return { ok: true, policy: `SCHED_RR ${prio}` };
    // fall through to the nice value: better than nothing
    const n = setThreadNice(nice);
    return { ok: false, error: `${r.error}${n.ok ? `; nice ${nice} applied instead` : `; ${n.error}`}` };
  }
  if (nice === 0) return { ok: true, policy: 'normal' };
  const r = setThreadNice(nice);
  return r.ok ? { ok: true, policy: `nice ${nice}` } : r;
}
