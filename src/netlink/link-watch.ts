/**
 * Link events for track_interface: a NETLINK_ROUTE socket subscribed to RTNLGRP_LINK that
 * turns RTM_NEWLINK/RTM_DELLINK into `(LinkInfo, 'new' | 'del')` calls — transitions only.
 *
 * - The kernel sends RTM_NEWLINK for many reasons (statistics, carrier counters, bridge
 *   ports); a 'new' is reported only when the link is new to us or one of the LinkInfo fields
 *   changed (STYLE.md habit 10: report transitions, not samples).
 * - Messages whose ifi_family is not AF_UNSPEC (AF_BRIDGE port notices; a bridge port
 *   leaving its bridge comes as an AF_BRIDGE RTM_DELLINK) do not describe the link itself and
 *   are ignored.
 * - A rename is reported as 'del' of the old name then 'new' of the new one: track_interface
 *   follows names, so the old name is gone.
 * - Multicast delivery can overflow the socket buffer: events were lost, so the whole link
 *   table is read again and differences are reported as if they were events. The overflow
 *   must not surface as ENOBUFS on this socket — with the `netlink` package that aborts the
 *   process (see sockopt.ts) — so NETLINK_NO_ENOBUFS is set and the kernel's drop counter
 *   for the socket is polled instead.
 * - The socket is referenced (it keeps the process alive) while anyone is subscribed and
 *   closed when the last subscriber leaves; its 'error' events are always handled.
 */
import { rt } from 'netlink';
import type { NetlinkMessage } from 'netlink';
import { toLinkInfo, sameLinkState } from './links.ts';
import { Listeners, openRouteEvents, type RouteEventSocket } from './event-socket.ts';
import type { LinkInfo } from './net-control.ts';

/** rtnetlink.h */
const RTNLGRP_LINK = 1;
const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const AF_UNSPEC = 0;
/** bytes. Room for a burst of link events (each RTM_NEWLINK is ~1.5 KiB with statistics). */
const RCVBUF = 4 << 20;
/** ms between reads of the socket's drop counter; bounds how late a lost event is noticed. */
const DROP_POLL_MS = 2000;
/** ms before a failed re-read is tried again. */
const RESYNC_RETRY_MS = 1000;

export type LinkListener = (l: LinkInfo, kind: 'new' | 'del') => void;

export interface LinkWatchCounters {
  /** Overruns (notifications the kernel dropped, or ENOBUFS), each followed by a full re-read. */
  overruns: number;
  /**
   * 1 if NETLINK_NO_ENOBUFS could not be set on the event socket: an overflow would then
   * abort the process (sockopt.ts), so the supervisor should log it loudly.
   */
  unprotected: number;
  /** Re-reads of the link table that failed (retried). */
  resyncFailures: number;
  /** Datagrams that did not parse as rtnetlink link messages. */
  malformed: number;
  /** Exceptions thrown by listeners (caught, so one bad listener cannot starve the others). */
  listenerErrors: number;
  /** Socket errors other than ENOBUFS. */
  socketErrors: number;
}

export class LinkWatch {
  readonly counters: LinkWatchCounters = {
    overruns: 0,
    unprotected: 0,
    resyncFailures: 0,
    malformed: 0,
    listenerErrors: 0,
    socketErrors: 0,
  };
  private readonly listeners = new Listeners<[LinkInfo, 'new' | 'del']>(
    () => this.start(),
    () => this.stop(),
    () => this.counters.listenerErrors++,
  );
  private readonly known = new Map<number, LinkInfo>();
  private sock: RouteEventSocket | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private generation = 0;

  private readonly rcvbuf: number;

  /**
   * `readAll` reads the whole link table (over the request channel, which has deadlines).
   * `rcvbufBytes` sizes the event socket's receive buffer (SO_RCVBUF; the kernel doubles it
   * and enforces a minimum of a few KiB); tests make it tiny to force ENOBUFS.
   */
  constructor(
    private readonly readAll: () => Promise<LinkInfo[]>,
    opts: { rcvbufBytes?: number } = {},
  ) {
    this.rcvbuf = opts.rcvbufBytes ?? RCVBUF;
  }

  subscribe(fn: LinkListener): () => void {
    return this.listeners.add(fn);
  }

  stop(): void {
    this.listeners.clear();
    this.generation++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.sock?.close();
    this.sock = undefined;
    this.known.clear();
  }

  private start(): void {
    this.sock = openRouteEvents({
      groups: [RTNLGRP_LINK],
      rcvbufBytes: this.rcvbuf,
      dropPollMs: DROP_POLL_MS,
      onMessage: (m) => this.onMessage(m),
      onMalformed: () => this.counters.malformed++,
      onOverrun: () => {
        this.counters.overruns++;
        void this.resync(true);
      },
      onError: () => this.counters.socketErrors++,
    });
    if (this.sock.unprotected) this.counters.unprotected = 1;
    // Subscribed first, then read: a change between the two is seen as an event, not lost.
    void this.resync(false);
  }

  /** Reads every link; with `report`, differences from what we knew are reported as events. */
  private async resync(report: boolean): Promise<void> {
    const gen = this.generation;
    let links: LinkInfo[];
    try {
      links = await this.readAll();
    } catch {
      if (gen !== this.generation || !this.sock) return;
      this.counters.resyncFailures++;
      if (!this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          void this.resync(true);
        }, RESYNC_RETRY_MS);
        this.retryTimer.unref();
      }
      return;
    }
    if (gen !== this.generation || !this.sock) return;
    if (!report) {
      // Baseline: an event that arrived while the dump ran is newer than the dump.
      for (const l of links) if (!this.known.has(l.ifindex)) this.known.set(l.ifindex, l);
      return;
    }
    const seen = new Set<number>();
    for (const l of links) {
      seen.add(l.ifindex);
      this.update(l);
    }
    for (const [ifindex, l] of [...this.known]) {
      if (!seen.has(ifindex)) {
        this.known.delete(ifindex);
        this.emit(l, 'del');
      }
    }
  }

  /** A throw (a message that does not parse) is counted as malformed by event-socket.ts. */
  private onMessage(m: NetlinkMessage): void {
    if (m.type !== RTM_NEWLINK && m.type !== RTM_DELLINK) return;
    const lm = rt.parseLinkMessage(m.data);
    if ((lm.data.family ?? AF_UNSPEC) !== AF_UNSPEC) return;
    const info = toLinkInfo(lm);
    if (!info) return;
    if (m.type === RTM_DELLINK) {
      this.known.delete(info.ifindex);
      this.emit(info, 'del');
    } else {
      this.update(info);
    }
  }

  private update(l: LinkInfo): void {
    const prev = this.known.get(l.ifindex);
    if (prev && sameLinkState(prev, l)) return;
    this.known.set(l.ifindex, l);
    if (prev && prev.ifname !== l.ifname) this.emit(prev, 'del');
    this.emit(l, 'new');
  }

  private emit(l: LinkInfo, kind: 'new' | 'del'): void {
    this.listeners.emit(l, kind);
  }
}
