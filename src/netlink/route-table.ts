/**
 * Host routes in a routing table of vigil's own, written in batches over rtnetlink: the
 * routes `VIP/32 dev lo table T proto P` that BIRD or FRR export (announce_route), and the
 * VIPs themselves on `lo` (`loopbackAddresses`), so that 1,000 of each are a few datagrams.
 *
 * - Batched: many RTM_NEWROUTE/RTM_DELROUTE messages go in one datagram (up to
 *   MAX_PER_DATAGRAM), each with its own sequence number and NLM_F_ACK, and the kernel's
 *   acks are matched back to them; 1,000 routes are a handful of sendmsg calls, not 1,000
 *   round trips (and never one `ip` process per route).
 * - Idempotent: an add is NLM_F_CREATE|NLM_F_REPLACE (a route already there is not an
 *   error), a delete of a route that is gone (ESRCH) is success. Deleting names the
 *   protocol, so the kernel only removes a route of that protocol (fib_table_delete
 *   matches rtm_protocol when it is non-zero).
 * - `dump(table, protocol)`: the routes of that table and protocol (the kernel filters a
 *   dump by table only under NETLINK_GET_STRICT_CHK; here the filter is applied to what it
 *   sends).
 * - Every batch and dump has a deadline; close() ends whatever waits. One request (batch or
 *   dump) at a time on the socket.
 *
 * The routes point at `lo` (ifindex 1 in every network namespace: LOOPBACK_IFINDEX,
 * include/net/net_namespace.h), scope link, type unicast: the VIP is a local address on
 * this host, the route only tells the routing daemon to announce it.
 */
import { Flags, FlagsGet, FlagsNew, formatMessage, MessageType, parseError, parseMessages, RawNetlinkSocket, Protocol, readS32, rt } from 'netlink';
import type { NetlinkMessage } from 'netlink';
import { AF_INET, AF_INET6, ipBytes, ipText, toAddressMessage } from './addresses.ts';
import { closedError, kernelError, NetlinkError, NL_EADDRNOTAVAIL, NL_EEXIST, NL_ESRCH, NL_INVALID_SPEC, NL_PROTOCOL, timeoutError, wrapNetlinkError } from './errors.ts';
import { RT_SCOPE_LINK, RT_SCOPE_NOWHERE, ROUTE_TYPES } from './routes.ts';
import { encodeRtMessage } from './rtnl.ts';
import { hardenRouteSocket } from './sockopt.ts';

/** include/net/net_namespace.h */
export const LOOPBACK_IFINDEX = 1;
/** messages per datagram: ~100 bytes each, well inside one page-sized skb batch the kernel takes */
export const MAX_PER_DATAGRAM = 128;
/** ms */
const DEFAULT_TIMEOUT_MS = 3000;
/** bytes of SO_RCVBUF: the acks of a whole datagram (and a dump's chunks) wait here */
const RCVBUF = 4 << 20;

export interface TableRoute {
  readonly address: string;
  readonly family: 4 | 6;
  /** 32 or 128 for vigil's host routes; a dump reports what it finds */
  readonly prefixLen: number;
  readonly table: number;
  readonly protocol: number;
  readonly metric?: number;
}

export interface TableRouteChange {
  readonly op: 'add' | 'del';
  readonly route: TableRoute;
}

export function describeTableRoute(r: TableRoute): string {
  return `${r.address}/${r.prefixLen} dev lo table ${r.table} proto ${r.protocol}${r.metric !== undefined ? ` metric ${r.metric}` : ''}`;
}

