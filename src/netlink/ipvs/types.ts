import type { IpvsError } from './errors.ts';

/**
 * The IPVS domain: what vigil means by a virtual service and a destination, independent of
 * the wire (attrs.ts converts between the two, and nothing else does).
 *
 * Addresses are strings in canonical ipaddr.js form; times are whole seconds because that is
 * the kernel's resolution for these values (suffix `S`).
 */

export type IpvsProtocol = 'TCP' | 'UDP' | 'SCTP';
export type IpvsForward = 'NAT' | 'DR' | 'TUN';

/**
 * A virtual service. Identity: (family, protocol, address, port) or (family, fwmark).
 * A fwmark service reads back with protocol TCP (the kernel stores that).
 */
export interface IpvsService {
  readonly family: 4 | 6;
  readonly protocol: IpvsProtocol;
  readonly address?: string;
  readonly port?: number;
  /** 1..2^32-1; set for firewall-mark services, then address/port are absent */
  readonly fwmark?: number;
  /** rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh */
  readonly scheduler: string;
  /**
   * Persistence: timeout in s; netmask is the granularity, dotted quad for IPv4
   * (default 255.255.255.255), prefix length for IPv6 (default 128).
   */
  readonly persistent?: { readonly timeoutS: number; readonly netmask?: string };
  /**
   * Scheduler and service flags: `sh-fallback`, `sh-port`, `mh-fallback`, `mh-port`,
   * `flag-1`, `flag-2`, `flag-3`, `one-packet`. Read back in the scheduler's own names.
   */
  readonly flags?: readonly string[];
}

export interface IpvsDest {
  readonly address: string;
  /** may differ from the service's only with TUN (kernel rule) */
  readonly family: 4 | 6;
  readonly port: number;
  readonly forward: IpvsForward;
  /** 0..2^31-1; 0 = quiesced (no new connections) */
  readonly weight: number;
  /** active connections above which the dest gets no new ones; 0 or absent = no limit */
  readonly upperThreshold?: number;
  readonly lowerThreshold?: number;
}

export interface IpvsStats {
  /** connections scheduled */
  readonly conns: number;
  readonly inPkts: number;
  readonly outPkts: number;
  /** bytes; u64 on the wire, exact below 2^53 */
  readonly inBytes: number;
  readonly outBytes: number;
}

/** A service as read back from the kernel. */
export interface IpvsServiceEntry extends IpvsService {
  readonly stats?: IpvsStats;
}

/** A destination as read back from the kernel. */
export interface IpvsDestEntry extends IpvsDest {
  readonly activeConns?: number;
  readonly inactiveConns?: number;
  readonly persistConns?: number;
  readonly stats?: IpvsStats;
}

export interface IpvsInfo {
  /** e.g. `1.2.1` */
  readonly version: string;
  /** entries in the connection hash table */
  readonly connTabSize: number;
}

/** s; 0 or absent leaves that timeout unchanged (kernel rule) */
export interface IpvsTimeouts {
  readonly tcpS?: number;
  readonly tcpFinS?: number;
  readonly udpS?: number;
}

/** A change to the table, for `IpvsControl.apply`. */
export type IpvsChange =
  | { readonly op: 'add-service' | 'edit-service' | 'del-service'; readonly service: IpvsService }
  | { readonly op: 'add-dest' | 'edit-dest' | 'del-dest'; readonly service: IpvsService; readonly dest: IpvsDest };

/**
 * The narrow, privileged interface the LVS layer programs the kernel through. The real one
 * is `openIpvs()` (client.ts); unit tests of pure logic may use a recording fake.
 * Every method rejects with an `IpvsError` whose `code` is stable.
 */
export interface IpvsControl {
  info(): Promise<IpvsInfo>;
  listServices(): Promise<IpvsServiceEntry[]>;
  addService(s: IpvsService): Promise<void>;
  editService(s: IpvsService): Promise<void>;
  delService(s: IpvsService): Promise<void>;
  listDests(s: IpvsService): Promise<IpvsDestEntry[]>;
  addDest(s: IpvsService, d: IpvsDest): Promise<void>;
  editDest(s: IpvsService, d: IpvsDest): Promise<void>;
  delDest(s: IpvsService, d: IpvsDest): Promise<void>;
  setTimeouts(t: IpvsTimeouts): Promise<void>;
  getTimeouts(): Promise<Required<IpvsTimeouts>>;
  flush(): Promise<void>;
  /**
   * Many changes at once, in order (batched: thousands per round trip). Resolves with one
   * entry per change: undefined when it succeeded, its IpvsError when not. Rejects only
   * when the batch as a whole failed (closed, socket error, deadline).
   */
  apply(changes: readonly IpvsChange[]): Promise<Array<IpvsError | undefined>>;
  close(): Promise<void>;
}
