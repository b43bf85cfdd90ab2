/**
 * The VRRP worker thread: wires the parent port and the real sockets to the VRRP engine.
 * Nothing else runs on this event loop, so no check, script, netlink call or log line can
 * delay an advertisement.
 */
import { parentPort, workerData } from 'node:worker_threads';
import v8 from 'node:v8';
import { performance } from 'node:perf_hooks';
import type { FromVrrp, ToVrrp } from '../src/ipc/messages.ts';
import type { QuietGcIo } from '../src/vrrp/quiet-gc.ts';
import type { VrrpWorkerData } from '../src/supervisor/vrrp-boot.ts';
import { applyVrrpThreadPriority, setThreadRealtime } from '../src/io/thread-priority.ts';

const port = parentPort;
if (!port) throw new Error('workers/vrrp.ts must run as a worker thread');

const data = workerData as VrrpWorkerData;

// Adverts first: this thread (which reads its own sockets) runs ahead of checks, scripts
// and the main thread — SCHED_RR at global_defs `vrrp_rt_priority` when set, the nice
// value of `vrrp_priority` when only that is set, else SCHED_RR 1 (see thread-priority.ts).
// Failure (no CAP_SYS_NICE, RestrictRealtime) is logged, and nice −10 applies instead.
if (data.rtPriority !== undefined) process.env['VIGIL_VRRP_RT_PRIORITY'] = String(data.rtPriority);
if (data.nice !== undefined) process.env['VIGIL_VRRP_NICE'] = String(data.nice);
const applied = applyVrrpThreadPriority();
if (!applied.ok) port.postMessage({ type: 'event', level: 'warn', event: 'vrrp.priority-failed', fields: { error: applied.error } } satisfies FromVrrp);

// The rest loads at that priority: on a busy host the thread's start-up is on the path to the
// first advert (see src/supervisor/vrrp-boot.ts).
const [{ VrrpEngine }, { QUIET_GC_CHECK_MS, newQuietGcState, quietGcTick }, { openVrrpSocket }, { openGarpSender }, { macBytes }, { installFdLedger }, { isolateHeap, threadGc }] =
  await Promise.all([
    import('../src/vrrp/engine.ts'),
    import('../src/vrrp/quiet-gc.ts'),
    import('../src/io/vrrp-socket.ts'),
    import('../src/io/garp.ts'),
    import('../src/io/wire.ts'),
    import('../src/io/fd-ledger.ts'),
    import('../src/io/isolate-heap.ts'),
  ]);

// Every socket this thread opens is recorded where the supervisor can close it if the thread dies.
installFdLedger(data.fdLedger);

/** ms: wake this much before an advert is due and wait out the rest (see EngineIo.spinMs). */
const spinMs = Number(process.env['VIGIL_ADVERT_SPIN_MS'] ?? '2');

/**
 * Sub-millisecond waits: Atomics.wait is a futex wait with a fractional-ms timeout (an
 * hrtimer; a realtime thread has no timer slack), so the thread sleeps instead of spinning
 * and allocates nothing. A wake-up before the due time (or a spurious one) waits again.
 */
const sleeper = new Int32Array(new SharedArrayBuffer(4));
function waitUntil(dueMs: number): void {
  for (;;) {
    const left = dueMs - performance.now();
    if (left <= 0) return;
    Atomics.wait(sleeper, 0, 0, left);
  }
}

/**
 * global_defs `max_auto_priority`, as keepalived's scheduler does it (lib/process.c
 * increment_process_priority): an advert timer that fires more than min_auto_priority_delay
 * late raises this thread's SCHED_RR priority by one (from normal scheduling: to 1), up to
 * the maximum.
 */
let rtPriority = applied.ok ? Number(/^SCHED_RR (\d+)$/.exec(applied.policy)?.[1] ?? '0') : 0;
function raiseWhenLate(lateMs: number): void {
  const max = data.maxAutoPriority ?? 0;
  if (lateMs < (data.minAutoPriorityDelayMs ?? 1000) || rtPriority >= max) return;
  const next = rtPriority + 1;
  const r = setThreadRealtime(next);
  if (!r.ok) {
    port!.postMessage({ type: 'event', level: 'warn', event: 'vrrp.priority-failed', fields: { error: r.error } } satisfies FromVrrp);
    return;
  }
  rtPriority = next;
  port!.postMessage({ type: 'event', level: 'info', event: 'vrrp.priority-raised', fields: { rtPriority: next, lateMs: Math.round(lateMs) } } satisfies FromVrrp);
}

const engine = new VrrpEngine({
  openSocket: (opts, onPacket, onError) =>
    openVrrpSocket(
      {
        onDrop: opts.onDrop,
        family: opts.family,
        ifname: opts.ifname,
        group: opts.group,
        unicast: opts.unicast,
        ...(opts.src !== undefined ? { src: opts.src } : {}),
        ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}),
        ...(opts.ah === true ? { ah: true } : {}),
      },
      onPacket,
      onError,
    ),
  openGarp: (link) => openGarpSender({ ...link, mac: macBytes(link.mac) }),
  post: (msg: FromVrrp) => port.postMessage(msg),
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
  spinMs,
  waitUntil,
  heap: isolateHeap,
  ...(data.maxAutoPriority !== undefined ? { firedLate: raiseWhenLate } : {}),
});

port.on('message', (msg: ToVrrp) => engine.handle(msg));

// Collections in the quiet between adverts (see quiet-gc.ts).
const gc = threadGc();
const quietGc = newQuietGcState();
const quietGcIo: QuietGcIo = {
  msToNextAdvert: () => engine.msToNextAdvert(),
  heapUsed: () => v8.getHeapStatistics().used_heap_size,
  collect: (kind) => gc({ type: kind }),
};
// Each look says when the next is due (quiet-gc.ts); a message (a reload's specs, a status
// request) may allocate a burst, so it brings the next look forward.
let quietGcTimer: NodeJS.Timeout | undefined;
const lookAtHeap = (): void => {
  const next = quietGcTick(quietGcIo, quietGc, performance.now());
  quietGcTimer = setTimeout(lookAtHeap, next);
  quietGcTimer.unref();
};
const lookSoon = (): void => {
  clearTimeout(quietGcTimer);
  quietGcTimer = setTimeout(lookAtHeap, QUIET_GC_CHECK_MS);
  quietGcTimer.unref();
};
lookSoon();
port.on('message', lookSoon);