/** The RTM_NEWROUTE / RTM_DELROUTE message for `r` (pure). Throws VIGIL_NL_INVALID_SPEC. */
export function toTableRouteMessage(r: TableRoute, op: 'add' | 'del'): rt.RouteMessage {
  const opName = op === 'add' ? 'add route' : 'remove route';
  const object = describeTableRoute(r);
  const max = r.family === 4 ? 32 : 128;
  if (!Number.isInteger(r.prefixLen) || r.prefixLen < 1 || r.prefixLen > max) {
    throw new NetlinkError(NL_INVALID_SPEC, `prefix length ${r.prefixLen} is not in 1..${max}`, { op: opName, object });
  }
  if (!Number.isInteger(r.table) || r.table < 1 || r.table > 0xffffffff) {
    throw new NetlinkError(NL_INVALID_SPEC, `table ${r.table} is not in 1..4294967295`, { op: opName, object });
  }
  if (!Number.isInteger(r.protocol) || r.protocol < 0 || r.protocol > 255) {
    throw new NetlinkError(NL_INVALID_SPEC, `protocol ${r.protocol} is not in 0..255`, { op: opName, object });
  }
  const dst = ipBytes(r.address, r.family, opName, object, 'destination');
  const data: rt.Route = {
    family: r.family === 4 ? AF_INET : AF_INET6,
    dstLen: r.prefixLen,
    table: r.table < 256 ? r.table : 0,
    protocol: r.protocol as rt.RouteProtocol,
    scope: op === 'add' ? RT_SCOPE_LINK : RT_SCOPE_NOWHERE,
    type: ROUTE_TYPES['unicast']!,
  };
  const attrs: rt.RouteAttrs = { table: r.table, dst, oif: LOOPBACK_IFINDEX };
  if (r.metric !== undefined) attrs.priority = r.metric;
  return { kind: 'route', data, attrs };
}

/** A dumped route as a TableRoute; undefined for other families or routes without a destination. */
export function fromTableRouteMessage(m: rt.RouteMessage): TableRoute | undefined {
  const fam = m.data.family === AF_INET ? 4 : m.data.family === AF_INET6 ? 6 : undefined;
  if (fam === undefined || m.attrs.dst === undefined) return undefined;
  const table = m.attrs.table ?? m.data.table ?? 0;
  return {
    address: ipText(m.attrs.dst),
    family: fam,
    prefixLen: m.data.dstLen ?? 0,
    table,
    protocol: Number(m.data.protocol ?? 0),
    ...(m.attrs.priority !== undefined ? { metric: m.attrs.priority } : {}),
  };
}

interface Pending {
  readonly op: string;
  readonly object: string;
  /** index in the batch's results */
  readonly index: number;
  readonly tolerate?: string;
}

/** One message of a batch, encoded. */
interface BatchItem {
  readonly type: number;
  /** NLM_F_* besides REQUEST and ACK */
  readonly flags: number;
  readonly body: Uint8Array[];
  readonly op: string;
  readonly object: string;
  /** an error code that means "already so" */
  readonly tolerate?: string;
}

interface Waiter {
  readonly pending: Map<number, Pending>;
  readonly dumpSeq?: number;
  readonly replies: NetlinkMessage[];
  readonly results: Array<NetlinkError | 'tolerated' | undefined>;
  readonly resolve: () => void;
  readonly reject: (e: NetlinkError) => void;
  timer: NodeJS.Timeout;
  op: string;
  object: string;
}

export interface RouteTableOptions {
  /** ms: deadline of each datagram's acks, and of a dump */
  readonly timeoutMs?: number;
}

export class RouteTable {
  private readonly sock: RawNetlinkSocket;
  private readonly localPort: number;
  private readonly timeoutMs: number;
  private seq = Math.floor(Math.random() * 0x3fffffff) + 1;
  private tail: Promise<unknown> = Promise.resolve();
  private waiter: Waiter | undefined;
  private closed = false;
  /** datagrams sent, for the benchmark's claim that a batch is few of them */
  datagrams = 0;

  constructor(opts: RouteTableOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.sock = new RawNetlinkSocket(Protocol.ROUTE);
    this.sock.on('error', (e: unknown) => this.onSocketError(e));
    this.sock.on('message', (buf: Buffer) => this.onDatagram(buf));
    this.sock.unref();
    this.localPort = this.sock.address().port;
    hardenRouteSocket(this.localPort, RCVBUF);
  }

  /**
   * Applies the changes in order, batched; one result per change (undefined: done). Rejects
   * only when the socket is closed or fails as a whole.
   */
  apply(changes: readonly TableRouteChange[]): Promise<Array<NetlinkError | undefined>> {
    return this.serial(() => this.applyNow(changes));
  }

