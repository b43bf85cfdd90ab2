/**
 * One rtnetlink request channel: a NETLINK_ROUTE socket from the `netlink` package that
 * carries one request at a time, each with a deadline, each answer matched by sequence
 * number, every failure a typed {@link NetlinkError}.
 *
 * Why not `RtNetlinkSocket.request()`: its promise never settles if the socket is closed
 * while it waits (only its optional timer ends it, and that timer then holds the event loop
 * open), its multipart state is shared by every request on the socket (two dumps at once
 * interleave), and it reports the kernel's refusal as a string. Here the package still does
 * the socket, framing and struct codecs (`RawNetlinkSocket`, `formatMessage`,
 * `parseMessages`, `parseError`); this file owns matching, deadlines and closing.
 *
 * The socket works in the network namespace of the thread that opened it: vigil opens it on
 * the main thread (DESIGN.md; closing a netlink socket in an exiting worker can abort).
 */
import { AttrStream, RawNetlinkSocket, Protocol, Flags, FlagsGet, formatMessage, MessageType, parseMessages, parseError, readS32, rt } from 'netlink';
import type { NetlinkMessage } from 'netlink';
import { hardenRouteSocket } from './sockopt.ts';
import { closedError, kernelError, NetlinkError, NL_PROTOCOL, timeoutError, wrapNetlinkError } from './errors.ts';

/** ms. Generous: the kernel answers rtnetlink in microseconds, but the machine may be loaded. */
export const DEFAULT_TIMEOUT_MS = 3000;
/** bytes. SO_RCVBUF(FORCE) of the request socket: room for a large dump's chunks. */
const RCVBUF = 1 << 20;
/** How often a dump interrupted by a concurrent change (NLM_F_DUMP_INTR) is retried. */
const DUMP_RETRIES = 3;

export interface RtnlOptions {
  /** ms, deadline of each request from the moment it is sent. */
  readonly timeoutMs?: number;
  /**
   * Netlink port the requests go to; 0 (the default) is the kernel. Tests point it at a
   * silent userspace socket to prove that deadlines and close() end every request.
   */
  readonly peerPort?: number;
}

/** One reply message, still in wire form: `type` is RTM_*, `data` the payload after the nlmsghdr. */
export interface RawReply {
  readonly type: number;
  readonly flags: number;
  readonly data: Buffer;
}

/** `ack`: NEW/DEL/SET, answered by an ACK. `get`: one object then an ACK. `dump`: many, then DONE. */
export type RequestKind = 'ack' | 'get' | 'dump';

export interface RtnlRequest {
  /** RTM_* message type. */
  readonly type: number;
  /** Payload after the nlmsghdr (struct + attributes). */
  readonly body: readonly Uint8Array[];
  readonly kind: RequestKind;
  /** Extra NLM_F_* flags (CREATE, EXCL, REPLACE …); REQUEST, ACK and DUMP are set from `kind`. */
  readonly flags?: number;
  /** For errors: what is done (`add address`) and to what (`10.0.0.1/24 dev eth0`). */
  readonly op: string;
  readonly object: string;
}

interface InFlight {
  readonly seq: number;
  readonly req: RtnlRequest;
  readonly replies: RawReply[];
  interrupted: boolean;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (r: { replies: RawReply[]; interrupted: boolean }) => void;
  readonly reject: (e: NetlinkError) => void;
}

export interface RtnlCounters {
  /** Replies whose sequence number matched no request in flight (late answers after a timeout). */
  stale: number;
  /** Datagrams the package could not parse as netlink messages. */
  malformed: number;
  /** Socket errors while nothing was in flight. */
  socketErrors: number;
}

/** Anything the package can format as an rtnetlink message. */
type RtMessage = rt.AddressMessage | rt.LinkMessage | rt.RouteMessage | rt.RuleMessage;

/** Encodes an rtnetlink message object (struct + attributes) with the package's codecs. */
export function encodeRtMessage(m: RtMessage): Uint8Array[] {
  const out = new AttrStream();
  switch (m.kind) {
    case 'address':
      rt.formatAddressMessage(m, out);
      break;
    case 'link':
      rt.formatLinkMessage(m, out);
      break;
    case 'route':
      rt.formatRouteMessage(m, out);
      break;
    case 'rule':
      rt.formatRuleMessage(m, out);
      break;
  }
  return out.bufs;
}

export class Rtnl {
  readonly counters: RtnlCounters = { stale: 0, malformed: 0, socketErrors: 0 };
  private readonly sock: RawNetlinkSocket;
  private readonly timeoutMs: number;
  private readonly peerPort: number;
  private readonly localPort: number;
  private seq = Math.floor(Math.random() * 0x7fffffff) + 1;
  private tail: Promise<unknown> = Promise.resolve();
  private inflight: InFlight | undefined;
  private closed = false;
  /** NETLINK_NO_ENOBUFS is set on the socket (false: koffi or /proc unavailable). */
  readonly hardened: boolean;

