/**
 * VRRP on the wire: one raw socket (IP protocol 112) per family, interface and mode, that
 * both sends and receives. Runs in the VRRP worker thread and in the main thread alike.
 *
 * Socket options follow keepalived 2.2.7 (vrrp.c open_vrrp_read_socket/open_vrrp_send_socket,
 * vrrp_if.c) and ../shared/vectors/README.md "Observed behaviour": TOS/traffic class 0xc0,
 * TTL/hop limit 255, bound to the device, multicast loop off, IP(V6)_MULTICAST_ALL off, the
 * group joined on the interface by ifindex, and (multicast) bound to the group address so
 * unicast VRRP to us is not mixed in; unicast mode binds to the source address instead.
 *
 * Differences from keepalived, on purpose:
 * - IPv4 without IP_HDRINCL: the kernel writes the header from IP_TOS/IP_TTL/
 *   IP_MULTICAST_TTL; IP_MTU_DISCOVER=DONT keeps DF clear as keepalived's header has it
 *   (flags [none]). The source is the bound address (unicast) or ip_mreqn.imr_address of
 *   IP_MULTICAST_IF (multicast), so it is known to the caller as `src`.
 * - IPv6 without IPV6_CHECKSUM (keepalived sets offset 6): the VRRPv3 codec computes the
 *   checksum over the pseudo-header and counts bad ones under its own reason; with offset 6
 *   the kernel would overwrite what we send and silently drop what fails on receive, so
 *   the codec's counter could never see one. The source the codec must use in the
 *   pseudo-header is pinned with the sticky IPV6_PKTINFO option and exposed as `src`.
 *
 * `auth_type AH` (VRRPv2, IPv4) takes a socket of its own, of protocol 51 (AH), as keepalived
 * does; the kernel hands AH to a raw socket of that protocol without any xfrm state (checked
 * in a namespace: test/fixtures/vrrp-ah/README.md). Its send() takes whole IPv4 packets
 * (IP_HDRINCL), since the AH ICV covers the IP header and vigil must know every byte of it.
 *
 * Reading is done on this thread's event loop (reader.ts explains why raw-socket is not
 * used: it crashes inside a worker thread). Sending is a non-blocking sendto() on this
 * thread: it returns at once, EAGAIN included, and never waits.
 */
import { networkInterfaces } from 'node:os';
import { IoError } from './errors.ts';
import {
  AF_INET,
  AF_INET6,
  IPPROTO_AH,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPPROTO_VRRP,
  IPV6_ADD_MEMBERSHIP,
  IPV6_CHECKSUM,
  IPV6_MULTICAST_ALL,
  IPV6_MULTICAST_HOPS,
  IPV6_MULTICAST_IF,
  IPV6_MULTICAST_LOOP,
  IPV6_PKTINFO,
  IPV6_RECVHOPLIMIT,
  IPV6_RECVPKTINFO,
  IPV6_TCLASS,
  IPV6_UNICAST_HOPS,
  IP_ADD_MEMBERSHIP,
  IP_HDRINCL,
  IP_MTU_DISCOVER,
  IP_MULTICAST_ALL,
  IP_MULTICAST_IF,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IP_PMTUDISC_DONT,
  IP_TOS,
  IP_TTL,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOL_SOCKET,
  SO_BINDTODEVICE,
  check,
  intOpt,
  lastErrno,
  libc,
} from './libc.ts';
import { forgetFd, recordFd } from './fd-ledger.ts';
import { watchFd, type RawDatagram, type Watch } from './reader.ts';
import {
  addrBytes,
  in6Pktinfo,
  ipMreqn,
  ipv6Mreq,
  parseIpv4,
  sockaddrIn,
  sockaddrIn6,
  type Ipv4DropReason,
} from './wire.ts';

