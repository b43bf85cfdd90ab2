/**
 * The real IpvsControl: the kernel's "IPVS" generic netlink family through the `netlink`
 * package. Requests are pipelined (the kernel handles each one inside sendmsg, in order),
 * `apply` batches hundreds of changes per sendmsg, dumps run alone, and every request has
 * a deadline (genl.ts). Encoding and decoding is attrs.ts; errors are IpvsError with a
 * stable code naming the object.
 *
 * Keep it on the main thread (STYLE: closing netlink in an exiting worker can abort).
 */
import { createGenlSocket, GenlChannel, GenlError, resolveGenlFamily, type BatchItem } from '../genl.ts';
import { fromIpvsAttrs, IPVS_GENL_NAME, toIpvsAttrs, type DecodeContext, type IpvsReply, type IpvsRequest } from './attrs.ts';
import { IpvsError, ipvsErrorFrom } from './errors.ts';
import type {
  IpvsChange,
  IpvsControl,
  IpvsDest,
  IpvsDestEntry,
  IpvsInfo,
  IpvsService,
  IpvsServiceEntry,
  IpvsTimeouts,
} from './types.ts';

export interface OpenIpvsOptions {
  /** ms; deadline of each request (default 5000) */
  readonly timeoutMs?: number;
  /** requests in flight at once (default 64) */
  readonly window?: number;
}

/**
 * Opens a client for the current network namespace. Rejects with VIGIL_IPVS_UNAVAILABLE
 * when the kernel has no IPVS (the family cannot be resolved, even after the controller's
 * module autoload attempt).
 */
export async function openIpvs(opts: OpenIpvsOptions = {}): Promise<IpvsControl> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  let sock;
  try {
    sock = createGenlSocket();
  } catch (err) {
    throw ipvsErrorFrom(err instanceof GenlError ? err : new GenlError('VIGIL_NETLINK_SOCKET', `generic netlink socket: ${String(err)}`, (err as { code?: string }).code, { cause: err }), 'ipvs');
  }
  // Errors before the channel exists must not be thrown from the emitter.
  const early = (): void => {};
  sock.socket.on('error', early);
  try {
    const family = await resolveGenlFamily(sock, IPVS_GENL_NAME, { timeoutMs });
    const channel = new GenlChannel(sock, family, { timeoutMs, ...(opts.window !== undefined ? { window: opts.window } : {}) });
    sock.socket.off('error', early);
    return new IpvsClient(channel);
  } catch (err) {
    sock.socket.close();
    throw ipvsErrorFrom(err, 'ipvs');
  }
}

class IpvsClient implements IpvsControl {
  constructor(private readonly channel: GenlChannel) {}

  private async call(req: IpvsRequest, ctx: DecodeContext = {}): Promise<IpvsReply[]> {
    const wire = toIpvsAttrs(req);
    let msgs;
    try {
      msgs = await this.channel.request(wire.cmd, wire.payload, wire.object, { dump: wire.dump });
    } catch (err) {
      throw ipvsErrorFrom(err, wire.object);
    }
    const out: IpvsReply[] = [];
    for (const m of msgs) {
      const d = fromIpvsAttrs(m.cmd, m.data, ctx);
      if (!d.ok) throw new IpvsError('VIGIL_IPVS_BAD_REPLY', wire.object, d.detail, { reason: d.reason });
      out.push(d.value);
    }
    return out;
  }

  async info(): Promise<IpvsInfo> {
    for (const r of await this.call({ op: 'get-info' })) if (r.kind === 'info') return r.info;
    throw new IpvsError('VIGIL_IPVS_BAD_REPLY', 'ipvs info', 'no info in the reply', { reason: 'info-missing' });
  }

  async listServices(): Promise<IpvsServiceEntry[]> {
    const out: IpvsServiceEntry[] = [];
    for (const r of await this.call({ op: 'list-services' })) if (r.kind === 'service') out.push(r.service);
    return out;
  }

  async addService(s: IpvsService): Promise<void> {
    await this.call({ op: 'add-service', service: s });
  }

  async editService(s: IpvsService): Promise<void> {
    await this.call({ op: 'edit-service', service: s });
  }

  async delService(s: IpvsService): Promise<void> {
    await this.call({ op: 'del-service', service: s });
  }

  async listDests(s: IpvsService): Promise<IpvsDestEntry[]> {
    const out: IpvsDestEntry[] = [];
    for (const r of await this.call({ op: 'list-dests', service: s }, { serviceFamily: s.family })) {
      if (r.kind === 'dest') out.push(r.dest);
    }
    // The kernel's dest dump answers an unknown service with an empty list; say ESRCH instead.
    if (out.length === 0) await this.call({ op: 'get-service', service: s });
    return out;
  }

  async addDest(s: IpvsService, d: IpvsDest): Promise<void> {
    await this.call({ op: 'add-dest', service: s, dest: d });
  }

  async editDest(s: IpvsService, d: IpvsDest): Promise<void> {
    await this.call({ op: 'edit-dest', service: s, dest: d });
  }

  async delDest(s: IpvsService, d: IpvsDest): Promise<void> {
    await this.call({ op: 'del-dest', service: s, dest: d });
  }

  async setTimeouts(t: IpvsTimeouts): Promise<void> {
    await this.call({ op: 'set-timeouts', timeouts: t });
  }

  async getTimeouts(): Promise<Required<IpvsTimeouts>> {
    for (const r of await this.call({ op: 'get-timeouts' })) if (r.kind === 'timeouts') return r.timeouts;
    throw new IpvsError('VIGIL_IPVS_BAD_REPLY', 'ipvs timeouts', 'no timeouts in the reply', { reason: 'timeouts-missing' });
  }

  async flush(): Promise<void> {
    await this.call({ op: 'flush' });
  }

  async apply(changes: readonly IpvsChange[]): Promise<Array<IpvsError | undefined>> {
    const results: Array<IpvsError | undefined> = new Array(changes.length).fill(undefined);
    const items: BatchItem[] = [];
    const index: number[] = [];
    changes.forEach((c, i) => {
      try {
        const w = toIpvsAttrs(c);
        items.push({ cmd: w.cmd, payload: w.payload, what: w.object });
        index.push(i);
      } catch (err) {
        results[i] = ipvsErrorFrom(err, 'ipvs change'); // VIGIL_IPVS_INVALID: never sent
      }
    });
    let errors;
    try {
      errors = await this.channel.batch(items, `ipvs batch of ${items.length}`);
    } catch (err) {
      throw ipvsErrorFrom(err, `ipvs batch of ${items.length}`);
    }
    errors.forEach((e, k) => {
      if (e) results[index[k]!] = ipvsErrorFrom(e, items[k]!.what);
    });
    return results;
  }

  close(): Promise<void> {
    return this.channel.close();
  }
}
