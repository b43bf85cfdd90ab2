/**
 * Readiness of any fd (a raw socket, a netlink socket) on the calling thread's own event
 * loop: a libuv poll handle, made through koffi from the symbols node exports for addons
 * (libuv's uv_poll_*, node::GetCurrentEventLoop, node::AddEnvironmentCleanupHook).
 *
 * Node itself watches only the fds it created (net, dgram, pipes), and raw-socket puts its
 * poll handle on the main thread's loop, so before this a thread of its own (an isolate,
 * ~8 MB, waking per datagram) polled the VRRP sockets and posted what it read. A poll handle
 * costs ~160 bytes and a wake-up of the owning loop, nothing else.
 *
 * Three rules keep it safe where a worker is torn down, which node does not know about:
 * - The callback takes no arguments and only schedules work (setImmediate): a koffi callback
 *   that converted an argument while the worker is being terminated would make node-addon-api
 *   abort the process, and one that threw would leave its exception pending in koffi.
 * - An environment cleanup hook stops the handle (uv_poll_stop, called by node) before the
 *   isolate goes, so that no datagram arriving during teardown calls into a dead isolate.
 * - The handle is flagged internal, as libuv flags its own: a worker's loop is closed at
 *   teardown and node aborts when a handle it did not make is still open then.
 * Measured before adoption, with a flood on the fd while the worker was terminated or the
 * process exited: without the hook and the flag 58 of 60 runs crashed; with them 60 of 60 ok.
 */
import type { IKoffiCType, KoffiFunction } from 'koffi';
import koffi from './koffi.ts';
import { IoError } from './errors.ts';
import { libc, processSymbols } from './libc.ts';

/** libuv's uv_handle_type: UV_POLL */
const UV_POLL = 8;
/** uv_poll_event: UV_READABLE */
const UV_READABLE = 1;
/**
 * Offset of `unsigned int flags` in uv_handle_t on 64-bit Linux (data, loop, type, close_cb,
 * handle_queue[2], u[4], next_closing), and libuv's internal-handle bit (src/uv-common.h).
 * uv_poll_init leaves exactly UV_HANDLE_REF there: that is checked before the bit is set.
 */
const FLAGS_OFFSET = 88;
const UV_HANDLE_REF = 0x8;
const UV_HANDLE_INTERNAL = 0x10;

export interface FdPoll {
  /** Stops watching. The fd is not closed (it is the caller's). Idempotent. */
  stop(): void;
}

interface Binding {
  readonly loop: unknown;
  readonly isolate: unknown;
  readonly handleSize: number;
  readonly pollStopAddr: unknown;
  readonly Ready: IKoffiCType;
  readonly pollInit: KoffiFunction;
  readonly pollStart: KoffiFunction;
  readonly pollStop: KoffiFunction;
  readonly close: KoffiFunction;
  readonly addHook: KoffiFunction;
  readonly removeHook: KoffiFunction;
  readonly closed: unknown;
}

let bound: Binding | undefined;
/** Handles given to uv_close whose close callback has not run yet; freed together. */
let closing: unknown[] = [];
let closingLeft = 0;

function bind(): Binding {
  if (bound) return bound;
  try {
    const node = processSymbols();
    const Void = koffi.proto('void vigil_uv_cb()');
    const isolate = node.func('void *_ZN2v87Isolate10GetCurrentEv()')();
    const loop = node.func('void *_ZN4node19GetCurrentEventLoopEPN2v87IsolateE(void *)')(isolate);
    const typeName = node.func('const char *uv_handle_type_name(int)')(UV_POLL);
    if (typeName !== 'poll' || !loop) throw new Error(`libuv handle type ${UV_POLL} is ${String(typeName)}, not poll`);
    const b: Binding = {
      loop,
      isolate,
      handleSize: Number(node.func('size_t uv_handle_size(int)')(UV_POLL)),
      pollStopAddr: libc().dlsym(null, 'uv_poll_stop'),
      Ready: koffi.pointer(Void),
      pollInit: node.func('int uv_poll_init(void *loop, void *handle, int fd)'),
      pollStart: node.func('int uv_poll_start(void *handle, int events, vigil_uv_cb *cb)'),
      pollStop: node.func('int uv_poll_stop(void *handle)'),
      close: node.func('void uv_close(void *handle, vigil_uv_cb *cb)'),
      addHook: node.func('void _ZN4node25AddEnvironmentCleanupHookEPN2v87IsolateEPFvPvES3_(void *isolate, void *fn, void *arg)'),
      removeHook: node.func('void _ZN4node28RemoveEnvironmentCleanupHookEPN2v87IsolateEPFvPvES3_(void *isolate, void *fn, void *arg)'),
      closed: koffi.register(() => {
        // One handle finished closing (uv_close): free them all once none is pending.
        if (--closingLeft > 0) return;
        for (const h of closing) koffi.free(h);
        closing = [];
      }, koffi.pointer(Void)),
    };
    if (!b.pollStopAddr) throw new Error('uv_poll_stop is not exported');
    bound = b;
    return b;
  } catch (e) {
    throw new IoError('VIGIL_SOCK_OPEN', `cannot watch fds on this thread's event loop: ${(e as Error).message}`, { syscall: 'uv_poll_init' });
  }
}

/**
 * Calls `onReadable` (from a setImmediate on this thread, so never inside libuv's callback)
 * each time `fd` is readable, until stop(). Level-triggered: if `onReadable` leaves data
 * unread it is called again on the next loop turn. The fd is made non-blocking by libuv.
 * Throws IoError VIGIL_SOCK_OPEN if libuv refuses the fd.
 */
export function pollReadable(fd: number, onReadable: () => void): FdPoll {
  const b = bind();
  const handle: unknown = koffi.alloc('uint8_t', b.handleSize);
  const rc = b.pollInit(b.loop, handle, fd) as number;
  if (rc !== 0) {
    koffi.free(handle);
    throw new IoError('VIGIL_SOCK_OPEN', `uv_poll_init(fd ${fd}) failed: libuv error ${rc}`, { syscall: 'uv_poll_init' });
  }
  const flags = new DataView(koffi.view(handle, FLAGS_OFFSET + 4));
  if (flags.getUint32(FLAGS_OFFSET, true) !== UV_HANDLE_REF) {
    // Not the layout this module was written against: leave the handle open rather than
    // touch memory whose meaning is unknown (it is freed with the thread's loop).
    throw new IoError('VIGIL_SOCK_OPEN', 'unexpected uv_handle_t layout: cannot watch fds with this node build', {
      syscall: 'uv_poll_init',
    });
  }
  flags.setUint32(FLAGS_OFFSET, UV_HANDLE_REF | UV_HANDLE_INTERNAL, true);

  let scheduled = false;
  let stopped = false;
  const run = (): void => {
    scheduled = false;
    if (!stopped) onReadable();
  };
  const ready = koffi.register(() => {
    // Called by libuv in its poll phase: schedule only (see the module comment), never throw.
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(run);
  }, b.Ready);
  b.addHook(b.isolate, b.pollStopAddr, handle);
  const started = b.pollStart(handle, UV_READABLE, ready) as number;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    b.pollStop(handle);
    b.removeHook(b.isolate, b.pollStopAddr, handle);
    koffi.unregister(ready);
    closing.push(handle);
    closingLeft++;
    b.close(handle, b.closed);
  };
  if (started !== 0) {
    stop();
    throw new IoError('VIGIL_SOCK_OPEN', `uv_poll_start(fd ${fd}) failed: libuv error ${started}`, { syscall: 'uv_poll_start' });
  }
  return { stop };
}
