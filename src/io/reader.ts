/**
 * The owner side of the reader thread (see reader-thread.ts for why it exists): one reader
 * thread per thread that owns sockets, started with the first watched fd and stopped when
 * the last one is unwatched, so an idle process holds no thread and no fd.
 *
 * An fd handed to watchFd() belongs to the reader from then on: the reader closes it when
 * it is unwatched, so its number cannot be reused while the reader may still read it.
 */
import { Worker } from 'node:worker_threads';
import { IoError } from './errors.ts';
import { currentLedger, forgetFd, recordFd } from './fd-ledger.ts';
import { EFD_CLOEXEC, EFD_NONBLOCK, check, libc } from './libc.ts';
import type { FromReader, RawDatagram, ReaderData, ToReader } from './reader-protocol.ts';

export type { RawDatagram } from './reader-protocol.ts';

export interface Watch {
  /** Stops watching; the reader closes the fd. Idempotent. */
  close(): void;
}

interface Watcher {
  readonly fd: number;
  /** fd-ledger.ts slot of `fd` (-1: not recorded) */
  readonly slot: number;
  readonly onDatagram: (d: RawDatagram) => void;
  readonly onError: (e: IoError) => void;
}

class Reader {
  readonly worker: Worker;
  readonly efd: number;
  readonly pending: Int32Array;
  /** settles when the thread polls (or has died): see readerReady() */
  readonly ready: Promise<void>;
  private markReady: () => void = () => undefined;
  readonly watchers = new Map<number, Watcher>();
  private stopped = false;
  private readonly one = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);

  constructor(onGone: (r: Reader) => void) {
    const c = libc();
    this.efd = check(c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), 'VIGIL_SOCK_OPEN', 'eventfd', 'reader thread');
    const efdSlot = recordFd(this.efd);
    const sab = new SharedArrayBuffer(4);
    this.pending = new Int32Array(sab);
    const data: ReaderData = { efd: this.efd, pending: sab, ledger: currentLedger() };
    // Compiled, reader-thread.js sits next to this file. Under tsx (development, tests) a
    // Worker does not inherit the tsx loader, so a one-line trampoline registers it first
    // (as src/supervisor/threads.ts does for the VRRP worker).
    const compiled = import.meta.url.endsWith('.js');
    const url = new URL(`./reader-thread.${compiled ? 'js' : 'ts'}`, import.meta.url);
    const options = {
      workerData: data,
      name: 'vrrp-reader',
      // Its heap holds a few buffers; keep a runaway from eating the process.
      resourceLimits: { maxOldGenerationSizeMb: 64 },
    };
    this.worker = compiled
      ? new Worker(url, options)
      : new Worker(
          // Resolved here, so the trampoline does not depend on the process's cwd.
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); })`,
          { ...options, eval: true },
        );
    this.ready = new Promise<void>((resolve) => (this.markReady = resolve));
    this.worker.on('message', (msg: FromReader) => this.onMessage(msg));
    this.worker.on('error', (e: Error) => this.fail(`reader thread failed: ${e.message}`));
    this.worker.on('exit', (code) => {
      forgetFd(efdSlot);
      c.close(this.efd);
      if (!this.stopped) this.fail(`reader thread exited with code ${code}`);
      onGone(this);
    });
  }

  send(msg: ToReader): void {
    this.worker.postMessage(msg);
    libc().write(this.efd, this.one, 8);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.send({ type: 'stop' });
  }

  private onMessage(msg: FromReader): void {
    switch (msg.type) {
      case 'datagrams': {
        for (const d of msg.items) {
          const w = this.watchers.get(d.id);
          if (!w) continue;
          try {
            w.onDatagram(d);
          } catch (e) {
            w.onError(new IoError('VIGIL_SOCK_RECV', `packet handler threw: ${(e as Error).message}`));
          }
        }
        Atomics.sub(this.pending, 0, msg.items.length);
        Atomics.notify(this.pending, 0);
        break;
      }
      case 'recv-error':
        this.watchers.get(msg.id)?.onError(
          new IoError('VIGIL_SOCK_RECV', `${msg.syscall} failed: ${msg.errno}`, { errno: msg.errno, syscall: msg.syscall }),
        );
        break;
      case 'removed':
        break;
      case 'ready':
        this.markReady();
        break;
    }
  }

  /** The thread died: nobody reads or will close these fds, so close them here and tell each owner. */
  private fail(why: string): void {
    this.markReady();
    if (this.stopped && this.watchers.size === 0) return;
    this.stopped = true;
    const c = libc();
    for (const [id, w] of this.watchers) {
      this.watchers.delete(id);
      forgetFd(w.slot);
      c.close(w.fd);
      w.onError(new IoError('VIGIL_SOCK_RECV', why, { syscall: READER_GONE }));
    }
  }
}

/** `syscall` of the IoError an owner gets when the reader died and its fd is already closed. */
export const READER_GONE = 'reader-thread';

let current: Reader | undefined;
let nextId = 1;

function startReader(): Reader {
  return (current ??= new Reader((r) => {
    if (current === r) current = undefined;
  }));
}

/**
 * Starts this thread's reader thread before the first socket, so that its start-up (an
 * isolate and its modules, ~100 ms) overlaps the owner's own. Throws IoError
 * VIGIL_SOCK_OPEN if it cannot be started.
 */
export function prestartReader(): void {
  startReader();
}

/**
 * Delivers every datagram that arrives on `fd` to `onDatagram`, on this thread's event loop.
 * Takes ownership of `fd` (and of its fd-ledger `slot`, -1 if none). Throws IoError
 * VIGIL_SOCK_OPEN if the reader cannot be started.
 */
export function watchFd(fd: number, slot: number, onDatagram: (d: RawDatagram) => void, onError: (e: IoError) => void): Watch {
  const reader = startReader();
  const id = nextId++;
  reader.watchers.set(id, { fd, slot, onDatagram, onError });
  reader.send({ type: 'add', id, fd, slot });
  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      if (!reader.watchers.delete(id)) return; // the reader died and already closed it
      reader.send({ type: 'remove', id });
      if (reader.watchers.size === 0) {
        if (current === reader) current = undefined;
        reader.stop();
      }
    },
  };
}

/**
 * Settles once this thread's reader thread polls its sockets (at once when there is none).
 * The reader starts with the first socket and, run through tsx, may take hundreds of ms to
 * load: the VRRP engine waits on this before starting its routers, so that a backup does not
 * time out its master-down interval on adverts that are only waiting in the socket buffer.
 */
export function readerReady(): Promise<void> {
  return current?.ready ?? Promise.resolve();
}

/** Test hook: whether this thread currently runs a reader thread. */
export function readerRunning(): boolean {
  return current !== undefined;
}
