/**
 * A record of the fds the socket layer holds, in shared memory, so the supervisor can close
 * them when the VRRP worker dies.
 *
 * fds are process-wide, but a worker_threads Worker that is terminated or crashes runs no
 * more JavaScript, and the raw sockets it held (with
 * their multicast memberships) would stay open until the process exits — one set more per
 * worker restart. With a ledger the supervisor closes them once the worker's 'exit' event
 * has fired, when no thread of that worker can touch them any more:
 *
 *   const ledger = createFdLedger();                       // supervisor
 *   const w = startWorker('vrrp', { workerData: { fdLedger: ledger } });
 *   w.on('exit', () => closeLedgerFds(ledger));
 *   installFdLedger(workerData.fdLedger);                   // VRRP worker, before opening sockets
 *
 * A slot holds fd+1 (0 = free). Whoever closes an fd clears its slot *before* close(), so a
 * thread that dies in between leaks that one fd rather than leaving a number the supervisor
 * could close after it was reused by someone else.
 */
import { libc } from './libc.ts';

export function createFdLedger(slots = 1024): SharedArrayBuffer {
  return new SharedArrayBuffer(4 * slots);
}

let installed: Int32Array | undefined;

/** Records this thread's sockets in `ledger` from now on. */
export function installFdLedger(ledger: SharedArrayBuffer): void {
  installed = new Int32Array(ledger);
}

export function currentLedger(): SharedArrayBuffer | undefined {
  return installed?.buffer as SharedArrayBuffer | undefined;
}

/** Records `fd`; returns its slot, or -1 if no ledger is installed or it is full (then it is simply not tracked). */
export function recordFd(fd: number, ledger: Int32Array | undefined = installed): number {
  if (!ledger) return -1;
  for (let i = 0; i < ledger.length; i++) {
    if (Atomics.compareExchange(ledger, i, 0, fd + 1) === 0) return i;
  }
  return -1;
}

/** Forgets slot `slot` (call before closing its fd). */
export function forgetFd(slot: number, ledger: Int32Array | undefined = installed): void {
  if (ledger && slot >= 0) Atomics.store(ledger, slot, 0);
}

/**
 * Closes every fd still recorded and clears the ledger; returns how many it closed. Only
 * after the worker that used the ledger has exited.
 */
export function closeLedgerFds(ledger: SharedArrayBuffer): number {
  const l = new Int32Array(ledger);
  const c = libc();
  let n = 0;
  for (let i = 0; i < l.length; i++) {
    const v = Atomics.exchange(l, i, 0);
    if (v > 0) {
      c.close(v - 1);
      n++;
    }
  }
  return n;
}
