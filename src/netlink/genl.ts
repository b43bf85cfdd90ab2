/**
 * Generic netlink over the `netlink` package: family resolution (CTRL_CMD_GETFAMILY) and a
 * request channel that gives every request a deadline, runs dumps one at a time, pipelines
 * plain requests, sends batches without per-request acks (only failures are answered), and
 * turns the package's string errors into one typed error.
 *
 * Sharp edges of netlink@0.3.0 handled here (see STYLE.md):
 * - errors are `Error('Request rejected: EEXIST')` / `Error('Timeout has been reached')`:
 *   wrapped once, in `wrapGenlError`, into a `GenlError` with a stable `code`;
 * - a request pending at close never settles: the channel tracks its own pending requests
 *   and rejects them on close or on a socket error;
 * - multipart grouping is per socket, so a dump must not overlap any other request;
 * - an `'error'` event without a listener throws: the channel always listens.
 */
import { endianness } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { createGenericNetlink, genl, formatMessage, Flags, FlagsGet, GENL_ID_CTRL, MessageType } from 'netlink';
import type { GenericNetlinkSocket, GenericNetlinkMessage, NetlinkMessage } from 'netlink';
import { GenlError } from './genl-error.ts';

// The error type lives in a module of its own so that code which only names it (the IPVS
// error mapping, and through it the pure LVS model) does not load the `netlink` package.
export { GenlError, type GenlErrorCode } from './genl-error.ts';

/**
 * The one place where the package's errors become typed: a rejected request, a timeout, a
 * socket errno exception, or anything else (kept as the cause).
 */
