/**
 * A synchronous RTM_NEWADDR, for the one place where an event-loop turn matters: the
 * take-over. The kernel handles a netlink request inside sendmsg, so a blocking send + read
 * of the ack takes tens of µs and nothing else runs in between; the first gratuitous ARP
 * can follow at once (keepalived adds and announces the same way, in one go). Through the
 * async client (rtnl.ts) the ack waits for the next event-loop turn, behind whatever else
 * the main thread is doing — up to ~2 ms measured (bench/garp-delay.ts).
 *
 * Only adds; the caller knows the ifindex. Everything else keeps going through NetControl.
 * The socket joins no multicast group, so the only message it can receive is the answer
 * to its own request; a read deadline (SO_RCVTIMEO) bounds the wait should the kernel not
 * answer. Main thread only (it blocks, briefly).
 */
import { Flags, FlagsNew, formatMessage, MessageType, parseError, parseMessages, Protocol, rt } from 'netlink';
import { AF_NETLINK, check, lastErrno, libc, SO_RCVTIMEO, SOCK_CLOEXEC, SOCK_RAW, SOL_SOCKET } from '../io/libc.ts';
import { IoError } from '../io/errors.ts';
import { describeAddress, toAddressMessage } from './addresses.ts';
import { kernelError, NetlinkError, NL_EEXIST, NL_PROTOCOL, NL_SOCKET, NL_TIMEOUT } from './errors.ts';
import type { AddressSpec } from './net-control.ts';
import { encodeRtMessage } from './rtnl.ts';

/** ms the read of the ack may block before the request counts as unanswered */
const ACK_DEADLINE_MS = 1000;

export interface SyncAddressAdder {
  /** Adds `a` on interface `ifindex`: 'present' if it was there already; throws NetlinkError otherwise. */
  add(a: AddressSpec, ifindex: number): 'added' | 'present';
  close(): void;
}

/** Throws NetlinkError VIGIL_NL_SOCKET if the socket cannot be opened. */
export function openSyncAddressAdder(): SyncAddressAdder {
  const c = libc();
  let fd: number;
  try {
    fd = check(c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, Protocol.ROUTE), 'VIGIL_SOCK_OPEN', 'socket(AF_NETLINK)', 'rtnetlink');
    const tv = Buffer.alloc(16); // struct timeval { tv_sec, tv_usec } (64-bit)
    tv.writeBigInt64LE(BigInt(Math.floor(ACK_DEADLINE_MS / 1000)), 0);
    tv.writeBigInt64LE(BigInt((ACK_DEADLINE_MS % 1000) * 1000), 8);
    check(c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, tv.length), 'VIGIL_SOCK_OPEN', 'setsockopt(SO_RCVTIMEO)', 'rtnetlink');
  } catch (e) {
    throw new NetlinkError(NL_SOCKET, (e as Error).message, { op: 'open', object: 'rtnetlink (synchronous)', cause: e });
  }
  const kernel = Buffer.alloc(12); // struct sockaddr_nl, nl_pid 0 = the kernel
  kernel.writeUInt16LE(AF_NETLINK, 0);
  const answer = Buffer.alloc(8192);
  let seq = 1;
  let closed = false;

  return {
    add(a: AddressSpec, ifindex: number): 'added' | 'present' {
      const op = 'add address';
      const object = describeAddress(a);
      if (closed) throw new NetlinkError('VIGIL_NL_CLOSED', 'synchronous rtnetlink socket closed', { op, object });
      const mySeq = seq++;
      const msg = Buffer.concat(
        formatMessage({
          type: rt.MessageType.NEWADDR,
          flags: Flags.REQUEST | Flags.ACK | FlagsNew.CREATE | FlagsNew.EXCL,
          seq: mySeq,
          port: 0,
          data: encodeRtMessage(toAddressMessage(a, ifindex, 'add')),
        }),
      );
      try {
        check(c.sendto(fd, msg, msg.length, 0, kernel, kernel.length), 'VIGIL_SOCK_SEND', 'sendto', 'rtnetlink');
      } catch (e) {
        throw new NetlinkError(NL_SOCKET, (e as IoError).message, { op, object, errno: (e as IoError).errno ?? 'unknown', cause: e });
      }
      for (;;) {
        const n = c.read(fd, answer, answer.length);
        if (n < 0) {
          const errno = lastErrno();
          if (errno === 'EINTR') continue;
          if (errno === 'EAGAIN' || errno === 'EWOULDBLOCK') {
            throw new NetlinkError(NL_TIMEOUT, `no answer from the kernel within ${ACK_DEADLINE_MS} ms`, { op, object });
          }
          throw new NetlinkError(NL_SOCKET, `read failed: ${errno}`, { op, object, errno });
        }
        // One datagram may hold several messages; ours is the NLMSG_ERROR with our seq.
        let errno: number | undefined;
        try {
          const ack = parseMessages(answer.subarray(0, n)).find((m) => m.type === MessageType.ERROR && m.seq === mySeq);
          if (ack) errno = parseError(ack.data, ack.flags).errno;
        } catch (e) {
          throw new NetlinkError(NL_PROTOCOL, `malformed reply: ${String(e)}`, { op, object });
        }
        if (errno === undefined) continue;
        if (errno === 0) return 'added';
        const e = kernelError(errno, op, object);
        if (e.code === NL_EEXIST) return 'present';
        throw e;
      }
    },
    close(): void {
      if (closed) return;
      closed = true;
      c.close(fd);
    },
  };
}
