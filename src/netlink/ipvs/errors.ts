/**
 * Typed IPVS errors. The code says what went wrong, the message names the object
 * (`VIGIL_IPVS_EEXIST`: `service 10.0.0.1:80/tcp already exists`). Match on `code`.
 */
import { GenlError } from '../genl-error.ts';

export type IpvsErrorCode =
  /** the kernel has no "IPVS" generic netlink family: ip_vs not built or not loadable */
  | 'VIGIL_IPVS_UNAVAILABLE'
  /** service or destination already exists */
  | 'VIGIL_IPVS_EEXIST'
  /** no such service (kernel ESRCH) */
  | 'VIGIL_IPVS_ESRCH'
  /** no such destination, or no such scheduler module (kernel ENOENT) */
  | 'VIGIL_IPVS_ENOENT'
  /** the kernel refused the values (bad family mix, bad netmask, thresholds out of range…) */
  | 'VIGIL_IPVS_EINVAL'
  /** weight or thresholds out of range (kernel ERANGE) */
  | 'VIGIL_IPVS_ERANGE'
  /** not permitted (no CAP_NET_ADMIN) */
  | 'VIGIL_IPVS_EPERM'
  /** any other errno the kernel returned; see `errno` */
  | 'VIGIL_IPVS_KERNEL'
  /** the object could not be encoded (bad address, scheduler name too long…); nothing was sent */
  | 'VIGIL_IPVS_INVALID'
  /** no answer before the deadline */
  | 'VIGIL_IPVS_TIMEOUT'
  /** the client was closed */
  | 'VIGIL_IPVS_CLOSED'
  /** the socket failed (e.g. receive buffer overrun) */
  | 'VIGIL_IPVS_SOCKET'
  /** a reply that did not decode; `reason` is the decoder's reason */
  | 'VIGIL_IPVS_BAD_REPLY';

const ERRNO_CODES: Readonly<Record<string, IpvsErrorCode>> = {
  EEXIST: 'VIGIL_IPVS_EEXIST',
  ESRCH: 'VIGIL_IPVS_ESRCH',
  ENOENT: 'VIGIL_IPVS_ENOENT',
  EINVAL: 'VIGIL_IPVS_EINVAL',
  ERANGE: 'VIGIL_IPVS_ERANGE',
  EPERM: 'VIGIL_IPVS_EPERM',
};

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EEXIST: 'already exists',
  ESRCH: 'no such service',
  ENOENT: 'not found (no such destination or scheduler)',
  EINVAL: 'invalid argument',
  ERANGE: 'value out of range',
  EPERM: 'operation not permitted',
};

export class IpvsError extends Error {
  override readonly name = 'IpvsError';
  readonly code: IpvsErrorCode;
  /** what the request was about, e.g. `service 10.0.0.1:80/tcp` */
  readonly object: string;
  readonly errno: string | undefined;
  /** decoder reason for VIGIL_IPVS_BAD_REPLY */
  readonly reason: string | undefined;

  constructor(
    code: IpvsErrorCode,
    object: string,
    message: string,
    extra: { errno?: string; reason?: string; cause?: unknown } = {},
  ) {
    super(`${code} ${object}: ${message}`, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.object = object;
    this.errno = extra.errno;
    this.reason = extra.reason;
  }
}

/** Maps a channel error to an IpvsError naming `object` (e.g. `service 10.0.0.1:80/tcp`). */
export function ipvsErrorFrom(err: unknown, object: string): IpvsError {
  if (err instanceof IpvsError) return err;
  if (err instanceof GenlError) {
    switch (err.code) {
      case 'VIGIL_NETLINK_REJECTED': {
        const errno = err.errno ?? 'UNKNOWN';
        return new IpvsError(ERRNO_CODES[errno] ?? 'VIGIL_IPVS_KERNEL', object, `${ERRNO_TEXT[errno] ?? 'kernel error'} (${errno})`, {
          errno,
          cause: err,
        });
      }
      case 'VIGIL_NETLINK_TIMEOUT':
        return new IpvsError('VIGIL_IPVS_TIMEOUT', object, 'no answer from the kernel before the deadline', { cause: err });
      case 'VIGIL_NETLINK_CLOSED':
        return new IpvsError('VIGIL_IPVS_CLOSED', object, 'IPVS client closed', { cause: err });
      case 'VIGIL_NETLINK_SOCKET':
        return new IpvsError('VIGIL_IPVS_SOCKET', object, err.message, { ...(err.errno ? { errno: err.errno } : {}), cause: err });
      case 'VIGIL_GENL_NO_FAMILY':
        return new IpvsError('VIGIL_IPVS_UNAVAILABLE', object, 'this kernel has no IPVS (ip_vs module missing)', {
          cause: err,
        });
      case 'VIGIL_NETLINK_BAD_REPLY':
        return new IpvsError('VIGIL_IPVS_BAD_REPLY', object, err.message, { cause: err });
    }
  }
  return new IpvsError('VIGIL_IPVS_BAD_REPLY', object, err instanceof Error ? err.message : String(err), { cause: err });
}
