/**
 * The reader thread: blocks in poll() on every socket its owner registered, reads what is
 * readable with recvmsg() and posts the datagrams to the owner in one message per wake-up.
 *
 * Why a thread of its own: raw-socket registers its uv_poll handle on uv_default_loop(),
 * the main thread's loop, so inside a worker_threads Worker it crashes the process
 * (measured: SIGSEGV, exit 139, with raw-socket 1.8.1 on Node 20). Node exposes no way to
 * watch an arbitrary fd for readiness, and koffi's `.async` calls would park a poll() on
 * libuv's shared threadpool (4 threads for the whole process), where slow getaddrinfo or fs
 * work could hold back a re-armed poll and delay adverts into a spurious failover. A
 * dedicated thread that does nothing but poll+recvmsg has none of these problems, and
 * recvmsg() gives us IPV6_HOPLIMIT/IPV6_PKTINFO ancillary data, which raw-socket cannot.
 *
 * The thread never returns to its event loop while it runs: control messages are read
 * synchronously with receiveMessageOnPort() when the owner writes the eventfd. poll() has a
 * timeout so that terminating the owner (which terminates this thread) is never held up for
 * longer than that by a thread stuck in a system call.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import {
  MSG_DONTWAIT,
  MSG_TRUNC,
  POLLIN,
  POLLNVAL,
  koffi,
  lastErrno,
  libc,
} from './libc.ts';
import { parseIpv6Cmsgs, parseSockaddr } from './wire.ts';
import { forgetFd } from './fd-ledger.ts';
import { applyVrrpThreadPriority } from './thread-priority.ts';
import { MAX_PENDING, type FromReader, type RawDatagram, type ReaderData, type ToReader } from './reader-protocol.ts';

const port = parentPort;
if (!port) throw new Error('reader-thread.ts must run as a worker thread');
const { efd, pending: pendingSab, ledger: ledgerSab } = workerData as ReaderData;
const pending = new Int32Array(pendingSab);
const ledger = ledgerSab ? new Int32Array(ledgerSab) : undefined;
const c = libc();

/** ms. Upper bound on how long a terminate() of the owner waits for this thread. */
const POLL_TIMEOUT_MS = 250;
/** Datagrams read from one socket per wake-up, so one flooded socket cannot starve the others. */
const BURST = 64;

// Native memory for recvmsg: msghdr(56) | iovec(16) | name(32) | control(256) | data(64 KiB + 1).
const MSGHDR = 0;
const IOVEC = 56;
const NAME = 72;
const NAME_LEN = 32;
const CONTROL = 104;
const CONTROL_LEN = 256;
const DATA = 360;
const DATA_LEN = 65536;
const mem: unknown = koffi.alloc('uint8_t', DATA + DATA_LEN);
const base = BigInt(koffi.address(mem));
const view = new DataView(koffi.view(mem, DATA + DATA_LEN));
const bytes = new Uint8Array(view.buffer);

function recvOne(id: number, fd: number): RawDatagram | 'again' | { errno: string } {
  view.setBigUint64(MSGHDR + 0, base + BigInt(NAME), true); // msg_name
  view.setUint32(MSGHDR + 8, NAME_LEN, true); // msg_namelen
  view.setBigUint64(MSGHDR + 16, base + BigInt(IOVEC), true); // msg_iov
  view.setBigUint64(MSGHDR + 24, 1n, true); // msg_iovlen
  view.setBigUint64(MSGHDR + 32, base + BigInt(CONTROL), true); // msg_control
  view.setBigUint64(MSGHDR + 40, BigInt(CONTROL_LEN), true); // msg_controllen
  view.setInt32(MSGHDR + 48, 0, true); // msg_flags
  view.setBigUint64(IOVEC + 0, base + BigInt(DATA), true);
  view.setBigUint64(IOVEC + 8, BigInt(DATA_LEN), true);
  const n = Number(c.recvmsg(fd, mem, MSG_DONTWAIT));
  if (n < 0) {
    const errno = lastErrno();
    return errno === 'EAGAIN' || errno === 'EWOULDBLOCK' || errno === 'EINTR' ? 'again' : { errno };
  }
  const namelen = Math.min(view.getUint32(MSGHDR + 8, true), NAME_LEN);
  const controllen = Math.min(Number(view.getBigUint64(MSGHDR + 40, true)), CONTROL_LEN);
  const flags = view.getInt32(MSGHDR + 48, true);
  const anc = parseIpv6Cmsgs(bytes.subarray(CONTROL, CONTROL + controllen));
  return {
    id,
    data: bytes.slice(DATA, DATA + Math.min(n, DATA_LEN)),
    src: parseSockaddr(bytes.subarray(NAME, NAME + namelen)),
    hopLimit: anc.hopLimit,
    dst: anc.dst,
    truncated: (flags & MSG_TRUNC) !== 0,
  };
}