export interface ReceivedPacket {
  family: 4 | 6;
  src: string;
  dst: string;
  /** IPv4 TTL or IPv6 hop limit */
  ttl: number;
  /** the IP payload: the VRRP message (IP header stripped), or with `ah` the AH header and the VRRP message */
  payload: Buffer;
  /** `ah` sockets: the whole IPv4 packet (the AH ICV covers its header) */
  packet?: Buffer;
}

export interface VrrpSocketOptions {
  family: 4 | 6;
  ifname: string;
  /** multicast group to join (224.0.0.18 / ff02::12) unless unicast */
  group: string;
  unicast: boolean;
  /**
   * source address to bind/send from (unicast_src_ip, or the interface primary). Default:
   * the interface's first IPv4 address / its IPv6 link-local address (RFC 5798 §5.1.2.1), as
   * os.networkInterfaces() lists them — which is only while the link is up with carrier;
   * otherwise the kernel picks per packet and `src` is undefined.
   */
  src?: string;
  /** unicast_ttl: TTL / hop limit of unicast sends (multicast ones keep 255); default 255 */
  ttl?: number;
  /** Called for every received datagram that is not delivered, with a stable reason. */
  onDrop?: (reason: DropReason, detail: string) => void;
  /**
   * IPv4 only: protocol 51 (AH) instead of 112, and send() takes whole IPv4 packets
   * (IP_HDRINCL) that the caller built, src and dst included.
   */
  ah?: boolean;
}

/** Why a received datagram was not delivered; each is a metric label. */
export type DropReason = Ipv4DropReason | 'truncated' | 'no-ancillary' | 'no-source';

/** destinations whose sockaddr a socket keeps (an instance has its group or its unicast peers) */
const MAX_CACHED_SOCKADDRS = 256;

export interface VrrpSocketStats {
  received: number;
  sent: number;
  sendErrors: number;
  recvErrors: number;
  drops: Partial<Record<DropReason, number>>;
}

export interface VrrpSocket {
  /**
   * Sends one datagram now (a non-blocking sendto: the kernel has copied `payload` when this
   * returns, so the caller may send the same buffer again). Returns the error, if any.
   */
  send(payload: Buffer, dst: string): IoError | undefined;
  close(): void;
  /** The source address our packets carry (what the VRRPv3 pseudo-header must use), if known. */
  readonly src: string | undefined;
  readonly ifindex: number;
  readonly stats: Readonly<VrrpSocketStats>;
}

/** The interface's address to send from when none is configured. */
export function defaultSource(ifname: string, family: 4 | 6): string | undefined {
  const addrs = networkInterfaces()[ifname] ?? [];
  if (family === 4) return addrs.find((a) => a.family === 'IPv4')?.address;
  return addrs.find((a) => a.family === 'IPv6' && /^fe[89ab]/i.test(a.address))?.address.replace(/%.*$/, '');
}

function isLinkLocal6(b: Buffer): boolean {
  return b[0] === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80;
}

/**
 * Opens the socket, joins the group and starts receiving. Throws IoError: VIGIL_SOCK_ARG for
 * an unknown interface or a bad address, VIGIL_SOCK_OPEN when a system call fails (EPERM
 * without CAP_NET_RAW, EADDRNOTAVAIL for a src that is not ours, …).
 */
