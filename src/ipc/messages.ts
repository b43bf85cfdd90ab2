/**
 * The messages between vigil's threads: one discriminated union per port direction,
 * versioned by `type`. Only plain data crosses a port (structured clone): no class
 * instances, no Errors (an Error arrives without its `code`), no functions.
 *
 * Handshake: the supervisor posts `init`; the worker answers `ready` once its sockets are
 * open. Requests that need an answer carry a `requestId`; the answer repeats it.
 */
import type { Family, VrrpInstance, VrrpSyncGroup } from '../config/model.ts';

export const IPC_VERSION = 1;

/** What the VRRP worker needs to know about an instance's interface; resolved by the supervisor over netlink. */
export interface LinkSpec {
  readonly ifname: string;
  readonly ifindex: number;
  /** colon-separated hex */
  readonly mac: string;
  /** source of adverts and tie-break address: unicast_src_ip, else the interface's primary IPv4 / IPv6 link-local */
  readonly primaryAddress: string;
}

export interface VrrpInstanceSpec {
  readonly instance: VrrpInstance;
  /** the interface adverts go out on (the macvlan with use_vmac, unless vmac_xmit_base) */
  readonly link: LinkSpec;
  /** the interface gratuitous ARPs / NAs go out on: where the VIPs live */
  readonly garpLink: LinkSpec;
  /** 224.0.0.18 / ff02::12 unless global_defs says otherwise */
  readonly mcastGroup: string;
}

export interface InstanceStatus {
  readonly name: string;
  readonly vrid: number;
  readonly family: Family;
  readonly interface: string;
  readonly state: 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';
  /** effective priority, after track weights */
  readonly priority: number;
  readonly configuredPriority: number;
  readonly masterAddress?: string;
  readonly advertsSent: number;
  readonly advertsReceived: number;
  readonly transitions: number;
  readonly becameMaster: number;
  readonly priorityZeroSent: number;
  readonly priorityZeroReceived: number;
  /** dropped packets by reason */
  readonly dropped: Readonly<Record<string, number>>;
  /** adverts sent late, by how much: p50/p99/max in ms over the last window */
  readonly advertLateMs?: { readonly p50: number; readonly p99: number; readonly max: number; readonly n: number };
}

/** one thread's V8 heap, kB (src/io/isolate-heap.ts) */
export interface IsolateHeap {
  readonly usedKb: number;
  readonly totalKb: number;
  /** of totalKb: the young generation's reservation (new space and its large objects) */
  readonly youngKb: number;
  readonly codeKb: number;
  readonly externalKb: number;
}

/** supervisor → VRRP worker */
export type ToVrrp =
  | {
      readonly type: 'init';
      readonly version: typeof IPC_VERSION;
      readonly instances: readonly VrrpInstanceSpec[];
      readonly syncGroups: readonly VrrpSyncGroup[];
      /**
       * epoch ms (fractional) of the daemon's exec, on its first start only: the instances'
       * start-up master-down wait counts from it (Router startDownMs), not from this message
       */
      readonly daemonStartedAt?: number;
    }
  /**
   * reload: the new set is `keep` (running instances whose spec is unchanged, by name: not
   * sent again, so that a reload of hundreds of instances does not hold the VRRP thread
   * deserialising and comparing them) plus `instances` (new or changed specs). Running
   * instances in neither are stopped. Unchanged instances keep state and timers.
   */
  | {
      readonly type: 'reconfigure';
      readonly requestId: number;
      readonly instances: readonly VrrpInstanceSpec[];
      readonly keep?: readonly string[];
      readonly syncGroups: readonly VrrpSyncGroup[];
    }
  /** tracking: the effective priority and fault of an instance, computed by the supervisor */
  | {
      readonly type: 'track';
      readonly instance: string;
      readonly priority: number;
      readonly fault: boolean;
      readonly reason: string;
    }
  /**
   * the answer to `take-over` / `release`: the addresses are in (or out of) the kernel.
   * `announced`: the supervisor already sent one gratuitous ARP / NA for every VIP right
   * after adding it (the first of garp_master_repeat), so the worker sends one fewer.
   */
  | { readonly type: 'vips-done'; readonly requestId: number; readonly ok: boolean; readonly error?: string; readonly announced?: boolean }
  | { readonly type: 'status-request'; readonly requestId: number }
  /**
   * a VIP, virtual route or virtual rule of the instance (without no_track) was deleted from
   * the kernel by someone else: a MASTER steps down and comes back after the skew time
   * (keepalived set_vrrp_backup), putting it back unless another router took over
   */
  | { readonly type: 'lost-owned'; readonly instance: string; readonly reason: string }
  /** graceful stop: priority 0 adverts from every MASTER, release, then `stopped` */
  | { readonly type: 'stop'; readonly requestId: number };

/** VRRP worker → supervisor */
export type FromVrrp =
  | { readonly type: 'ready'; readonly version: typeof IPC_VERSION }
  | {
      readonly type: 'transition';
      readonly instance: string;
      readonly vrid: number;
      readonly from: 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';
      readonly to: 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';
      readonly reason: string;
      readonly priority: number;
      /** Date.now() in the worker */
      readonly at: number;
    }
  /** add the instance's VIPs (and routes, VMAC is already up); answer `vips-done` */
  | { readonly type: 'take-over'; readonly requestId: number; readonly instance: string }
  /** remove the instance's VIPs and routes; answer `vips-done` */
  | { readonly type: 'release'; readonly requestId: number; readonly instance: string }
  | { readonly type: 'reconfigured'; readonly requestId: number }
  | {
      readonly type: 'status';
      readonly requestId: number;
      readonly instances: readonly InstanceStatus[];
      /** packets dropped before they could be tied to an instance (bad IP header, unknown VRID), by reason */
      readonly unattributedDrops: Readonly<Record<string, number>>;
      /** the VRRP thread's V8 heap */
      readonly heap?: IsolateHeap;
    }
  /** a dropped packet or a socket error, for logs and metrics (the worker formats no logs) */
  | {
      readonly type: 'event';
      readonly level: 'debug' | 'info' | 'warn' | 'error';
      readonly event: string;
      readonly instance?: string;
      readonly fields: Readonly<Record<string, string | number | boolean>>;
    }
  | { readonly type: 'stopped'; readonly requestId: number };

export function assertNever(x: never): never {
  throw new Error(`unexpected message ${JSON.stringify(x)}`);
}