  /** The routes in `table` with `protocol`. */
  dump(table: number, protocol: number): Promise<TableRoute[]> {
    return this.serial(async () => {
      const out: TableRoute[] = [];
      for (const family of [AF_INET, AF_INET6]) {
        const msgs = await this.dumpNow(family);
        for (const m of msgs) {
          if (m.type !== rt.MessageType.NEWROUTE) continue;
          const r = fromTableRouteMessage(rt.parseRouteMessage(m.data));
          if (r !== undefined && r.table === table && r.protocol === protocol) out.push(r);
        }
      }
      return out;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const w = this.waiter;
    if (w) this.failAll(w, closedError(w.op, w.object));
    try {
      this.sock.close();
    } catch {
      /* already closed */
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn, fn);
    this.tail = p.catch(() => undefined);
    return p;
  }

  private nextSeq(): number {
    this.seq = (this.seq % 0x7fffffff) + 1;
    return this.seq;
  }

  private async applyNow(changes: readonly TableRouteChange[]): Promise<Array<NetlinkError | undefined>> {
    const items = changes.map((c): BatchItem | NetlinkError => {
      const op = c.op === 'add' ? 'add route' : 'remove route';
      const object = describeTableRoute(c.route);
      try {
        return {
          type: c.op === 'add' ? rt.MessageType.NEWROUTE : rt.MessageType.DELROUTE,
          flags: c.op === 'add' ? FlagsNew.CREATE | FlagsNew.REPLACE : 0,
          body: encodeRtMessage(toTableRouteMessage(c.route, c.op)),
          op,
          object,
          ...(c.op === 'del' ? { tolerate: NL_ESRCH } : {}),
        };
      } catch (e) {
        return wrapNetlinkError(e, op, object);
      }
    });
    return (await this.sendBatch(items)).map((r) => (r === 'tolerated' ? undefined : r));
  }

  /**
   * Adds (or removes) host addresses on `lo` (`VIP/32`, `/128`) in batches, as RouteTable
   * does routes: one result per address, `added`/`present` (EEXIST) or `removed`/`absent`
   * (EADDRNOTAVAIL), or the kernel's error. Messages as NetControl's (addresses.ts).
   */
  loopbackAddresses(op: 'add' | 'del', list: ReadonlyArray<{ readonly address: string; readonly family: 4 | 6 }>): Promise<Array<'added' | 'present' | 'removed' | 'absent' | NetlinkError>> {
    return this.serial(async () => {
      const items = list.map((a): BatchItem | NetlinkError => {
        const spec = { ifname: 'lo', address: a.address, prefixLen: a.family === 4 ? 32 : 128, family: a.family };
        const opName = op === 'add' ? 'add address' : 'remove address';
        const object = `${a.address}/${spec.prefixLen} dev lo`;
        try {
          return {
            type: op === 'add' ? rt.MessageType.NEWADDR : rt.MessageType.DELADDR,
            flags: op === 'add' ? FlagsNew.CREATE | FlagsNew.EXCL : 0,
            body: encodeRtMessage(toAddressMessage(spec, LOOPBACK_IFINDEX, op)),
            op: opName,
            object,
            tolerate: op === 'add' ? NL_EEXIST : NL_EADDRNOTAVAIL,
          };
        } catch (e) {
          return wrapNetlinkError(e, opName, object);
        }
      });
      return (await this.sendBatch(items)).map((r) => (r === undefined ? (op === 'add' ? 'added' : 'removed') : r === 'tolerated' ? (op === 'add' ? 'present' : 'absent') : r));
    });
  }

  /** Sends the items in datagrams of MAX_PER_DATAGRAM; per item: done, its tolerated error, or the error. */
  private async sendBatch(items: ReadonlyArray<BatchItem | NetlinkError>): Promise<Array<NetlinkError | 'tolerated' | undefined>> {
    const results: Array<NetlinkError | 'tolerated' | undefined> = items.map((it) => (it instanceof NetlinkError ? it : undefined));
    for (let from = 0; from < items.length; from += MAX_PER_DATAGRAM) {
      if (this.closed) throw closedError('apply', 'routes');
      const bufs: Uint8Array[] = [];
      const pending = new Map<number, Pending>();
      for (let i = from; i < Math.min(items.length, from + MAX_PER_DATAGRAM); i++) {
        const it = items[i]!;
        if (it instanceof NetlinkError) continue;
        const seq = this.nextSeq();
        bufs.push(...formatMessage({ type: it.type, flags: Flags.REQUEST | Flags.ACK | it.flags, seq, port: this.localPort, data: it.body }));
        pending.set(seq, { op: it.op, object: it.object, index: i, ...(it.tolerate !== undefined ? { tolerate: it.tolerate } : {}) });
      }
      if (pending.size === 0) continue;
      await new Promise<void>((resolve, reject) => {
        const first = pending.values().next().value!;
        const w: Waiter = {
          pending,
          replies: [],
          results,
          resolve,
          reject,
          op: first.op,
          object: `${pending.size} changes`,
          timer: setTimeout(() => this.timeoutAll(w), this.timeoutMs),
        };
        this.waiter = w;
        this.datagrams++;
        this.sock.send(Buffer.concat(bufs), { port: 0 }, (err?: Error) => {
          if (err && this.waiter === w) this.failAll(w, wrapNetlinkError(err, w.op, w.object));
        });
      });
    }
    return results;
  }

  private dumpNow(family: number): Promise<NetlinkMessage[]> {
    if (this.closed) return Promise.reject(closedError('dump', 'routes'));
    return new Promise((resolve, reject) => {
      const seq = this.nextSeq();
      const body = encodeRtMessage({ kind: 'route', data: { family }, attrs: {} });
      const w: Waiter = {
        pending: new Map(),
        dumpSeq: seq,
        replies: [],
        results: [],
        resolve: () => resolve(w.replies),
        reject,
        op: 'dump',
        object: 'routes',
        timer: setTimeout(() => this.timeoutAll(w), this.timeoutMs),
      };
      this.waiter = w;
      this.sock.send(Buffer.concat(formatMessage({ type: rt.MessageType.GETROUTE, flags: Flags.REQUEST | FlagsGet.DUMP, seq, port: this.localPort, data: body })), { port: 0 }, (err?: Error) => {
        if (err && this.waiter === w) this.failAll(w, wrapNetlinkError(err, 'dump', 'routes'));
      });
    });
  }

  private done(w: Waiter): void {
    if (this.waiter !== w) return;
    this.waiter = undefined;
    clearTimeout(w.timer);
    w.resolve();
  }

  private failAll(w: Waiter, e: NetlinkError): void {
    if (this.waiter !== w) return;
    this.waiter = undefined;
    clearTimeout(w.timer);
    w.reject(e);
  }

  /** A batch's unanswered changes fail with a timeout each; a dump fails as a whole. */
  private timeoutAll(w: Waiter): void {
    if (this.waiter !== w) return;
    if (w.dumpSeq !== undefined) {
      this.failAll(w, timeoutError(w.op, w.object, this.timeoutMs));
      return;
    }
    for (const p of w.pending.values()) w.results[p.index] = timeoutError(p.op, p.object, this.timeoutMs);
    w.pending.clear();
    this.done(w);
  }

  private onSocketError(e: unknown): void {
    const w = this.waiter;
    if (w) this.failAll(w, wrapNetlinkError(e, w.op, w.object));
  }

  private onDatagram(buf: Buffer): void {
    const w = this.waiter;
    let msgs: NetlinkMessage[];
    try {
      msgs = parseMessages(buf);
    } catch (e) {
      if (w) this.failAll(w, new NetlinkError(NL_PROTOCOL, `malformed reply: ${String(e)}`, { op: w.op, object: w.object }));
      return;
    }
    if (!w) return;
    for (const m of msgs) {
      if (this.waiter !== w) return;
      if (w.dumpSeq !== undefined) {
        if (m.seq !== w.dumpSeq) continue;
        if (m.type === MessageType.DONE) {
          const status = m.data.length >= 4 ? readS32.call(m.data, 0) : 0;
          if (status < 0) this.failAll(w, kernelError(status, 'dump', 'routes'));
          else this.done(w);
        } else if (m.type === MessageType.ERROR) {
          const errno = parseError(m.data, m.flags).errno;
          if (errno === 0) this.done(w);
          else this.failAll(w, kernelError(errno, 'dump', 'routes'));
        } else w.replies.push(m);
        continue;
      }
      if (m.type !== MessageType.ERROR) continue;
      const p = w.pending.get(m.seq);
      if (p === undefined) continue;
      w.pending.delete(m.seq);
      let errno: number;
      try {
        errno = parseError(m.data, m.flags).errno;
      } catch (e) {
        w.results[p.index] = new NetlinkError(NL_PROTOCOL, `malformed NLMSG_ERROR: ${String(e)}`, { op: p.op, object: p.object });
        continue;
      }
      if (errno !== 0) {
        const err = kernelError(errno, p.op, p.object);
        w.results[p.index] = err.code === p.tolerate ? 'tolerated' : err;
      }
      if (w.pending.size === 0) this.done(w);
    }
  }
}