const watched = new Map<number, { fd: number; slot: number }>(); // id → fd and its ledger slot
/** Forget in the ledger first, then close (fd-ledger.ts says why). */
const release = (w: { fd: number; slot: number }): void => {
  forgetFd(w.slot, ledger);
  c.close(w.fd);
};
/** ids whose recv error was reported, so a persistent error is reported once, not per wake. */
const failing = new Set<number>();
let running = true;
const post = (msg: FromReader, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);

const drain = Buffer.alloc(8);
/** Reads the owner's control messages. The eventfd is non-blocking, so this never waits. */
function control(): void {
  c.read(efd, drain, 8);
  for (let m = receiveMessageOnPort(port!); m; m = receiveMessageOnPort(port!)) {
    const msg = m.message as ToReader;
    switch (msg.type) {
      case 'add':
        watched.set(msg.id, { fd: msg.fd, slot: msg.slot });
        break;
      case 'remove': {
        const w = watched.get(msg.id);
        if (w !== undefined) release(w);
        watched.delete(msg.id);
        failing.delete(msg.id);
        post({ type: 'removed', id: msg.id });
        break;
      }
      case 'stop':
        running = false;
        break;
    }
  }
}

let pfds = Buffer.alloc(8);
// Received adverts must not wait behind checks and scripts either: same priority as the
// VRRP worker that owns this reader (see thread-priority.ts); best effort.
applyVrrpThreadPriority();
port.postMessage({ type: 'ready' } satisfies FromReader);
while (running) {
  const ids = [...watched.keys()];
  const need = 8 * (ids.length + 1);
  if (pfds.length < need) pfds = Buffer.alloc(need);
  pfds.fill(0, 0, need);
  pfds.writeInt32LE(efd, 0);
  pfds.writeInt16LE(POLLIN, 4);
  ids.forEach((id, i) => {
    pfds.writeInt32LE(watched.get(id)!.fd, 8 * (i + 1));
    pfds.writeInt16LE(POLLIN, 8 * (i + 1) + 4);
  });
  const n = c.poll(pfds, ids.length + 1, POLL_TIMEOUT_MS);
  if (n < 0) {
    const errno = lastErrno();
    if (errno === 'EINTR') continue; // a signal landed on this thread
    // Not expected (EINVAL/ENOMEM): tell every owner, and do not spin on it.
    for (const id of ids) post({ type: 'recv-error', id, errno, syscall: 'poll' });
    Atomics.wait(pending, 0, Atomics.load(pending, 0), 1000);
    control();
    continue;
  }
  if (pfds.readInt16LE(6) & POLLIN) control();
  const items: RawDatagram[] = [];
  ids.forEach((id, i) => {
    const revents = pfds.readInt16LE(8 * (i + 1) + 6);
    const fd = watched.get(id)?.fd;
    if (revents === 0 || fd === undefined) return;
    if (revents & POLLNVAL) {
      // The fd is not open: report once and stop watching it, or poll() would spin.
      watched.delete(id);
      post({ type: 'recv-error', id, errno: 'EBADF', syscall: 'poll' });
      return;
    }
    for (let k = 0; k < BURST; k++) {
      const r = recvOne(id, fd);
      if (r === 'again') break;
      if ('errno' in r) {
        if (!failing.has(id)) post({ type: 'recv-error', id, errno: r.errno, syscall: 'recvmsg' });
        failing.add(id);
        break;
      }
      failing.delete(id);
      items.push(r);
    }
  });
  if (items.length > 0) {
    Atomics.add(pending, 0, items.length);
    post({ type: 'datagrams', items }, items.map((d) => d.data.buffer as ArrayBuffer));
  }
  // Back-pressure: let the owner catch up before reading more, still obeying remove/stop.
  while (running && Atomics.load(pending, 0) > MAX_PENDING) {
    Atomics.wait(pending, 0, Atomics.load(pending, 0), 50);
    control();
  }
}
for (const w of watched.values()) release(w);
watched.clear();
koffi.free(mem);
