/**
 * sd_notify(3) without libsystemd: one AF_UNIX datagram per message to $NOTIFY_SOCKET.
 *
 * Node's dgram module has no AF_UNIX, so the three syscalls go through koffi (libc FFI):
 * socket(AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC), sendto() with a sockaddr_un, close(). A path
 * starting with `@` is an abstract socket (sun_path[0] = NUL, no trailing NUL counted in
 * the address length), as systemd documents in sd_notify(3).
 *
 * Without $NOTIFY_SOCKET (not under systemd, or NotifyAccess=none) every call is a no-op
 * returning false: vigil runs the same with or without systemd.
 */
import { koffi, libcLibrary } from '../io/libc.ts';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;
/** Linux: CLOCK_MONOTONIC, the clock systemd reads MONOTONIC_USEC against (sd_notify(3)). */
const CLOCK_MONOTONIC = 1;
/** sizeof(struct sockaddr_un): sa_family_t (2) + sun_path[108] */
const SOCKADDR_UN_SIZE = 110;
const SUN_PATH_MAX = 108;

interface Libc {
  socket: (domain: number, type: number, protocol: number) => number;
  sendto: (fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: number) => number;
  close: (fd: number) => number;
  clockGettime: (clock: number, ts: { tv_sec: bigint | number; tv_nsec: number }) => number;
}

let libc: Libc | undefined;

function getLibc(): Libc {
  if (libc) return libc;
  const lib = libcLibrary();
  // Anonymous struct: koffi's type names are process-wide and another module may define `timespec`.
  const timespec = koffi.struct({ tv_sec: 'int64_t', tv_nsec: 'long' });
  libc = {
    socket: lib.func('socket', 'int', ['int', 'int', 'int']) as Libc['socket'],
    sendto: lib.func('sendto', 'intptr_t', ['int', 'void *', 'size_t', 'int', 'void *', 'uint32_t']) as Libc['sendto'],
    close: lib.func('close', 'int', ['int']) as Libc['close'],
    clockGettime: lib.func('clock_gettime', 'int', ['int', koffi.out(koffi.pointer(timespec))]) as Libc['clockGettime'],
  };
  return libc;
}

/** An error from this module, with a stable code. */
export class SdNotifyError extends Error {
  readonly code: 'SD_NOTIFY_BAD_SOCKET' | 'SD_NOTIFY_SYSCALL';
  readonly errno?: number;
  constructor(code: SdNotifyError['code'], message: string, errno?: number) {
    super(message);
    this.name = 'SdNotifyError';
    this.code = code;
    if (errno !== undefined) this.errno = errno;
  }
}

/** struct sockaddr_un for a $NOTIFY_SOCKET value, and the address length to pass. Pure. */
export function encodeSockaddrUn(socketPath: string): { addr: Buffer; len: number } {
  if (socketPath === '' || (socketPath[0] !== '/' && socketPath[0] !== '@')) {
    throw new SdNotifyError('SD_NOTIFY_BAD_SOCKET', `NOTIFY_SOCKET ${JSON.stringify(socketPath)} is neither a path nor an abstract @name`);
  }
  const abstract = socketPath[0] === '@';
  const name = Buffer.from(abstract ? socketPath.slice(1) : socketPath);
  // A path needs its NUL terminator inside sun_path; an abstract name has a leading NUL.
  if (name.length + 1 > SUN_PATH_MAX) {
    throw new SdNotifyError('SD_NOTIFY_BAD_SOCKET', `NOTIFY_SOCKET is longer than ${SUN_PATH_MAX - 1} bytes`);
  }
  const addr = Buffer.alloc(SOCKADDR_UN_SIZE);
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, abstract ? 3 : 2);
  const len = 2 + 1 + name.length;
  return { addr, len };
}

/**
 * Sends one notification (newline-separated assignments, e.g. `READY=1\nSTATUS=running`).
 * Returns true when sent; false when $NOTIFY_SOCKET is unset or the send failed. Never
 * throws: a daemon must not die because systemd's socket went away. `onError` sees the
 * failure (to log and count it); sdNotifyStrict throws it instead.
 */
export function sdNotify(state: string, env: NodeJS.ProcessEnv = process.env, onError?: (err: SdNotifyError) => void): boolean {
  try {
    return sdNotifyStrict(state, env);
  } catch (err) {
    onError?.(err instanceof SdNotifyError ? err : new SdNotifyError('SD_NOTIFY_SYSCALL', String(err)));
    return false;
  }
}

