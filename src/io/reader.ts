/**
 * Datagrams from raw and netlink sockets, read on the owning thread's own event loop: a
 * libuv poll handle says when an fd is readable (fd-poll.ts) and recvmsg() reads it, with
 * its source address and IPv6 ancillary data (IPV6_HOPLIMIT, IPV6_PKTINFO), which raw-socket
 * cannot give. raw-socket is not used for reading: it puts its poll handle on the main
 * thread's loop, and inside a worker it crashes the process (SIGSEGV, raw-socket 1.8.1).
 *
 * An fd handed to watchFd() belongs to the watch from then on: close() stops watching and
 * closes it (after clearing its fd-ledger slot), so its number cannot be reused while a read
 * may still be scheduled.
 */
import { IoError } from './errors.ts';
import { forgetFd } from './fd-ledger.ts';
import { pollReadable } from './fd-poll.ts';
import { MSG_DONTWAIT, MSG_TRUNC, koffi, lastErrno, libc } from './libc.ts';
import { parseIpv6Cmsgs, parseSockaddr } from './wire.ts';

/** One datagram as recvmsg() returned it. */
export interface RawDatagram {
  readonly data: Uint8Array;
  /** Source address from msg_name. */
  readonly src: string | undefined;
  /** IPV6_HOPLIMIT ancillary data (IPv6 sockets only). */
  readonly hopLimit: number | undefined;
  /** IPV6_PKTINFO destination address (IPv6 sockets only). */
  readonly dst: string | undefined;
  /** The datagram was longer than the receive buffer (MSG_TRUNC). */
  readonly truncated: boolean;
}

export interface Watch {
  /** Stops watching and closes the fd. Idempotent. */
  close(): void;
}

/**
 * Datagrams read from one fd per wake-up: a flooded socket then yields to the rest of the
 * loop (its timers, its other sockets) and is read again on the next turn, while the
 * kernel's socket buffer bounds what waits (and counts what it drops).
 */
const BURST = 64;

// Native memory for recvmsg, one block per thread (a read completes before the next starts):
// msghdr(56) | iovec(16) | name(32) | control(256) | data(64 KiB).
const MSGHDR = 0;
const IOVEC = 56;
const NAME = 72;
const NAME_LEN = 32;
const CONTROL = 104;
const CONTROL_LEN = 256;
const DATA = 360;
const DATA_LEN = 65536;

interface RecvBuffer {
  readonly mem: unknown;
  readonly base: bigint;
  readonly view: DataView;
  readonly bytes: Uint8Array;
}
let buffer: RecvBuffer | undefined;

function recvBuffer(): RecvBuffer {
  if (buffer) return buffer;
  const mem: unknown = koffi.alloc('uint8_t', DATA + DATA_LEN);
  const view = new DataView(koffi.view(mem, DATA + DATA_LEN));
  buffer = { mem, base: BigInt(koffi.address(mem)), view, bytes: new Uint8Array(view.buffer) };
  return buffer;
}

function recvOne(fd: number): RawDatagram | 'again' | { errno: string } {
  const { mem, base, view, bytes } = recvBuffer();
  view.setBigUint64(MSGHDR + 0, base + BigInt(NAME), true); // msg_name
  view.setUint32(MSGHDR + 8, NAME_LEN, true); // msg_namelen
  view.setBigUint64(MSGHDR + 16, base + BigInt(IOVEC), true); // msg_iov
  view.setBigUint64(MSGHDR + 24, 1n, true); // msg_iovlen
  view.setBigUint64(MSGHDR + 32, base + BigInt(CONTROL), true); // msg_control
  view.setBigUint64(MSGHDR + 40, BigInt(CONTROL_LEN), true); // msg_controllen
  view.setInt32(MSGHDR + 48, 0, true); // msg_flags
  view.setBigUint64(IOVEC + 0, base + BigInt(DATA), true);
  view.setBigUint64(IOVEC + 8, BigInt(DATA_LEN), true);
  const n = Number(libc().recvmsg(fd, mem, MSG_DONTWAIT));
  if (n < 0) {
    const errno = lastErrno();
    return errno === 'EAGAIN' || errno === 'EWOULDBLOCK' || errno === 'EINTR' ? 'again' : { errno };
  }
  const namelen = Math.min(view.getUint32(MSGHDR + 8, true), NAME_LEN);
  const controllen = Math.min(Number(view.getBigUint64(MSGHDR + 40, true)), CONTROL_LEN);
  const flags = view.getInt32(MSGHDR + 48, true);
  const anc = parseIpv6Cmsgs(bytes.subarray(CONTROL, CONTROL + controllen));
  return {
    data: bytes.slice(DATA, DATA + Math.min(n, DATA_LEN)),
    src: parseSockaddr(bytes.subarray(NAME, NAME + namelen)),
    hopLimit: anc.hopLimit,
    dst: anc.dst,
    truncated: (flags & MSG_TRUNC) !== 0,
  };
}

/**
 * Delivers every datagram that arrives on `fd` to `onDatagram`, on this thread's event loop
 * (never inside another callback). Takes ownership of `fd` (and of its fd-ledger `slot`, -1
 * if none). A receive error goes to `onError` once, until a read succeeds again. Throws
 * IoError VIGIL_SOCK_OPEN if the fd cannot be watched (the fd is then still the caller's).
 */
export function watchFd(fd: number, slot: number, onDatagram: (d: RawDatagram) => void, onError: (e: IoError) => void): Watch {
  let failing = false;
  let closed = false;
  const read = (): void => {
    for (let k = 0; k < BURST && !closed; k++) {
      const r = recvOne(fd);
      if (r === 'again') return;
      if ('errno' in r) {
        if (!failing) onError(new IoError('VIGIL_SOCK_RECV', `recvmsg failed: ${r.errno}`, { errno: r.errno, syscall: 'recvmsg' }));
        failing = true;
        // The fd is not (or no longer) a socket: it would stay "readable" and spin the loop.
        if (r.errno === 'EBADF' || r.errno === 'ENOTSOCK') poll.stop();
        return;
      }
      failing = false;
      try {
        onDatagram(r);
      } catch (e) {
        onError(new IoError('VIGIL_SOCK_RECV', `packet handler threw: ${(e as Error).message}`));
      }
    }
  };
  const poll = pollReadable(fd, read);
  return {
    close() {
      if (closed) return;
      closed = true;
      poll.stop();
      forgetFd(slot); // before close: fd-ledger.ts says why
      libc().close(fd);
    },
  };
}