export function wrapGenlError(err: unknown, what: string): GenlError {
  if (err instanceof GenlError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const rejected = /^Request rejected: (\w+)/.exec(message);
  if (rejected) {
    const errno = rejected[1]!;
    return new GenlError('VIGIL_NETLINK_REJECTED', `${what}: kernel rejected the request (${errno})`, errno, {
      cause: err,
    });
  }
  if (message.startsWith('Timeout has been reached')) {
    return new GenlError('VIGIL_NETLINK_TIMEOUT', `${what}: no answer from the kernel before the deadline`, undefined, {
      cause: err,
    });
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) {
    return new GenlError('VIGIL_NETLINK_SOCKET', `${what}: netlink socket error ${code}`, code, { cause: err });
  }
  return new GenlError('VIGIL_NETLINK_BAD_REPLY', `${what}: ${message}`, undefined, { cause: err });
}

export interface GenlFamily {
  readonly id: number;
  readonly name: string;
  readonly version: number;
  readonly maxAttr: number;
}

/** Creates a generic netlink socket whose `'error'` events are always listened to. */
export function createGenlSocket(): GenericNetlinkSocket {
  // recvBufferSize: pipelined acks and batch errors queue up in the receive buffer until
  // the event loop reads them (the kernel caps the request at net.core.rmem_max).
  const sock = createGenericNetlink({ recvBufferSize: 1 << 20, sendBufferSize: 0 });
  return sock;
}

/**
 * CTRL_CMD_GETFAMILY by name. Resolves the family or rejects with VIGIL_GENL_NO_FAMILY
 * (the controller answers ENOENT when no such family is registered, after trying to
 * autoload `net-pf-16-proto-16-family-<name>`).
 */
export async function resolveGenlFamily(
  sock: GenericNetlinkSocket,
  name: string,
  opts: { timeoutMs: number },
): Promise<GenlFamily> {
  let replies: genl.Message[];
  try {
    replies = await sock.ctrlRequest(genl.Commands.GET_FAMILY, { familyName: name }, { timeout: opts.timeoutMs });
  } catch (err) {
    const e = wrapGenlError(err, `generic netlink family ${name}`);
    if (e.code === 'VIGIL_NETLINK_REJECTED' && e.errno === 'ENOENT') {
      throw new GenlError('VIGIL_GENL_NO_FAMILY', `generic netlink family ${name} does not exist in this kernel`, 'ENOENT', {
        cause: err,
      });
    }
    throw e;
  }
  const m = replies.find((r) => r.familyName === name);
  if (!m || m.familyId === undefined || m.familyId < GENL_ID_CTRL) {
    throw new GenlError('VIGIL_NETLINK_BAD_REPLY', `generic netlink family ${name}: reply without a family id`);
  }
  return { id: m.familyId, name, version: m.version ?? 1, maxAttr: m.maxattr ?? 0 };
}

export interface GenlChannelOptions {
  /** ms; deadline of each request, from when it is sent */
  readonly timeoutMs: number;
  /** requests (not dumps) in flight at once; their acks wait in the receive buffer */
  readonly window?: number;
}

/** One request of a batch: sent without NLM_F_ACK, so only a failure gets an answer. */
export interface BatchItem {
  readonly cmd: number;
  readonly payload: readonly Uint8Array[];
  /** names the object in the error */
  readonly what: string;
}

/**
 * Requests per sendmsg in a batch. Bounded so that, should every one of them fail, their
 * error messages (~0.75 KiB of receive buffer each, with the echoed request) still fit in
 * the receive buffer before we read it, even where rmem_max caps it at the common default
 * 212992 (doubled by the kernel): 256 × 0.75 KiB ≈ 192 KiB < 416 KiB. An overrun would
 * not go unnoticed: the socket reports ENOBUFS and the whole batch fails.
 */
const BATCH_CHUNK = 256;

const LE = endianness() === 'LE';

type Job =
  | {
      readonly kind: 'request' | 'dump';
      readonly cmd: number;
      readonly payload: Uint8Array[];
      readonly what: string;
      readonly resolve: (msgs: GenericNetlinkMessage[]) => void;
      readonly reject: (err: GenlError) => void;
    }
  | {
      readonly kind: 'batch';
      readonly items: readonly BatchItem[];
      readonly what: string;
      readonly resolve: (errors: Array<GenlError | undefined>) => void;
      readonly reject: (err: GenlError) => void;
    };

/**
 * Requests to one generic netlink family over one socket, in FIFO order: plain requests
 * are pipelined (up to `window` in flight; the kernel handles each one inside sendmsg, so
 * order is kept), a dump or a batch waits until nothing else is in flight and holds the
 * socket alone (the package groups multipart replies per socket: nothing may interleave).
 */
export class GenlChannel {
  readonly family: GenlFamily;
  private readonly sock: GenericNetlinkSocket;
  private readonly timeoutMs: number;
  private readonly window: number;
  private readonly queue: Job[] = [];
  private readonly inFlight = new Set<Job>();
  /** a dump or a batch holds the socket */
  private exclusive = false;
  private broken: GenlError | undefined;
  private closed = false;

  constructor(sock: GenericNetlinkSocket, family: GenlFamily, opts: GenlChannelOptions) {
    this.sock = sock;
    this.family = family;
    this.timeoutMs = opts.timeoutMs;
    this.window = Math.max(1, opts.window ?? 64);
    sock.socket.on('error', (err) => this.fail(wrapGenlError(err, `generic netlink ${family.name} socket`)));
  }

  /** Sends `cmd` with `payload` (attributes after the genl header); resolves with the replies. */
  request(cmd: number, payload: Uint8Array[], what: string, opts: { dump?: boolean } = {}): Promise<GenericNetlinkMessage[]> {
    if (this.closed) return Promise.reject(new GenlError('VIGIL_NETLINK_CLOSED', `${what}: channel closed`));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: opts.dump === true ? 'dump' : 'request', cmd, payload, what, resolve, reject });
      this.pump();
    });
  }

  /**
   * Sends many requests in as few sendmsg calls as possible, without NLM_F_ACK: the kernel
   * answers only the ones that fail. Each chunk ends with an NLMSG_NOOP carrying NLM_F_ACK,
   * whose ack comes after every error of the chunk (one socket, processed in order inside
   * sendmsg), so when it arrives the chunk's outcome is known. Resolves with one entry per
   * item: undefined for success, the typed error otherwise.
   */
  batch(items: readonly BatchItem[], what: string): Promise<Array<GenlError | undefined>> {
    if (this.closed) return Promise.reject(new GenlError('VIGIL_NETLINK_CLOSED', `${what}: channel closed`));
    if (this.broken) return Promise.reject(this.broken);
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'batch', items, what, resolve, reject });
      this.pump();
    });
  }

  /** Rejects whatever is queued or pending with VIGIL_NETLINK_CLOSED and closes the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new GenlError('VIGIL_NETLINK_CLOSED', `generic netlink ${this.family.name}: channel closed`);
    for (const job of [...this.inFlight, ...this.queue.splice(0)]) job.reject(err);
    this.inFlight.clear();
    this.sock.socket.close();
  }

  private fail(err: GenlError): void {
    this.broken = err;
    for (const job of [...this.inFlight, ...this.queue.splice(0)]) job.reject(err);
    this.inFlight.clear();
    this.exclusive = false;
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.closed && !this.broken) {
      const head = this.queue[0]!;
      if (this.exclusive) return;
      if (head.kind !== 'request' ? this.inFlight.size > 0 : this.inFlight.size >= this.window) return;
      this.queue.shift();
      this.start(head);
    }
  }

  private start(job: Job): void {
    this.inFlight.add(job);
    const exclusive = job.kind !== 'request';
    if (exclusive) this.exclusive = true;
    const done = (): boolean => {
      if (!this.inFlight.delete(job)) return false; // already rejected by close() or fail()
      if (exclusive) this.exclusive = false;
      queueMicrotask(() => this.pump());
      return true;
    };
    if (job.kind === 'batch') {
      this.runBatch(job.items).then(
        (errors) => {
          if (done()) job.resolve(errors);
        },
        (err: unknown) => {
          if (done()) job.reject(wrapGenlError(err, job.what));
        },
      );
      return;
    }
    let sent: Promise<[GenericNetlinkMessage[], unknown]>;
    try {
      sent = this.sock.request(this.family.id, job.cmd, this.family.version, job.payload, {
        ...(job.kind === 'dump' ? { flags: FlagsGet.DUMP } : {}),
        timeout: this.timeoutMs,
      });
    } catch (err) {
      if (done()) job.reject(wrapGenlError(err, job.what));
      return;
    }
    sent.then(
      ([msgs]) => {
        if (done()) job.resolve(msgs);
      },
      (err: unknown) => {
        if (done()) job.reject(wrapGenlError(err, job.what));
      },
    );
  }

  private async runBatch(items: readonly BatchItem[]): Promise<Array<GenlError | undefined>> {
    const nl = this.sock.socket;
    const results: Array<GenlError | undefined> = new Array(items.length).fill(undefined);
    for (let off = 0; off < items.length; off += BATCH_CHUNK) {
      if (this.closed || this.broken) throw this.broken ?? new GenlError('VIGIL_NETLINK_CLOSED', 'batch: channel closed');
      const bySeq = new Map<number, number>();
      const bufs: Uint8Array[] = [];
      const end = Math.min(items.length, off + BATCH_CHUNK);
      for (let i = off; i < end; i++) {
        const item = items[i]!;
        const seq = nl.generateSeq();
        bySeq.set(seq, i);
        const genlHeader = Buffer.from([item.cmd, this.family.version, 0, 0]);
        bufs.push(...formatMessage({ type: this.family.id, flags: Flags.REQUEST, seq, port: 0, data: [genlHeader, ...item.payload] }));
      }
      // failures arrive as NLMSG_ERROR with the request's seq and nobody waiting for them
      const onMessage = (msgs: NetlinkMessage[]): void => {
        for (const m of msgs) {
          if (m.type !== MessageType.ERROR || m.data.length < 4) continue;
          const i = bySeq.get(m.seq);
          if (i === undefined) continue;
          const errno = LE ? m.data.readInt32LE(0) : m.data.readInt32BE(0);
          if (errno === 0) continue;
          let name = String(errno);
          try {
            name = getSystemErrorName(errno);
          } catch {
            /* unknown errno: keep the number */
          }
          results[i] = new GenlError('VIGIL_NETLINK_REJECTED', `${items[i]!.what}: kernel rejected the request (${name})`, name);
        }
      };
      nl.on('message', onMessage);
      try {
        const sent = new Promise<void>((resolve, reject) => {
          // one buffer: sendmsg takes at most UIO_MAXIOV (1024) iovecs
          nl.socket.send(Buffer.concat(bufs), {}, (err) => (err ? reject(err) : resolve()));
        });
        // the barrier, queued right behind: its ack follows every error of the chunk
        await Promise.all([sent, nl.request(MessageType.NOOP, [], { timeout: this.timeoutMs })]);
      } finally {
        nl.off('message', onMessage);
      }
    }
    return results;
  }
}