export function openVrrpSocket(
  opts: VrrpSocketOptions,
  onPacket: (p: ReceivedPacket) => void,
  onError: (e: Error) => void,
): VrrpSocket {
  const c = libc();
  const { family, ifname, unicast } = opts;
  const what = `VRRP IPv${family} socket on ${ifname}`;
  const ifindex = c.if_nametoindex(ifname);
  if (ifindex === 0) throw new IoError('VIGIL_SOCK_ARG', `${what}: no interface ${ifname}`, { errno: lastErrno(), syscall: 'if_nametoindex' });
  const src = opts.src ?? defaultSource(ifname, family);
  const srcBytes = src === undefined ? undefined : addrBytes(src, family);
  if (src !== undefined && !srcBytes) throw new IoError('VIGIL_SOCK_ARG', `${what}: src ${src} is not an IPv${family} address`);
  const groupBytes = unicast ? undefined : addrBytes(opts.group, family);
  if (!unicast && !groupBytes) throw new IoError('VIGIL_SOCK_ARG', `${what}: group ${opts.group} is not an IPv${family} address`);

  const ah = opts.ah === true;
  if (ah && family !== 4) throw new IoError('VIGIL_SOCK_ARG', `${what}: AH is IPv4 only`);
  const protocol = ah ? IPPROTO_AH : IPPROTO_VRRP;
  const fd = check(c.socket(family === 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol), 'VIGIL_SOCK_OPEN', 'socket', what);
  const slot = recordFd(fd);
  const abandon = (): void => {
    forgetFd(slot);
    c.close(fd);
  };
  const set = (level: number, name: number, value: Buffer, label: string): void => {
    check(c.setsockopt(fd, level, name, value, value.length), 'VIGIL_SOCK_OPEN', `setsockopt(${label})`, what);
  };
  const bind = (sa: Buffer): void => {
    check(c.bind(fd, sa, sa.length), 'VIGIL_SOCK_OPEN', 'bind', what);
  };
  try {
    set(SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${ifname}\0`), 'SO_BINDTODEVICE');
    if (family === 4) {
      set(IPPROTO_IP, IP_TOS, intOpt(0xc0), 'IP_TOS');
      set(IPPROTO_IP, IP_TTL, intOpt(unicast ? (opts.ttl ?? 255) : 255), 'IP_TTL');
      set(IPPROTO_IP, IP_MULTICAST_TTL, intOpt(255), 'IP_MULTICAST_TTL');
      set(IPPROTO_IP, IP_MTU_DISCOVER, intOpt(IP_PMTUDISC_DONT), 'IP_MTU_DISCOVER');
      set(IPPROTO_IP, IP_MULTICAST_LOOP, intOpt(0), 'IP_MULTICAST_LOOP');
      set(IPPROTO_IP, IP_MULTICAST_ALL, intOpt(0), 'IP_MULTICAST_ALL');
      set(IPPROTO_IP, IP_MULTICAST_IF, ipMreqn(undefined, srcBytes, ifindex), 'IP_MULTICAST_IF');
      if (ah) set(IPPROTO_IP, IP_HDRINCL, intOpt(1), 'IP_HDRINCL');
      if (groupBytes) {
        set(IPPROTO_IP, IP_ADD_MEMBERSHIP, ipMreqn(groupBytes, undefined, ifindex), 'IP_ADD_MEMBERSHIP');
        bind(sockaddrIn(groupBytes));
      } else if (srcBytes) {
        bind(sockaddrIn(srcBytes));
      }
    } else {
      set(IPPROTO_IPV6, IPV6_TCLASS, intOpt(0xc0), 'IPV6_TCLASS');
      set(IPPROTO_IPV6, IPV6_UNICAST_HOPS, intOpt(unicast ? (opts.ttl ?? 255) : 255), 'IPV6_UNICAST_HOPS');
      set(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, intOpt(255), 'IPV6_MULTICAST_HOPS');
      set(IPPROTO_IPV6, IPV6_MULTICAST_IF, intOpt(ifindex), 'IPV6_MULTICAST_IF');
      set(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, intOpt(0), 'IPV6_MULTICAST_LOOP');
      set(IPPROTO_IPV6, IPV6_MULTICAST_ALL, intOpt(0), 'IPV6_MULTICAST_ALL');
      set(IPPROTO_IPV6, IPV6_CHECKSUM, intOpt(-1), 'IPV6_CHECKSUM');
      set(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, intOpt(1), 'IPV6_RECVHOPLIMIT');
      set(IPPROTO_IPV6, IPV6_RECVPKTINFO, intOpt(1), 'IPV6_RECVPKTINFO');
      if (srcBytes) set(IPPROTO_IPV6, IPV6_PKTINFO, in6Pktinfo(srcBytes, ifindex), 'IPV6_PKTINFO');
      if (groupBytes) {
        set(IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, ipv6Mreq(groupBytes, ifindex), 'IPV6_ADD_MEMBERSHIP');
        bind(sockaddrIn6(groupBytes, ifindex));
      } else if (srcBytes) {
        bind(sockaddrIn6(srcBytes, isLinkLocal6(srcBytes) ? ifindex : 0));
      }
    }
  } catch (e) {
    abandon();
    throw e;
  }

  const stats: VrrpSocketStats = { received: 0, sent: 0, sendErrors: 0, recvErrors: 0, drops: {} };
  const drop = (reason: DropReason, detail: string): void => {
    stats.drops[reason] = (stats.drops[reason] ?? 0) + 1;
    opts.onDrop?.(reason, detail);
  };
  const deliver = (d: RawDatagram): void => {
    if (d.truncated) return drop('truncated', `datagram longer than ${d.data.length} bytes`);
    const data = Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength);
    if (family === 4) {
      const r = parseIpv4(data, protocol);
      if (!r.ok) return drop(r.reason, r.detail);
      stats.received++;
      const p: ReceivedPacket = { family, src: r.packet.src, dst: r.packet.dst, ttl: r.packet.ttl, payload: r.packet.payload };
      if (ah) p.packet = data.subarray(0, data.readUInt16BE(2));
      onPacket(p);
      return;
    }
    if (d.src === undefined) return drop('no-source', 'recvmsg gave no IPv6 source address');
    if (d.hopLimit === undefined || d.dst === undefined) return drop('no-ancillary', 'no IPV6_HOPLIMIT/IPV6_PKTINFO ancillary data');
    stats.received++;
    onPacket({ family, src: d.src, dst: d.dst, ttl: d.hopLimit, payload: data });
  };

  // A socket sends to the same one or few addresses every interval (its group, its unicast
  // peers): their sockaddrs are built once, not parsed from text on every advert.
  const sockaddrs = new Map<string, Buffer>();
  const sockaddrFor = (dst: string): Buffer | undefined => {
    const known = sockaddrs.get(dst);
    if (known) return known;
    const bytes = addrBytes(dst, family);
    if (!bytes) return undefined;
    const sa = family === 4 ? sockaddrIn(bytes) : sockaddrIn6(bytes, ifindex);
    if (sockaddrs.size >= MAX_CACHED_SOCKADDRS) sockaddrs.clear();
    sockaddrs.set(dst, sa);
    return sa;
  };

  let closed = false;
  let watch: Watch;
  try {
    watch = watchFd(fd, slot, deliver, (e) => {
      stats.recvErrors++;
      onError(e);
    });
  } catch (e) {
    abandon();
    throw e;
  }

  return {
    src: src === undefined ? undefined : family === 6 ? src.replace(/%.*$/, '') : src,
    ifindex,
    stats,
    send(payload, dst) {
      let err: IoError | undefined;
      const sa = closed ? undefined : sockaddrFor(dst);
      if (closed) err = new IoError('VIGIL_SOCK_SEND', `${what}: send to ${dst}: socket is closed`);
      else if (!sa) err = new IoError('VIGIL_SOCK_ARG', `${what}: ${dst} is not an IPv${family} address`);
      else {
        const n = c.sendto(fd, payload, payload.length, 0, sa, sa.length);
        if (n < 0) {
          const errno = lastErrno();
          err = new IoError('VIGIL_SOCK_SEND', `${what}: sendto ${dst} failed: ${errno}`, { errno, syscall: 'sendto' });
        }
      }
      if (err) stats.sendErrors++;
      else stats.sent++;
      return err;
    },
    close() {
      if (closed) return;
      closed = true;
      watch.close();
    },
  };
}
