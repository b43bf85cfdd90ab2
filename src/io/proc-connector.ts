/**
 * The process connector socket (NETLINK_CONNECTOR bound to CN_IDX_PROC, subscribed with
 * PROC_CN_MCAST_LISTEN): the kernel sends one datagram per fork, exec, comm change and exit
 * of any process on the host. Datagrams are read on this thread's event loop as they come
 * (reader.ts), without polling.
 *
 * The connector exists in the initial network namespace only: a socket opened in another
 * one (vigil under `ip netns exec`) binds, but its subscription is refused with
 * ECONNREFUSED. The socket is then opened in the initial namespace instead, found as
 * /proc/1/ns/net or, where pid 1 is out of reach (a container's init), as the namespace
 * of the process that started vigil (`ip netns exec` runs from the host's): this thread
 * enters it with setns(2) (which moves the calling thread only), creates and binds the
 * socket, and returns at once — synchronously, so no other code of this thread runs in
 * between. The thread's namespace is checked afterwards; if it could not return, the
 * process aborts rather than let later sockets act on another network. A candidate that is
 * not the initial namespace refuses the subscription too and is passed over. Needs
 * CAP_SYS_ADMIN; process events carry pids of the initial pid namespace, which is what
 * /proc shows unless vigil runs in a pid namespace of its own.
 */
import { closeSync, openSync, statSync } from 'node:fs';
import { IoError } from './errors.ts';
import { AF_NETLINK, SOCK_CLOEXEC, SOCK_NONBLOCK, SOL_SOCKET, SO_RCVBUF, intOpt, lastErrno, libc, libcLibrary } from './libc.ts';
import { watchFd, type Watch } from './reader.ts';
import { CN_IDX_PROC, NETLINK_CONNECTOR, procSubscribeMessage } from '../netlink/proc-events.ts';

const SOCK_DGRAM = 2;
/** linux/sched.h */
const CLONE_NEWNET = 0x40000000;
/** bytes; process events are 76-byte datagrams: room for a fork storm between two reads */
const RCVBUF = 1 << 20;

let setnsFn: ((fd: number, nstype: number) => number) | undefined;
function setns(fd: number): number {
  setnsFn ??= libcLibrary().func('int setns(int fd, int nstype)') as (fd: number, nstype: number) => number;
  return setnsFn(fd, CLONE_NEWNET);
}

function sockaddrNl(groups: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16LE(AF_NETLINK, 0);
  b.writeUInt32LE(groups, 8);
  return b;
}

function openBound(): number {
  const c = libc();
  const fd = c.socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  if (fd < 0) {
    const errno = lastErrno();
    throw new IoError('VIGIL_SOCK_OPEN', `process connector: socket failed: ${errno}`, { errno, syscall: 'socket' });
  }
  c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, intOpt(RCVBUF), 4); // best effort
  const addr = sockaddrNl(CN_IDX_PROC);
  if (c.bind(fd, addr, addr.length) < 0) {
    const errno = lastErrno();
    c.close(fd);
    throw new IoError('VIGIL_SOCK_OPEN', `process connector: bind failed: ${errno}`, { errno, syscall: 'bind' });
  }
  return fd;
}

/** Sends the subscription; the symbolic errno on failure. */
function subscribe(fd: number, listen: boolean): string | undefined {
  const msg = procSubscribeMessage(listen);
  const to = sockaddrNl(0);
  return libc().sendto(fd, msg, msg.length, 0, to, to.length) < 0 ? lastErrno() : undefined;
}

const nsInode = (path: string): number => statSync(path).ino;

/**
 * A socket bound to the connector in the network namespace at `nsPath` (see above);
 * undefined when that is this thread's own or cannot be opened.
 */
function openInNamespace(nsPath: string): number | undefined {
  const own = nsInode('/proc/thread-self/ns/net');
  let init: number;
  try {
    if (nsInode(nsPath) === own) return undefined;
    init = openSync(nsPath, 'r');
  } catch {
    return undefined;
  }
  const back = openSync('/proc/thread-self/ns/net', 'r');
  let fd = -1;
  try {
    if (setns(init) < 0) {
      const errno = lastErrno();
      throw new IoError('VIGIL_SOCK_OPEN', `process connector: setns to the initial network namespace failed: ${errno}`, { errno, syscall: 'setns' });
    }
    try {
      fd = openBound();
    } finally {
      const r = setns(back);
      if (r < 0 || nsInode('/proc/thread-self/ns/net') !== own) {
        // Every later socket of this thread would be on the host's network: stop here.
        process.stderr.write('vigil: could not return to its network namespace after opening the process connector; aborting\n');
        process.abort();
      }
    }
  } finally {
    closeSync(back);
    closeSync(init);
  }
  return fd;
}

export interface ProcConnector {
  close(): void;
}

/**
 * Opens, subscribes and watches the process connector; `onDatagram` gets each datagram on
 * this thread's event loop, `onError` a receive error (ENOBUFS: events were lost). Throws
 * IoError VIGIL_SOCK_OPEN when the kernel offers no process events here.
 */
export function openProcConnector(onDatagram: (d: Uint8Array) => void, onError: (e: IoError) => void): ProcConnector {
  let fd = openBound();
  let err = subscribe(fd, true);
  for (const ns of ['/proc/1/ns/net', `/proc/${process.ppid}/ns/net`]) {
    if (err !== 'ECONNREFUSED') break;
    const other = openInNamespace(ns);
    if (other === undefined) continue;
    libc().close(fd);
    fd = other;
    err = subscribe(fd, true);
  }
  if (err !== undefined) {
    libc().close(fd);
    throw new IoError('VIGIL_SOCK_OPEN', `process connector: subscribe failed: ${err}`, { errno: err, syscall: 'sendto' });
  }
  const w: Watch = watchFd(fd, -1, (d) => onDatagram(d.data), onError);
  return {
    close() {
      // older kernels count listeners, not sockets: say goodbye before the watch closes the fd
      subscribe(fd, false);
      w.close();
    },
  };
}
