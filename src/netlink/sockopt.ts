/**
 * Socket options the `netlink` package cannot set, for NETLINK_ROUTE sockets.
 *
 * Why this exists — a sharp edge found by test (netlink 0.3.0, Node 20, libuv 1.4x): when a
 * multicast listener's receive buffer overflows, the kernel sets sk_err = ENOBUFS, epoll
 * reports EPOLLERR, libuv treats POLLERR on a uv_poll handle as fatal (callback with
 * UV_EBADF, handle stopped), and the package's poll handler then builds its error with a NULL
 * syscall name, which throws inside a native callback: `terminate called after throwing an
 * instance of 'Napi::Error'` — the whole daemon aborts. A JS 'error' listener cannot catch it.
 *
 * So the event socket is made unable to raise ENOBUFS (NETLINK_NO_ENOBUFS: the kernel then
 * only counts the dropped notifications in sk_drops) and given a large buffer
 * (SO_RCVBUFFORCE, needs CAP_NET_ADMIN; falls back to SO_RCVBUF); the watcher polls the drop
 * counter from /proc/self/net/netlink and re-reads the link table when it grows. The package
 * exposes no fd, so it is found by the socket's netlink port id → inode → /proc/self/fd.
 * setsockopt(2) goes through io/libc.ts (koffi), as DESIGN.md names it for such calls.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Protocol } from 'netlink';
import { intOpt, libc, SO_RCVBUF, SOL_SOCKET } from '../io/libc.ts';

/** linux/netlink.h, asm-generic/socket.h */
const SO_RCVBUFFORCE = 33;
const SOL_NETLINK = 270;
const NETLINK_NO_ENOBUFS = 5;

function setInt(fd: number, level: number, name: number, value: number): boolean {
  const b = intOpt(value);
  return libc().setsockopt(fd, level, name, b, b.length) === 0;
}

export interface NetlinkSockEntry {
  readonly portid: number;
  readonly protocol: number;
  readonly drops: number;
  readonly inode: number;
}

/** Parses /proc/net/netlink (`sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode`). Pure. */
export function parseProcNetlink(text: string): NetlinkSockEntry[] {
  const out: NetlinkSockEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const c = line.trim().split(/\s+/);
    if (c.length < 10) continue;
    const protocol = Number(c[1]);
    const portid = Number(c[2]);
    const drops = Number(c[8]);
    const inode = Number(c[9]);
    if ([protocol, portid, drops, inode].some((n) => !Number.isFinite(n))) continue;
    out.push({ portid: portid >>> 0, protocol, drops, inode });
  }
  return out;
}

/** This process's NETLINK_ROUTE socket bound to `portid`, from /proc/self/net/netlink. */
export function findRouteSocket(portid: number): NetlinkSockEntry | undefined {
  const want = portid >>> 0;
  return parseProcNetlink(readFileSync('/proc/self/net/netlink', 'utf8')).find(
    (e) => e.protocol === Protocol.ROUTE && e.portid === want,
  );
}

function fdOfInode(inode: number): number | undefined {
  const target = `socket:[${inode}]`;
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${name}`) === target) return Number(name);
    } catch {
      /* closed while we looked */
    }
  }
  return undefined;
}

export interface HardenResult {
  /** NETLINK_NO_ENOBUFS is set: overflow can no longer abort the process. */
  readonly noEnobufs: boolean;
  /** The inode, to read the socket's drop counter; undefined if the socket was not found. */
  readonly inode: number | undefined;
  readonly why?: string;
}

/**
 * Sets NETLINK_NO_ENOBUFS and a large receive buffer on the route socket bound to `portid`.
 * Used for the link-event socket and for the request channel (where a dropped ACK then ends
 * as VIGIL_NL_TIMEOUT instead of an abort).
 */
export function hardenRouteSocket(portid: number, rcvbufBytes: number): HardenResult {
  try {
    const e = findRouteSocket(portid);
    if (!e) return { noEnobufs: false, inode: undefined, why: `no NETLINK_ROUTE socket with port ${portid >>> 0}` };
    const fd = fdOfInode(e.inode);
    if (fd === undefined) return { noEnobufs: false, inode: e.inode, why: `no fd for socket inode ${e.inode}` };
    if (!setInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbufBytes)) setInt(fd, SOL_SOCKET, SO_RCVBUF, rcvbufBytes);
    const ok = setInt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, 1);
    return ok ? { noEnobufs: true, inode: e.inode } : { noEnobufs: false, inode: e.inode, why: 'setsockopt(NETLINK_NO_ENOBUFS) failed' };
  } catch (err) {
    return { noEnobufs: false, inode: undefined, why: String(err) };
  }
}

/** sk_drops of every netlink socket of this namespace by inode (notifications the kernel could not queue), or undefined. */
export function netlinkDrops(): Map<number, number> | undefined {
  try {
    return new Map(parseProcNetlink(readFileSync('/proc/self/net/netlink', 'utf8')).map((e) => [e.inode, e.drops]));
  } catch {
    return undefined;
  }
}