  constructor(opts: RtnlOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.peerPort = opts.peerPort ?? 0;
    this.sock = new RawNetlinkSocket(Protocol.ROUTE);
    // An unhandled 'error' on the native socket would throw; route it to the request in flight.
    this.sock.on('error', (e: unknown) => this.onSocketError(e));
    this.sock.on('message', (buf: Buffer) => this.onDatagram(buf));
    // Idle, the socket must not keep the process alive; a request's deadline timer does.
    this.sock.unref();
    this.localPort = this.sock.address().port;
    // One request at a time keeps the buffer nearly empty, but should it ever overflow, an
    // ENOBUFS would abort the process (sockopt.ts); with this, a lost ACK is a timeout.
    this.hardened = hardenRouteSocket(this.localPort, RCVBUF).noEnobufs;
  }

  /** Queues a request behind the ones before it and resolves with its replies. */
  request(req: RtnlRequest): Promise<RawReply[]> {
    if (req.kind !== 'dump') return this.enqueue(req).then((r) => r.replies);
    return this.dumpWithRetry(req, DUMP_RETRIES);
  }

  /** Closes the socket; every queued or in-flight request rejects with VIGIL_NL_CLOSED at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const f = this.inflight;
    if (f) this.fail(f, closedError(f.req.op, f.req.object));
    try {
      this.sock.close();
    } catch {
      /* already closed */
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private async dumpWithRetry(req: RtnlRequest, retries: number): Promise<RawReply[]> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.enqueue(req);
      // NLM_F_DUMP_INTR: the table changed under the dump, so it may have missed or doubled
      // entries; a fresh dump is consistent (iproute2 and libnl retry the same way).
      if (!r.interrupted || attempt >= retries) return r.replies;
    }
  }

  private enqueue(req: RtnlRequest): Promise<{ replies: RawReply[]; interrupted: boolean }> {
    const run = (): Promise<{ replies: RawReply[]; interrupted: boolean }> => this.send(req);
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  private send(req: RtnlRequest): Promise<{ replies: RawReply[]; interrupted: boolean }> {
    if (this.closed) return Promise.reject(closedError(req.op, req.object));
    return new Promise((resolve, reject) => {
      const seq = this.nextSeq();
      const kindFlags =
        req.kind === 'dump' ? Flags.REQUEST | FlagsGet.DUMP : Flags.REQUEST | Flags.ACK;
      const timer = setTimeout(() => {
        const f = this.inflight;
        if (f && f.seq === seq) this.fail(f, timeoutError(req.op, req.object, this.timeoutMs));
      }, this.timeoutMs);
      const f: InFlight = { seq, req, replies: [], interrupted: false, timer, resolve, reject };
      this.inflight = f;
      let bufs: Uint8Array[];
      try {
        bufs = formatMessage({
          type: req.type,
          flags: kindFlags | (req.flags ?? 0),
          seq,
          port: this.localPort,
          data: [...req.body],
        });
      } catch (e) {
        this.fail(f, wrapNetlinkError(e, req.op, req.object));
        return;
      }
      this.sock.send(bufs, { port: this.peerPort }, (err?: Error) => {
        if (err && this.inflight === f) this.fail(f, wrapNetlinkError(err, req.op, req.object));
      });
    });
  }

  private nextSeq(): number {
    this.seq = (this.seq % 0x7fffffff) + 1;
    return this.seq;
  }

  private finish(f: InFlight): void {
    if (this.inflight !== f) return;
    this.inflight = undefined;
    clearTimeout(f.timer);
    f.resolve({ replies: f.replies, interrupted: f.interrupted });
  }

  private fail(f: InFlight, e: NetlinkError): void {
    if (this.inflight !== f) return;
    this.inflight = undefined;
    clearTimeout(f.timer);
    f.reject(e);
  }

  private onSocketError(e: unknown): void {
    const f = this.inflight;
    if (f) this.fail(f, wrapNetlinkError(e, f.req.op, f.req.object));
    else this.counters.socketErrors++;
  }

  private onDatagram(buf: Buffer): void {
    let msgs: NetlinkMessage[];
    try {
      msgs = parseMessages(buf);
    } catch (e) {
      this.counters.malformed++;
      const f = this.inflight;
      if (f) this.fail(f, new NetlinkError(NL_PROTOCOL, `malformed reply: ${String(e)}`, f.req));
      return;
    }
    for (const m of msgs) this.onMessage(m);
  }

  private onMessage(m: NetlinkMessage): void {
    const f = this.inflight;
    if (!f || m.seq !== f.seq) {
      this.counters.stale++;
      return;
    }
    if (m.flags & Flags.DUMP_INTR) f.interrupted = true;
    switch (m.type) {
      case MessageType.ERROR: {
        let errno: number;
        try {
          errno = parseError(m.data, m.flags).errno;
        } catch (e) {
          this.fail(f, new NetlinkError(NL_PROTOCOL, `malformed NLMSG_ERROR: ${String(e)}`, f.req));
          return;
        }
        if (errno === 0) this.finish(f);
        else this.fail(f, kernelError(errno, f.req.op, f.req.object));
        return;
      }
      case MessageType.DONE: {
        // The DONE of a dump carries an int (host order): a negative errno if the dump failed.
        const status = m.data.length >= 4 ? readS32.call(m.data, 0) : 0;
        if (status < 0) this.fail(f, kernelError(status, f.req.op, f.req.object));
        else this.finish(f);
        return;
      }
      case MessageType.NOOP:
      case MessageType.OVERRUN:
        return;
      default:
        f.replies.push({ type: m.type, flags: m.flags, data: m.data });
    }
  }
}
