/**
 * The IPVS generic netlink codec: the one place where vigil's domain types (types.ts) and
 * the kernel's wire attributes meet (STYLE habit 5; Seesaw ipvs.go does the same).
 *
 * Source of every number below: include/uapi/linux/ip_vs.h (family "IPVS", version 1) and
 * the attribute policies and fill functions of net/netfilter/ipvs/ip_vs_ctl.c.
 *
 * Pure: `toIpvsAttrs(request)` gives the command and payload to send (or throws an
 * IpvsError VIGIL_IPVS_INVALID before anything is sent); `fromIpvsAttrs(cmd, payload)`
 * decodes one reply message into a domain value or a reason.
 */
import ipaddr from 'ipaddr.js';
import { IpvsError } from './errors.ts';
import type {
  IpvsDest,
  IpvsDestEntry,
  IpvsForward,
  IpvsInfo,
  IpvsProtocol,
  IpvsService,
  IpvsServiceEntry,
  IpvsStats,
  IpvsTimeouts,
} from './types.ts';
import {
  bad,
  getBe16,
  getString,
  getU16,
  getU32,
  getU64,
  nlaBe16,
  nlaBytes,
  nlaNested,
  nlaString,
  nlaU16,
  nlaU32,
  ok,
  u32Bytes,
  parseAttrs,
  type Decoded,
} from './nlattr.ts';

export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 1;

/** enum IPVS_CMD_* */
export const IpvsCmd = {
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  SET_CONFIG: 12,
  GET_CONFIG: 13,
  /** only used as the command of GET_INFO's reply */
  SET_INFO: 14,
  GET_INFO: 15,
  FLUSH: 17,
} as const;

/** enum IPVS_CMD_ATTR_* (first level) */
const CMD_ATTR = { SERVICE: 1, DEST: 2, TIMEOUT_TCP: 4, TIMEOUT_TCP_FIN: 5, TIMEOUT_UDP: 6 } as const;

/** enum IPVS_SVC_ATTR_* (inside CMD_ATTR.SERVICE) */
const SVC = {
  AF: 1,
  PROTOCOL: 2,
  ADDR: 3,
  PORT: 4,
  FWMARK: 5,
  SCHED_NAME: 6,
  FLAGS: 7,
  TIMEOUT: 8,
  NETMASK: 9,
  STATS: 10,
  PE_NAME: 11,
  STATS64: 12,
} as const;

/** enum IPVS_DEST_ATTR_* (inside CMD_ATTR.DEST) */
const DEST = {
  ADDR: 1,
  PORT: 2,
  FWD_METHOD: 3,
  WEIGHT: 4,
  U_THRESH: 5,
  L_THRESH: 6,
  ACTIVE_CONNS: 7,
  INACT_CONNS: 8,
  PERSIST_CONNS: 9,
  STATS: 10,
  ADDR_FAMILY: 11,
  STATS64: 12,
} as const;

/** enum IPVS_STATS_ATTR_* */
const STATS = { CONNS: 1, INPKTS: 2, OUTPKTS: 3, INBYTES: 4, OUTBYTES: 5 } as const;

/** enum IPVS_INFO_ATTR_* */
const INFO = { VERSION: 1, CONN_TAB_SIZE: 2 } as const;

const AF_INET = 2;
const AF_INET6 = 10;

const PROTO_NUM: Readonly<Record<IpvsProtocol, number>> = { TCP: 6, UDP: 17, SCTP: 132 };
const PROTO_NAME: ReadonlyMap<number, IpvsProtocol> = new Map([
  [6, 'TCP'],
  [17, 'UDP'],
  [132, 'SCTP'],
]);

/** IP_VS_CONN_F_* forwarding methods (IP_VS_CONN_F_FWD_MASK = 7) */
const FWD_NUM: Readonly<Record<IpvsForward, number>> = { NAT: 0, TUN: 2, DR: 3 };
const FWD_LOCALNODE = 1;
const FWD_MASK = 0x7;

/** IP_VS_SVC_F_* */
const F_PERSISTENT = 0x1;
const F_ONEPACKET = 0x4;
const F_SCHED1 = 0x8;
const F_SCHED2 = 0x10;
const F_SCHED3 = 0x20;

/** IP_VS_SCHEDNAME_MAXLEN, including the NUL */
const SCHEDNAME_MAXLEN = 16;

