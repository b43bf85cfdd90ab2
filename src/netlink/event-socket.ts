/**
 * What the rtnetlink event watchers (link-watch.ts, deletion-watch.ts) share: a NETLINK_ROUTE
 * socket subscribed to multicast groups, and the listeners that keep it open.
 *
 * - NETLINK_NO_ENOBUFS is set (sockopt.ts: an ENOBUFS on a `netlink` package socket aborts
 *   the process); when it cannot be, the receive buffer is at least sized. Lost events are
 *   seen in the kernel's drop counter for the socket, polled, and reported as overruns.
 * - The socket is referenced (it keeps the process alive) while open; its 'error' events are
 *   always handled.
 */
import { RawNetlinkSocket, Protocol, parseMessages } from 'netlink';
import type { NetlinkMessage } from 'netlink';
import { hardenRouteSocket, netlinkDrops } from './sockopt.ts';

/**
 * The drop counters of every open event socket, read from one /proc/self/net/netlink per
 * tick (the file lists every netlink socket of the namespace: one read serves all of ours),
 * at the shortest period any of them asked for.
 */
interface DropWatch {
  drops: number;
  readonly everyMs: number;
  readonly onOverrun: (n: number) => void;
}
const dropWatches = new Map<number, DropWatch>();
let dropPoll: { timer: NodeJS.Timeout; everyMs: number } | undefined;

function pollDrops(): void {
  const table = netlinkDrops();
  if (table === undefined) return;
  for (const [inode, w] of dropWatches) {
    const d = table.get(inode);
    if (d === undefined || d <= w.drops) continue;
    const n = d - w.drops;
    w.drops = d;
    w.onOverrun(n);
  }
}

function reschedulePoll(): void {
  const everyMs = Math.min(...[...dropWatches.values()].map((w) => w.everyMs));
  if (dropPoll?.everyMs === everyMs) return;
  if (dropPoll) clearInterval(dropPoll.timer);
  dropPoll = undefined;
  if (dropWatches.size === 0) return;
  const timer = setInterval(pollDrops, everyMs);
  timer.unref();
  dropPoll = { timer, everyMs };
}

export interface RouteEventSocket {
  /** NETLINK_NO_ENOBUFS could not be set: an overflow would abort the process */
  readonly unprotected: boolean;
  close(): void;
}

export function openRouteEvents(o: {
  readonly groups: readonly number[];
  /** bytes (SO_RCVBUF; the kernel doubles it) */
  readonly rcvbufBytes: number;
  /** ms between reads of the drop counter */
  readonly dropPollMs: number;
  /** each message of each datagram; a throw counts as malformed */
  onMessage(m: NetlinkMessage): void;
  /** a datagram or message that did not parse */
  onMalformed(): void;
  /** events were lost (ENOBUFS, or the kernel's drop counter went up by `n`) */
  onOverrun(n: number): void;
  /** any other socket error */
  onError(e: unknown): void;
}): RouteEventSocket {
  const s = new RawNetlinkSocket(Protocol.ROUTE);
  s.on('error', (e: unknown) => {
    const code = typeof e === 'object' && e !== null && 'code' in e ? (e as { code: unknown }).code : undefined;
    if (code === 'ENOBUFS') o.onOverrun(1);
    else o.onError(e);
  });
  s.on('message', (buf: Buffer) => {
    let msgs: NetlinkMessage[];
    try {
      msgs = parseMessages(buf);
    } catch {
      o.onMalformed();
      return;
    }
    for (const m of msgs) {
      try {
        o.onMessage(m);
      } catch {
        o.onMalformed();
      }
    }
  });
  const h = hardenRouteSocket(s.address().port, o.rcvbufBytes);
  if (!h.noEnobufs) {
    try {
      s.setRecvBufferSize(o.rcvbufBytes);
    } catch {
      /* keep the default size */
    }
  }
  const inode = h.inode;
  if (inode !== undefined) {
    dropWatches.set(inode, { drops: netlinkDrops()?.get(inode) ?? 0, everyMs: o.dropPollMs, onOverrun: (n) => o.onOverrun(n) });
    reschedulePoll();
  }
  for (const g of o.groups) s.addMembership(g);
  s.ref();
  return {
    unprotected: !h.noEnobufs,
    close() {
      if (inode !== undefined && dropWatches.delete(inode)) reschedulePoll();
      try {
        s.close();
      } catch {
        /* already closed */
      }
    },
  };
}

/** Listeners of one event source: `first` runs when the first subscribes, `last` when the last leaves. */
export class Listeners<A extends unknown[]> {
  private readonly fns = new Set<(...a: A) => void>();

  constructor(
    private readonly first: () => void,
    private readonly last: () => void,
    /** a listener threw (caught, so one bad listener cannot starve the others) */
    private readonly failed: () => void,
  ) {}

  add(fn: (...a: A) => void): () => void {
    this.fns.add(fn);
    if (this.fns.size === 1) this.first();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (this.fns.delete(fn) && this.fns.size === 0) this.last();
    };
  }

  clear(): void {
    this.fns.clear();
  }

  emit(...a: A): void {
    for (const fn of [...this.fns]) {
      try {
        fn(...a);
      } catch {
        this.failed();
      }
    }
  }
}
