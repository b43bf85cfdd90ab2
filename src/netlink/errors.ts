/**
 * Typed errors for everything vigil asks the kernel over netlink.
 *
 * The `netlink` package reports a kernel refusal as a plain `Error('Request rejected: EEXIST')`
 * and a kernel NLMSG_ERROR carries only a negative errno. Both are turned into a
 * {@link NetlinkError} exactly once, here, with a stable `code` (`VIGIL_NL_<ERRNO>`,
 * `VIGIL_NL_TIMEOUT`, …) and the object the request was about, so callers match on
 * `err.code` and never on the message (STYLE.md habit 7, undici's `UND_ERR_*`).
 */
import { getSystemErrorName } from 'node:util';

/** Codes that are not a kernel errno. Kernel refusals are `VIGIL_NL_<ERRNO NAME>`. */
export const NL_TIMEOUT = 'VIGIL_NL_TIMEOUT';
/** The channel was closed while the request was queued or in flight. */
export const NL_CLOSED = 'VIGIL_NL_CLOSED';
/** The caller's spec cannot be put on the wire (bad address, prefix, label …); nothing was sent. */
export const NL_INVALID_SPEC = 'VIGIL_NL_INVALID_SPEC';
/** The kernel answered something that does not fit the request (malformed, wrong kind). */
export const NL_PROTOCOL = 'VIGIL_NL_PROTOCOL';
/** The socket itself failed (send error, receive error other than ENOBUFS). */
export const NL_SOCKET = 'VIGIL_NL_SOCKET';
/** A /proc/sys/net setting (VMAC ARP behaviour) could not be read or written. */
export const NL_SYSCTL = 'VIGIL_NL_SYSCTL';

/** Kernel refusals callers commonly branch on; any other errno maps to `VIGIL_NL_<NAME>` too. */
export const NL_EEXIST = 'VIGIL_NL_EEXIST';
export const NL_ENODEV = 'VIGIL_NL_ENODEV';
export const NL_EADDRNOTAVAIL = 'VIGIL_NL_EADDRNOTAVAIL';
export const NL_ESRCH = 'VIGIL_NL_ESRCH';
export const NL_EINVAL = 'VIGIL_NL_EINVAL';
export const NL_EPERM = 'VIGIL_NL_EPERM';
export const NL_ENOENT = 'VIGIL_NL_ENOENT';

export interface NetlinkErrorFields {
  /** What was being done, e.g. `add address`, `dump links`. */
  readonly op: string;
  /** The object it was done to, e.g. `10.0.0.1/24 dev eth0`, `interface eth9`. */
  readonly object: string;
  /** Kernel errno name (`EEXIST`) when the kernel refused the request. */
  readonly errno?: string;
  readonly cause?: unknown;
}

export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';
  readonly code: string;
  readonly op: string;
  readonly object: string;
  readonly errno: string | undefined;

  constructor(code: string, detail: string, f: NetlinkErrorFields) {
    super(`${f.op} ${f.object}: ${detail}`, f.cause === undefined ? undefined : { cause: f.cause });
    this.code = code;
    this.op = f.op;
    this.object = f.object;
    this.errno = f.errno;
  }
}

/** Errno name for a kernel error number (positive or negative), `ERRNO_<n>` if the name is unknown. */
export function errnoName(errno: number): string {
  const abs = Math.abs(errno);
  // libuv names its own non-errno codes from -3000 down (UV_EAI_*, UV_EOF …); kernel errnos
  // are small. libuv calls 95 ENOTSUP; the kernel's name (and iproute2's) is EOPNOTSUPP.
  if (abs === 0 || abs >= 3000) return `ERRNO_${abs}`;
  try {
    const name = getSystemErrorName(-abs);
    return name === 'ENOTSUP' ? 'EOPNOTSUPP' : name;
  } catch {
    return `ERRNO_${abs}`;
  }
}

/** Human wording for the errnos netlink address/route/link requests actually return. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EEXIST: 'already exists',
  ENODEV: 'no such interface',
  EADDRNOTAVAIL: 'no such address',
  ESRCH: 'no such route',
  ENOENT: 'no such object',
  EINVAL: 'invalid argument',
  EPERM: 'operation not permitted (needs CAP_NET_ADMIN)',
  EACCES: 'permission denied',
  EBUSY: 'device or resource busy',
  ENETUNREACH: 'network unreachable (gateway not on a connected network)',
  EOPNOTSUPP: 'operation not supported by this kernel',
  ERANGE: 'value out of range',
  ENOBUFS: 'kernel out of buffer space',
  EMSGSIZE: 'message too long',
  EAFNOSUPPORT: 'address family not supported',
};

/** A kernel NLMSG_ERROR with a non-zero errno, as a typed error. */
export function kernelError(errno: number, op: string, object: string): NetlinkError {
  const name = errnoName(errno);
  const text = ERRNO_TEXT[name];
  return new NetlinkError(`VIGIL_NL_${name}`, text ? `${name} (${text})` : name, { op, object, errno: name });
}

export function timeoutError(op: string, object: string, ms: number): NetlinkError {
  return new NetlinkError(NL_TIMEOUT, `no answer from the kernel within ${ms} ms`, { op, object });
}

export function closedError(op: string, object: string): NetlinkError {
  return new NetlinkError(NL_CLOSED, 'netlink channel closed', { op, object });
}

export function invalidSpec(op: string, object: string, why: string): NetlinkError {
  return new NetlinkError(NL_INVALID_SPEC, why, { op, object });
}

const REJECTED = /^Request rejected: (E[A-Z0-9]+|-?\d+)$/;

/**
 * Wraps anything thrown by the `netlink` package or a socket into a NetlinkError — once:
 * a NetlinkError passes through unchanged so the first (most specific) wrapping wins.
 * `Request rejected: EEXIST` → `VIGIL_NL_EEXIST`; `Timeout has been reached` → `VIGIL_NL_TIMEOUT`;
 * an errno exception from the native socket (`code: 'ENOBUFS'`) → `VIGIL_NL_SOCKET` naming it.
 */
export function wrapNetlinkError(e: unknown, op: string, object: string): NetlinkError {
  if (e instanceof NetlinkError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const m = REJECTED.exec(message);
  if (m) {
    const raw = m[1]!;
    if (/^-?\d+$/.test(raw)) return kernelError(Number(raw), op, object);
    const token = raw === 'ENOTSUP' ? 'EOPNOTSUPP' : raw;
    const text = ERRNO_TEXT[token];
    return new NetlinkError(`VIGIL_NL_${token}`, text ? `${token} (${text})` : token, {
      op,
      object,
      errno: token,
      cause: e,
    });
  }
  if (message === 'Timeout has been reached') {
    return new NetlinkError(NL_TIMEOUT, 'no answer from the kernel before the deadline', { op, object, cause: e });
  }
  const sysCode = typeof e === 'object' && e !== null && 'code' in e ? (e as { code: unknown }).code : undefined;
  if (typeof sysCode === 'string' && /^E[A-Z0-9]+$/.test(sysCode)) {
    return new NetlinkError(NL_SOCKET, `socket error ${sysCode}: ${message}`, { op, object, errno: sysCode, cause: e });
  }
  return new NetlinkError(NL_PROTOCOL, message, { op, object, cause: e });
}