const FLAG_BITS: Readonly<Record<string, number>> = {
  'sh-fallback': F_SCHED1,
  'mh-fallback': F_SCHED1,
  'flag-1': F_SCHED1,
  'sh-port': F_SCHED2,
  'mh-port': F_SCHED2,
  'flag-2': F_SCHED2,
  'flag-3': F_SCHED3,
  'one-packet': F_ONEPACKET,
  ops: F_ONEPACKET,
};

// ---------------------------------------------------------------------------------------
// Names and identity

function hostPort(family: 4 | 6, address: string, port: number): string {
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** `service 10.0.0.1:80/tcp`, `service [2001:db8::1]:443/tcp`, `service fwmark 7/ipv4` */
export function describeService(s: IpvsService): string {
  if (s.fwmark !== undefined && s.fwmark !== 0) return `service fwmark ${s.fwmark}/ipv${s.family}`;
  return `service ${hostPort(s.family, s.address ?? '?', s.port ?? 0)}/${s.protocol.toLowerCase()}`;
}

/** `dest 10.0.0.2:80 of service 10.0.0.1:80/tcp` */
export function describeDest(s: IpvsService, d: IpvsDest): string {
  return `dest ${hostPort(d.family, d.address, d.port)} of ${describeService(s)}`;
}

/** A dotted quad already in canonical form (no leading zeros, each part ≤ 255). */
const CANONICAL_V4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function canonicalAddress(a: string): string {
  if (CANONICAL_V4.test(a)) return a;
  try {
    return ipaddr.parse(a).toString();
  } catch {
    return a;
  }
}

/** The identity of a service: equal keys are the same kernel object. */
export function serviceKey(s: IpvsService): string {
  if (s.fwmark !== undefined && s.fwmark !== 0) return `fwm/${s.family}/${s.fwmark}`;
  return `${s.protocol}/${s.family}/${canonicalAddress(s.address ?? '')}/${s.port ?? 0}`;
}

/** The identity of a destination within its service. */
export function destKey(d: IpvsDest): string {
  return `${d.family}/${canonicalAddress(d.address)}/${d.port}`;
}

// ---------------------------------------------------------------------------------------
// Canonical forms (what the kernel reads back), so that equality is plain comparison

function flagBits(object: string, flags: readonly string[] | undefined): number {
  let bits = 0;
  for (const f of flags ?? []) {
    const b = FLAG_BITS[f];
    if (b === undefined) throw new IpvsError('VIGIL_IPVS_INVALID', object, `unknown service flag ${JSON.stringify(f)}`);
    bits |= b;
  }
  return bits;
}

/** Flag names as the scheduler calls them (ipvsadm's names), sorted. */
function flagNames(scheduler: string, bits: number): string[] {
  const names: string[] = [];
  const pre = scheduler === 'sh' || scheduler === 'mh' ? scheduler : undefined;
  if (bits & F_SCHED1) names.push(pre ? `${pre}-fallback` : 'flag-1');
  if (bits & F_SCHED2) names.push(pre ? `${pre}-port` : 'flag-2');
  if (bits & F_SCHED3) names.push('flag-3');
  if (bits & F_ONEPACKET) names.push('one-packet');
  return names.sort();
}

/** v4: dotted netmask (a prefix length `24` or `/24` is accepted); v6: prefix length 1..128. */
function netmaskWire(object: string, family: 4 | 6, netmask: string | undefined): number | Buffer {
  const raw = (netmask ?? '').trim().replace(/^\//, '');
  if (family === 6) {
    if (raw === '') return 128;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 128) {
      throw new IpvsError('VIGIL_IPVS_INVALID', object, `IPv6 persistence granularity must be a prefix length 1..128, not ${JSON.stringify(netmask)}`);
    }
    return n;
  }
  if (raw === '') return Buffer.from([255, 255, 255, 255]);
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n < 0 || n > 32) throw new IpvsError('VIGIL_IPVS_INVALID', object, `netmask /${raw} is out of range`);
    return Buffer.from(ipaddr.IPv4.subnetMaskFromPrefixLength(n).toByteArray());
  }
  try {
    const m = ipaddr.IPv4.parse(raw);
    if (m.prefixLengthFromSubnetMask() === null) throw new Error('not contiguous');
    return Buffer.from(m.toByteArray());
  } catch {
    throw new IpvsError('VIGIL_IPVS_INVALID', object, `persistence netmask ${JSON.stringify(netmask)} is not an IPv4 netmask`);
  }
}