/**
 * sdNotify, but a malformed socket name or a failed syscall (e.g. ECONNREFUSED: nobody bound
 * the socket) throws SdNotifyError. Returns false only when $NOTIFY_SOCKET is unset.
 */
export function sdNotifyStrict(state: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const socketPath = env['NOTIFY_SOCKET'];
  if (socketPath === undefined || socketPath === '') return false;
  const { addr, len } = encodeSockaddrUn(socketPath);
  const c = getLibc();
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SdNotifyError('SD_NOTIFY_SYSCALL', `socket(AF_UNIX): errno ${koffi.errno()}`, koffi.errno());
  try {
    const msg = Buffer.from(state);
    const n = c.sendto(fd, msg, msg.length, MSG_NOSIGNAL, addr, len);
    if (n < 0) {
      const e = koffi.errno();
      throw new SdNotifyError('SD_NOTIFY_SYSCALL', `sendto(${socketPath}): errno ${e}`, e);
    }
    return true;
  } finally {
    c.close(fd);
  }
}

/** clock_gettime(CLOCK_MONOTONIC) in µs, as a bigint (no precision lost). */
export function monotonicUsec(): bigint {
  const ts = { tv_sec: 0n as bigint | number, tv_nsec: 0 };
  if (getLibc().clockGettime(CLOCK_MONOTONIC, ts) !== 0) {
    throw new SdNotifyError('SD_NOTIFY_SYSCALL', `clock_gettime: errno ${koffi.errno()}`, koffi.errno());
  }
  return BigInt(ts.tv_sec) * 1_000_000n + BigInt(Math.floor(ts.tv_nsec / 1000));
}

/**
 * The assignments vigil sends, spelled as sd_notify(3) wants them; `status` is a prefix
 * (`${SdState.status}running`). Join several with `\n`.
 */
export const SdState = {
  ready: 'READY=1',
  reloading: 'RELOADING=1',
  stopping: 'STOPPING=1',
  status: 'STATUS=',
  watchdog: 'WATCHDOG=1',
} as const;

/** READY=1 with an optional one-line STATUS. */
export function readyMessage(status?: string): string {
  return status === undefined ? SdState.ready : `${SdState.ready}\n${statusMessage(status)}`;
}

/** STATUS=…, folded onto one line (a newline would start a new assignment). */
export function statusMessage(text: string): string {
  return `${SdState.status}${oneLine(text)}`;
}

/**
 * RELOADING=1 with MONOTONIC_USEC: systemd ≥ 253 (Type=notify-reload) wants the time the
 * reload started on CLOCK_MONOTONIC; older systemd ignores the extra field.
 */
export function reloadingMessage(nowUsec: bigint = monotonicUsec()): string {
  return `${SdState.reloading}\nMONOTONIC_USEC=${nowUsec}`;
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

/**
 * The watchdog interval systemd asks for, or undefined when the watchdog is off: ms, half of
 * $WATCHDOG_USEC as sd_watchdog_enabled(3) advises; ignored when $WATCHDOG_PID names
 * another process.
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): number | undefined {
  const usecText = env['WATCHDOG_USEC'];
  if (usecText === undefined || !/^\d+$/.test(usecText)) return undefined;
  const pidText = env['WATCHDOG_PID'];
  if (pidText !== undefined && pidText !== '' && Number(pidText) !== pid) return undefined;
  const usec = Number(usecText);
  if (usec <= 0) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

export interface Watchdog {
  readonly intervalMs: number;
  stop(): void;
}

/**
 * Pings the watchdog every half period. The timer runs on the main thread's event loop on
 * purpose: if the supervisor's loop is stuck, the pings stop and systemd restarts vigil.
 * `onError` gets send failures (counted and logged by the caller); the timer keeps going.
 */
export function startWatchdog(
  opts: { env?: NodeJS.ProcessEnv; send?: (state: string) => boolean; onError?: (err: unknown) => void } = {},
): Watchdog | undefined {
  const env = opts.env ?? process.env;
  const intervalMs = watchdogIntervalMs(env);
  if (intervalMs === undefined) return undefined;
  const send = opts.send ?? ((s: string) => sdNotifyStrict(s, env));
  const ping = (): void => {
    try {
      send(SdState.watchdog);
    } catch (err) {
      opts.onError?.(err);
    }
  };
  ping();
  const timer = setInterval(ping, intervalMs);
  timer.unref();
  return { intervalMs, stop: () => clearInterval(timer) };
}
