/**
 * The few libc calls the socket layer needs, through koffi (DESIGN.md: "koffi for the few
 * libc calls no package wraps"). Loaded lazily and once per thread: koffi keeps per-thread
 * (per-isolate) state, and every worker that uses this module loads its own binding.
 *
 * Only non-blocking use is made of these from an event-loop thread.
 *
 * Constants are Linux's (asm-generic / x86_64 and aarch64 share them); sources are the
 * kernel's include/uapi headers named next to each group.
 */
import koffi from './koffi.ts';
import { endianness } from 'node:os';
import { IoError, type IoErrorCode } from './errors.ts';

// include/linux/socket.h, include/linux/net.h
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_PACKET = 17;
export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const MSG_DONTWAIT = 0x40;
export const MSG_TRUNC = 0x20;
export const MSG_CTRUNC = 0x08;
// include/uapi/asm-generic/socket.h
export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_RCVTIMEO = 20;
export const SO_BINDTODEVICE = 25;
// include/uapi/linux/in.h
export const IPPROTO_IP = 0;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_VRRP = 112;
export const IPPROTO_AH = 51;
export const IP_TOS = 1;
export const IP_TTL = 2;
export const IP_HDRINCL = 3;
export const IP_MTU_DISCOVER = 10;
export const IP_PMTUDISC_DONT = 0;
export const IP_MULTICAST_IF = 32;
export const IP_MULTICAST_TTL = 33;
export const IP_MULTICAST_LOOP = 34;
export const IP_ADD_MEMBERSHIP = 35;
export const IP_MULTICAST_ALL = 49;
// include/uapi/linux/in6.h, include/uapi/linux/ipv6.h
export const IPV6_CHECKSUM = 7;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;
export const IPV6_ADD_MEMBERSHIP = 20;
export const IPV6_MULTICAST_ALL = 29;
export const IPV6_RECVPKTINFO = 49;
export const IPV6_PKTINFO = 50;
export const IPV6_RECVHOPLIMIT = 51;
export const IPV6_HOPLIMIT = 52;
export const IPV6_TCLASS = 67;
// include/uapi/linux/if_ether.h
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;

/** The libc functions, typed. Pointers are passed as Buffers or koffi pointers. */
export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, alen: number): number;
  /** `msg` is a koffi pointer to a struct msghdr in native memory. */
  recvmsg(fd: number, msg: unknown, flags: number): number;
  close(fd: number): number;
  read(fd: number, buf: Buffer, len: number): number;
  write(fd: number, buf: Buffer, len: number): number;
  if_nametoindex(name: string): number;
  /** The address of a symbol in the process's global scope (`handle` null: RTLD_DEFAULT). */
  dlsym(handle: null, name: string): unknown;
  /** Gives the memory malloc keeps free, in every arena, back to the system. */
  malloc_trim(pad: number): number;
}

type Library = ReturnType<typeof koffi.load>;
let libcLib: Library | undefined;
let globalLib: Library | undefined;

/**
 * libc.so.6, loaded once per thread: the modules that need a call this binding does not
 * declare (posix_spawn, setns, mlock2, …) bind it from here, next to their use.
 */
export function libcLibrary(): Library {
  libcLib ??= koffi.load('libc.so.6');
  return libcLib;
}

/** The process's global scope (dlopen(NULL)): node's own exported symbols and the executable's `environ`. */
export function processSymbols(): Library {
  globalLib ??= koffi.load(null as unknown as string);
  return globalLib;
}

let bound: Libc | undefined;

export function libc(): Libc {
  if (bound) return bound;
  // wire.ts lays host-order fields out little-endian (x86_64, aarch64).
  if (endianness() !== 'LE') throw new IoError('VIGIL_SOCK_OPEN', "vigil's socket layer supports little-endian hosts only");
  const lib = libcLibrary();
  const l = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    bind: lib.func('int bind(int fd, const void *addr, uint32_t len)'),
    sendto: lib.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen)'),
    recvmsg: lib.func('intptr_t recvmsg(int fd, void *msg, int flags)'),
    close: lib.func('int close(int fd)'),
    read: lib.func('intptr_t read(int fd, void *buf, size_t len)'),
    write: lib.func('intptr_t write(int fd, const void *buf, size_t len)'),
    if_nametoindex: lib.func('unsigned int if_nametoindex(const char *name)'),
    dlsym: lib.func('void *dlsym(void *handle, const char *name)'),
    malloc_trim: lib.func('int malloc_trim(size_t pad)'),
  };
  bound = l as unknown as Libc;
  return bound;
}

const errnoNames = new Map<number, string>(Object.entries(koffi.os.errno).map(([k, v]) => [v, k]));

/** An errno number's name (ENOENT, …). */
export function errnoName(n: number): string {
  return errnoNames.get(n) ?? `errno ${n}`;
}

/** The symbolic name of the calling thread's errno (read right after the failed call). */
export function lastErrno(): string {
  return errnoName(koffi.errno());
}

/** A NULL-terminated array of C strings in native memory; free() releases all of it. */
export function cStrings(strs: readonly string[]): { ptr: unknown; free(): void } {
  // One block for the pointers and the NUL-terminated strings after them: two koffi calls,
  // not two per string (a script's environment is dozens of strings, bench/footprint).
  const bytes = strs.map((x) => Buffer.from(`${x}\0`));
  const table = 8 * (strs.length + 1);
  const size = table + bytes.reduce((n, b) => n + b.length, 0);
  const ptr: unknown = koffi.alloc('uint8_t', size);
  const block = new Uint8Array(koffi.view(ptr, size));
  const pointers = new BigUint64Array(block.buffer, block.byteOffset, strs.length + 1);
  const base = BigInt(koffi.address(ptr));
  let at = table;
  bytes.forEach((b, i) => {
    block.set(b, at);
    pointers[i] = base + BigInt(at);
    at += b.length;
  });
  pointers[strs.length] = 0n;
  return { ptr, free: () => koffi.free(ptr) };
}

/** Throws an IoError if a libc call returned < 0; returns its result otherwise. */
export function check(ret: number, code: IoErrorCode, syscall: string, what: string): number {
  if (ret >= 0) return ret;
  const errno = lastErrno();
  throw new IoError(code, `${what}: ${syscall} failed: ${errno}`, { errno, syscall });
}

/** A 4-byte native int, the value type of most socket options. */
export function intOpt(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}

export { koffi };