function netmaskDomain(family: 4 | 6, wire: number | Buffer): string {
  if (typeof wire === 'number') return String(wire);
  return family === 6 ? String(wire.readUInt32BE(0)) : ipaddr.fromByteArray([...wire]).toString();
}

/**
 * The canonical form of a service: canonical address, flag names as read back, persistence
 * netmask made explicit, fwmark services without address/port and with protocol TCP.
 * Throws VIGIL_IPVS_INVALID on values that cannot be programmed.
 */
export function normalizeService(s: IpvsService): IpvsService {
  const object = describeService(s);
  checkScheduler(object, s.scheduler);
  const bits = flagBits(object, s.flags);
  const base = identityOf(object, s);
  const persistent =
    s.persistent === undefined
      ? undefined
      : { timeoutS: checkInt(object, 'persistence timeout (s)', s.persistent.timeoutS, 1, 0x7fffffff), netmask: netmaskDomain(s.family, netmaskWire(object, s.family, s.persistent.netmask)) };
  const flags = flagNames(s.scheduler, bits);
  return {
    ...base,
    scheduler: s.scheduler,
    ...(persistent ? { persistent } : {}),
    ...(flags.length > 0 ? { flags } : {}),
  };
}

/** The canonical form of a destination: canonical address, zero thresholds absent. */
export function normalizeDest(d: IpvsDest): IpvsDest {
  return {
    address: canonicalAddress(d.address),
    family: d.family,
    port: d.port,
    forward: d.forward,
    weight: d.weight,
    ...(d.upperThreshold ? { upperThreshold: d.upperThreshold } : {}),
    ...(d.lowerThreshold ? { lowerThreshold: d.lowerThreshold } : {}),
  };
}

// ---------------------------------------------------------------------------------------
// Encoding

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function addrBytes(object: string, family: 4 | 6, address: string | undefined): Buffer {
  // fast path for the common dotted quad (ipaddr.parse costs more than the rest of a request)
  const q = family === 4 && address !== undefined ? DOTTED_QUAD.exec(address) : null;
  if (q) {
    const out = Buffer.alloc(16);
    for (let i = 0; i < 4; i++) {
      const n = Number(q[i + 1]);
      if (n > 255) throw new IpvsError('VIGIL_IPVS_INVALID', object, `${JSON.stringify(address)} is not an IP address`);
      out[i] = n;
    }
    return out;
  }
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    if (address === undefined) throw new Error('missing');
    parsed = ipaddr.parse(address);
  } catch {
    throw new IpvsError('VIGIL_IPVS_INVALID', object, `${JSON.stringify(address)} is not an IP address`);
  }
  if ((parsed.kind() === 'ipv4' ? 4 : 6) !== family) {
    throw new IpvsError('VIGIL_IPVS_INVALID', object, `${address} is not an IPv${family} address`);
  }
  // union nf_inet_addr: 16 bytes, IPv4 in the first 4 (ipvsadm sends all 16 as well)
  const out = Buffer.alloc(16);
  out.set(parsed.toByteArray(), 0);
  return out;
}

function checkInt(object: string, what: string, v: number | undefined, min: number, max: number): number {
  if (v === undefined || !Number.isInteger(v) || v < min || v > max) {
    throw new IpvsError('VIGIL_IPVS_INVALID', object, `${what} must be an integer ${min}..${max}, not ${String(v)}`);
  }
  return v;
}

function identityOf(object: string, s: IpvsService): IpvsService {
  if (s.family !== 4 && s.family !== 6) throw new IpvsError('VIGIL_IPVS_INVALID', object, `family must be 4 or 6`);
  if (s.fwmark !== undefined && s.fwmark !== 0) {
    checkInt(object, 'fwmark', s.fwmark, 1, 0xffffffff);
    return { family: s.family, protocol: 'TCP', fwmark: s.fwmark, scheduler: s.scheduler };
  }
  if (PROTO_NUM[s.protocol] === undefined) throw new IpvsError('VIGIL_IPVS_INVALID', object, `unknown protocol ${String(s.protocol)}`);
  const address = ipaddr.fromByteArray([...addrBytes(object, s.family, s.address).subarray(0, s.family === 4 ? 4 : 16)]).toString();
  const port = checkInt(object, 'port', s.port, 0, 65535);
  return { family: s.family, protocol: s.protocol, address, port, scheduler: s.scheduler };
}

