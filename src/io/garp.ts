/**
 * Gratuitous ARP and unsolicited neighbour advertisements, sent by vigil itself over one
 * AF_PACKET socket per link (no arping/ndsend is spawned). Frames are built whole by the
 * pure builders in src/vrrp/garp.ts and sent as they are.
 *
 * Both go over AF_PACKET, as keepalived 2.2.7 does (vrrp_arp.c, vrrp_ndisc.c): an ICMPv6
 * raw socket would need the VIP as a usable source address, which the kernel refuses while
 * the address is still tentative (DAD) right after it was added — exactly when the NA
 * matters — and it would choose hop limit and checksum itself.
 *
 * The socket is opened with protocol 0, where keepalived uses htons(ETH_P_ARP) plus a
 * drop-everything BPF filter: with protocol 0 the kernel registers no receive hook at all
 * (packet(7); af_packet.c packet_create), so the socket never queues a frame, and sending
 * is unaffected because the frame carries its own ethertype.
 *
 * sendto() is non-blocking and synchronous: p50 4 µs per ARP and 6 µs per NA, frame build
 * included (bench/garp-send.ts), so a burst of garp_master_repeat frames leaves back to back,
 * as keepalived's do.
 */
import { IoError } from './errors.ts';
import { AF_PACKET, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, check, lastErrno, libc } from './libc.ts';
import { forgetFd, recordFd } from './fd-ledger.ts';
import { sockaddrLl } from './wire.ts';
import { buildGarpFrame, buildUnsolicitedNaFrame, type NaOptions } from '../vrrp/garp.ts';

export interface LinkAddr {
  ifname: string;
  ifindex: number;
  mac: Buffer;
}

export interface GarpSender {
  /** Sends one gratuitous ARP for `vip`. Throws IoError (VIGIL_SOCK_ARG, VIGIL_SOCK_SEND). */
  sendArp(vip: string): void;
  /** Sends one unsolicited NA for `vip6`. Throws IoError (VIGIL_SOCK_ARG, VIGIL_SOCK_SEND). */
  sendNa(vip6: string, opts?: NaOptions): void;
  /** Releases the socket. Idempotent; sends after close throw VIGIL_SOCK_SEND. */
  close(): void;
}

/** Throws IoError VIGIL_SOCK_OPEN (EPERM without CAP_NET_RAW) or VIGIL_SOCK_ARG (bad MAC). */
export function openGarpSender(link: LinkAddr): GarpSender {
  const what = `gratuitous ARP/NA socket on ${link.ifname}`;
  if (link.mac.length !== 6) throw new IoError('VIGIL_SOCK_ARG', `${what}: MAC must be 6 bytes, got ${link.mac.length}`);
  const c = libc();
  const fd = check(c.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), 'VIGIL_SOCK_OPEN', 'socket(AF_PACKET)', what);
  const slot = recordFd(fd);
  const bound = sockaddrLl(link.ifindex, 0);
  if (c.bind(fd, bound, bound.length) < 0) {
    const errno = lastErrno();
    forgetFd(slot);
    c.close(fd);
    throw new IoError('VIGIL_SOCK_OPEN', `${what}: bind to ifindex ${link.ifindex} failed: ${errno}`, { errno, syscall: 'bind' });
  }
  const arpDst = sockaddrLl(link.ifindex, 0x0806, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  const naDst = sockaddrLl(link.ifindex, 0x86dd, Buffer.from([0x33, 0x33, 0, 0, 0, 1]));
  let closed = false;

  const send = (frame: Buffer, dst: Buffer, label: string): void => {
    if (closed) throw new IoError('VIGIL_SOCK_SEND', `${what}: ${label}: socket is closed`);
    const n = c.sendto(fd, frame, frame.length, 0, dst, dst.length);
    if (n < 0) {
      const errno = lastErrno();
      throw new IoError('VIGIL_SOCK_SEND', `${what}: ${label}: sendto failed: ${errno}`, { errno, syscall: 'sendto' });
    }
  };
  const build = (f: () => Buffer, label: string): Buffer => {
    try {
      return f();
    } catch (e) {
      throw new IoError('VIGIL_SOCK_ARG', `${what}: ${label}: ${(e as Error).message}`);
    }
  };

  return {
    sendArp(vip) {
      send(build(() => buildGarpFrame(link.mac, vip), `ARP for ${vip}`), arpDst, `ARP for ${vip}`);
    },
    sendNa(vip6, opts) {
      send(build(() => buildUnsolicitedNaFrame(link.mac, vip6, opts), `NA for ${vip6}`), naDst, `NA for ${vip6}`);
    },
    close() {
      if (closed) return;
      closed = true;
      forgetFd(slot);
      c.close(fd);
    },
  };
}