/** Identity attributes per service object: a service with 10 dests is encoded once, not 11 times. */
const idCache = new WeakMap<IpvsService, Buffer[]>();

/** Service identity attributes: AF and FWMARK, or AF, PROTOCOL, ADDR, PORT. */
function serviceIdAttrs(object: string, s: IpvsService): Buffer[] {
  const cached = idCache.get(s);
  if (cached) return cached;
  const attrs = serviceIdAttrsUncached(object, s);
  idCache.set(s, attrs);
  return attrs;
}

function serviceIdAttrsUncached(object: string, s: IpvsService): Buffer[] {
  const id = identityOf(object, s);
  const af = nlaU16(SVC.AF, s.family === 4 ? AF_INET : AF_INET6);
  if (id.fwmark !== undefined) return [af, nlaU32(SVC.FWMARK, id.fwmark)];
  return [
    af,
    nlaU16(SVC.PROTOCOL, PROTO_NUM[id.protocol]),
    nlaBytes(SVC.ADDR, addrBytes(object, s.family, id.address)),
    nlaBe16(SVC.PORT, id.port ?? 0),
  ];
}

function checkScheduler(object: string, scheduler: string): void {
  if (!/^[a-z0-9_]+$/.test(scheduler) || scheduler.length > SCHEDNAME_MAXLEN - 1) {
    throw new IpvsError('VIGIL_IPVS_INVALID', object, `scheduler name ${JSON.stringify(scheduler)} is not valid`);
  }
}

/** Full service attributes, as NEW_SERVICE and SET_SERVICE require them all. */
function serviceFullAttrs(object: string, s: IpvsService): Buffer[] {
  checkScheduler(object, s.scheduler);
  let bits = flagBits(object, s.flags);
  let timeoutS = 0;
  if (s.persistent !== undefined) {
    bits |= F_PERSISTENT;
    timeoutS = checkInt(object, 'persistence timeout (s)', s.persistent.timeoutS, 1, 0x7fffffff);
  }
  // struct ip_vs_flags { __u32 flags; __u32 mask; }: mask all bits we own so that an edit
  // clears the ones no longer wanted (the kernel keeps IP_VS_SVC_F_HASHED itself).
  const flags = Buffer.concat([u32Bytes(bits), u32Bytes(0xffffffff)]);
  const mask = netmaskWire(object, s.family, s.persistent?.netmask);
  return [
    ...serviceIdAttrs(object, s),
    nlaString(SVC.SCHED_NAME, s.scheduler),
    nlaBytes(SVC.FLAGS, flags),
    nlaU32(SVC.TIMEOUT, timeoutS),
    // IPv4: the __be32 mask as is; IPv6: the prefix length as a host-order u32 (ipvsadm)
    typeof mask === 'number' ? nlaU32(SVC.NETMASK, mask) : nlaBytes(SVC.NETMASK, mask),
  ];
}

function destIdAttrs(object: string, d: IpvsDest): Buffer[] {
  if (d.family !== 4 && d.family !== 6) throw new IpvsError('VIGIL_IPVS_INVALID', object, `dest family must be 4 or 6`);
  return [
    nlaU16(DEST.ADDR_FAMILY, d.family === 4 ? AF_INET : AF_INET6),
    nlaBytes(DEST.ADDR, addrBytes(object, d.family, d.address)),
    nlaBe16(DEST.PORT, checkInt(object, 'port', d.port, 0, 65535)),
  ];
}

function destFullAttrs(object: string, d: IpvsDest): Buffer[] {
  const fwd = FWD_NUM[d.forward];
  if (fwd === undefined) throw new IpvsError('VIGIL_IPVS_INVALID', object, `unknown forwarding method ${String(d.forward)}`);
  return [
    ...destIdAttrs(object, d),
    nlaU32(DEST.FWD_METHOD, fwd),
    nlaU32(DEST.WEIGHT, checkInt(object, 'weight', d.weight, 0, 0x7fffffff)),
    nlaU32(DEST.U_THRESH, checkInt(object, 'upper threshold', d.upperThreshold ?? 0, 0, 0xffffffff)),
    nlaU32(DEST.L_THRESH, checkInt(object, 'lower threshold', d.lowerThreshold ?? 0, 0, 0xffffffff)),
  ];
}

export type IpvsRequest =
  | { readonly op: 'get-info' }
  | { readonly op: 'list-services' }
  | { readonly op: 'get-service'; readonly service: IpvsService }
  | { readonly op: 'add-service' | 'edit-service' | 'del-service'; readonly service: IpvsService }
  | { readonly op: 'list-dests'; readonly service: IpvsService }
  | { readonly op: 'add-dest' | 'edit-dest' | 'del-dest'; readonly service: IpvsService; readonly dest: IpvsDest }
  | { readonly op: 'set-timeouts'; readonly timeouts: IpvsTimeouts }
  | { readonly op: 'get-timeouts' }
  | { readonly op: 'flush' };

export interface WireRequest {
  readonly cmd: number;
  /** NLM_F_DUMP: the reply is a multipart list */
  readonly dump: boolean;
  /** attributes after the genl header */
  readonly payload: Buffer[];
  /** names the object for errors and logs */
  readonly object: string;
}

/** The command and attributes for a request. Throws IpvsError VIGIL_IPVS_INVALID. */
export function toIpvsAttrs(req: IpvsRequest): WireRequest {
  switch (req.op) {
    case 'get-info':
      return { cmd: IpvsCmd.GET_INFO, dump: false, payload: [], object: 'ipvs info' };
    case 'list-services':
      return { cmd: IpvsCmd.GET_SERVICE, dump: true, payload: [], object: 'ipvs services' };
    case 'get-service': {
      const object = describeService(req.service);
      return { cmd: IpvsCmd.GET_SERVICE, dump: false, payload: [nlaNested(CMD_ATTR.SERVICE, serviceIdAttrs(object, req.service))], object };
    }
    case 'add-service':
    case 'edit-service': {
      const object = describeService(req.service);
      return {
        cmd: req.op === 'add-service' ? IpvsCmd.NEW_SERVICE : IpvsCmd.SET_SERVICE,
        dump: false,
        payload: [nlaNested(CMD_ATTR.SERVICE, serviceFullAttrs(object, req.service))],
        object,
      };
    }
    case 'del-service': {
      const object = describeService(req.service);
      return { cmd: IpvsCmd.DEL_SERVICE, dump: false, payload: [nlaNested(CMD_ATTR.SERVICE, serviceIdAttrs(object, req.service))], object };
    }
    case 'list-dests': {
      const object = `dests of ${describeService(req.service)}`;
      return { cmd: IpvsCmd.GET_DEST, dump: true, payload: [nlaNested(CMD_ATTR.SERVICE, serviceIdAttrs(object, req.service))], object };
    }
    case 'add-dest':
    case 'edit-dest':
    case 'del-dest': {
      const object = describeDest(req.service, req.dest);
      const cmd = req.op === 'add-dest' ? IpvsCmd.NEW_DEST : req.op === 'edit-dest' ? IpvsCmd.SET_DEST : IpvsCmd.DEL_DEST;
      // DEL_DEST needs only the identity; NEW/SET need every field (kernel: full_entry)
      const dest = req.op === 'del-dest' ? destIdAttrs(object, req.dest) : destFullAttrs(object, req.dest);
      return {
        cmd,
        dump: false,
        payload: [nlaNested(CMD_ATTR.SERVICE, serviceIdAttrs(object, req.service)), nlaNested(CMD_ATTR.DEST, dest)],
        object,
      };
    }
    case 'set-timeouts': {
      const object = 'ipvs timeouts';
      const t = req.timeouts;
      const payload: Buffer[] = [];
      if (t.tcpS !== undefined) payload.push(nlaU32(CMD_ATTR.TIMEOUT_TCP, checkInt(object, 'tcp timeout (s)', t.tcpS, 0, 0x7fffffff)));
      if (t.tcpFinS !== undefined) payload.push(nlaU32(CMD_ATTR.TIMEOUT_TCP_FIN, checkInt(object, 'tcpfin timeout (s)', t.tcpFinS, 0, 0x7fffffff)));
      if (t.udpS !== undefined) payload.push(nlaU32(CMD_ATTR.TIMEOUT_UDP, checkInt(object, 'udp timeout (s)', t.udpS, 0, 0x7fffffff)));
      return { cmd: IpvsCmd.SET_CONFIG, dump: false, payload, object };
    }
    case 'get-timeouts':
      return { cmd: IpvsCmd.GET_CONFIG, dump: false, payload: [], object: 'ipvs timeouts' };
    case 'flush':
      return { cmd: IpvsCmd.FLUSH, dump: false, payload: [], object: 'ipvs table' };
  }
}

// ---------------------------------------------------------------------------------------
// Decoding

export type IpvsReply =
  | { readonly kind: 'service'; readonly service: IpvsServiceEntry }
  | { readonly kind: 'dest'; readonly dest: IpvsDestEntry }
  | { readonly kind: 'info'; readonly info: IpvsInfo }
  | { readonly kind: 'timeouts'; readonly timeouts: Required<IpvsTimeouts> };

export interface DecodeContext {
  /** family of the service a GET_DEST reply belongs to (for kernels without DEST_ATTR_ADDR_FAMILY) */
  readonly serviceFamily?: 4 | 6;
}

function familyOf(af: number | undefined): 4 | 6 | undefined {
  return af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined;
}

function addrString(family: 4 | 6, p: Buffer): string | undefined {
  const n = family === 4 ? 4 : 16;
  if (p.length < n) return undefined;
  return ipaddr.fromByteArray([...p.subarray(0, n)]).toString();
}

function decodeStats(attrs: Map<number, Buffer>, v32: number, v64: number): IpvsStats | undefined {
  const nest64 = attrs.get(v64);
  const nest = nest64 ?? attrs.get(v32);
  if (!nest) return undefined;
  const p = parseAttrs(nest);
  if (!p.ok) return undefined;
  // STATS64: all u64; STATS: conns/pkts u32, bytes u64
  const n = (t: number): number => {
    const b = p.value.get(t);
    if (!b) return 0;
    return (nest64 || t === STATS.INBYTES || t === STATS.OUTBYTES ? getU64(b) : getU32(b)) ?? 0;
  };
  return { conns: n(STATS.CONNS), inPkts: n(STATS.INPKTS), outPkts: n(STATS.OUTPKTS), inBytes: n(STATS.INBYTES), outBytes: n(STATS.OUTBYTES) };
}

function decodeService(nest: Buffer): Decoded<IpvsServiceEntry> {
  const p = parseAttrs(nest);
  if (!p.ok) return p;
  const a = p.value;
  const family = familyOf(a.has(SVC.AF) ? getU16(a.get(SVC.AF)!) : undefined);
  if (!family) return bad('svc-af', 'service without a known address family');
  const sched = a.get(SVC.SCHED_NAME);
  if (!sched) return bad('svc-sched', 'service without a scheduler name');
  const scheduler = getString(sched);
  const flagsRaw = a.get(SVC.FLAGS);
  const bits = flagsRaw ? (getU32(flagsRaw) ?? 0) : 0;
  const timeoutS = a.has(SVC.TIMEOUT) ? (getU32(a.get(SVC.TIMEOUT)!) ?? 0) : 0;
  const nm = a.get(SVC.NETMASK);
  const netmaskWireValue: number | Buffer = family === 6 ? (nm ? (getU32(nm) ?? 128) : 128) : nm && nm.length >= 4 ? nm.subarray(0, 4) : Buffer.from([255, 255, 255, 255]);

  const fwmark = a.has(SVC.FWMARK) ? getU32(a.get(SVC.FWMARK)!) : undefined;
  let id: Pick<IpvsService, 'protocol' | 'address' | 'port' | 'fwmark'>;
  if (fwmark) {
    id = { protocol: 'TCP', fwmark };
  } else {
    const protoNum = a.has(SVC.PROTOCOL) ? getU16(a.get(SVC.PROTOCOL)!) : undefined;
    const protocol = protoNum === undefined ? undefined : PROTO_NAME.get(protoNum);
    if (!protocol) return bad('svc-protocol', `service with unknown protocol ${String(protoNum)}`);
    const addrRaw = a.get(SVC.ADDR);
    const address = addrRaw ? addrString(family, addrRaw) : undefined;
    if (!address) return bad('svc-addr', 'service without a valid address');
    const port = a.has(SVC.PORT) ? getBe16(a.get(SVC.PORT)!) : undefined;
    if (port === undefined) return bad('svc-port', 'service without a port');
    id = { protocol, address, port };
  }
  const flags = flagNames(scheduler, bits);
  const stats = decodeStats(a, SVC.STATS, SVC.STATS64);
  return ok({
    family,
    ...id,
    scheduler,
    ...(bits & F_PERSISTENT ? { persistent: { timeoutS, netmask: netmaskDomain(family, netmaskWireValue) } } : {}),
    ...(flags.length > 0 ? { flags } : {}),
    ...(stats ? { stats } : {}),
  });
}

function decodeDest(nest: Buffer, ctx: DecodeContext): Decoded<IpvsDestEntry> {
  const p = parseAttrs(nest);
  if (!p.ok) return p;
  const a = p.value;
  const family = a.has(DEST.ADDR_FAMILY) ? familyOf(getU16(a.get(DEST.ADDR_FAMILY)!)) : ctx.serviceFamily;
  if (!family) return bad('dest-af', 'destination without a known address family');
  const addrRaw = a.get(DEST.ADDR);
  const address = addrRaw ? addrString(family, addrRaw) : undefined;
  if (!address) return bad('dest-addr', 'destination without a valid address');
  const port = a.has(DEST.PORT) ? getBe16(a.get(DEST.PORT)!) : undefined;
  if (port === undefined) return bad('dest-port', `destination ${address} without a port`);
  const fwdNum = a.has(DEST.FWD_METHOD) ? (getU32(a.get(DEST.FWD_METHOD)!) ?? -1) & FWD_MASK : -1;
  const forward = (Object.keys(FWD_NUM) as IpvsForward[]).find((k) => FWD_NUM[k] === fwdNum);
  if (!forward) {
    return bad('dest-fwd', fwdNum === FWD_LOCALNODE ? `destination ${address} is forwarded to the local node` : `destination ${address} has forwarding method ${fwdNum}`);
  }
  const u32 = (t: number): number | undefined => (a.has(t) ? getU32(a.get(t)!) : undefined);
  const weight = u32(DEST.WEIGHT);
  if (weight === undefined) return bad('dest-weight', `destination ${address} without a weight`);
  const upper = u32(DEST.U_THRESH) ?? 0;
  const lower = u32(DEST.L_THRESH) ?? 0;
  const stats = decodeStats(a, DEST.STATS, DEST.STATS64);
  return ok({
    address,
    family,
    port,
    forward,
    weight: weight | 0,
    ...(upper ? { upperThreshold: upper } : {}),
    ...(lower ? { lowerThreshold: lower } : {}),
    activeConns: u32(DEST.ACTIVE_CONNS) ?? 0,
    inactiveConns: u32(DEST.INACT_CONNS) ?? 0,
    persistConns: u32(DEST.PERSIST_CONNS) ?? 0,
    ...(stats ? { stats } : {}),
  });
}

/** Decodes one reply message (its attributes, after the genl header) by its command. */
export function fromIpvsAttrs(cmd: number, payload: Uint8Array, ctx: DecodeContext = {}): Decoded<IpvsReply> {
  const p = parseAttrs(payload);
  if (!p.ok) return p;
  const a = p.value;
  switch (cmd) {
    case IpvsCmd.NEW_SERVICE: {
      const nest = a.get(CMD_ATTR.SERVICE);
      if (!nest) return bad('no-service-attr', 'service reply without IPVS_CMD_ATTR_SERVICE');
      const s = decodeService(nest);
      return s.ok ? ok({ kind: 'service', service: s.value }) : s;
    }
    case IpvsCmd.NEW_DEST: {
      const nest = a.get(CMD_ATTR.DEST);
      if (!nest) return bad('no-dest-attr', 'destination reply without IPVS_CMD_ATTR_DEST');
      const d = decodeDest(nest, ctx);
      return d.ok ? ok({ kind: 'dest', dest: d.value }) : d;
    }
    case IpvsCmd.SET_INFO: {
      const v = a.has(INFO.VERSION) ? getU32(a.get(INFO.VERSION)!) : undefined;
      const size = a.has(INFO.CONN_TAB_SIZE) ? getU32(a.get(INFO.CONN_TAB_SIZE)!) : undefined;
      if (v === undefined || size === undefined) return bad('info', 'info reply without version or table size');
      return ok({ kind: 'info', info: { version: `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`, connTabSize: size } });
    }
    case IpvsCmd.SET_CONFIG: {
      const t = (k: number): number => (a.has(k) ? (getU32(a.get(k)!) ?? 0) : 0);
      return ok({ kind: 'timeouts', timeouts: { tcpS: t(CMD_ATTR.TIMEOUT_TCP), tcpFinS: t(CMD_ATTR.TIMEOUT_TCP_FIN), udpS: t(CMD_ATTR.TIMEOUT_UDP) } });
    }
    default:
      return bad('unexpected-cmd', `unexpected reply command ${cmd}`);
  }
}
