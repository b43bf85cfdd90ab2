/**
 * The generic netlink channel's typed error (src/netlink/genl.ts makes it, once, from the
 * `netlink` package's string errors). A leaf module: it imports nothing, so that code which
 * only matches on it does not load the package. rtnetlink's error is another class
 * (src/netlink/errors.ts: NetlinkError, codes VIGIL_NL_*), with the operation and object.
 */
export type GenlErrorCode =
  /** The kernel answered with a negative errno; `errno` holds its name (EEXIST, ENOENT…). */
  | 'VIGIL_NETLINK_REJECTED'
  /** No answer before the deadline. */
  | 'VIGIL_NETLINK_TIMEOUT'
  /** sendmsg/recvmsg failed, or the socket reported an error (e.g. ENOBUFS on overrun). */
  | 'VIGIL_NETLINK_SOCKET'
  /** The channel was closed while the request was queued or pending. */
  | 'VIGIL_NETLINK_CLOSED'
  /** The kernel has no generic netlink family of that name (module missing). */
  | 'VIGIL_GENL_NO_FAMILY'
  /** A reply we could not make sense of. */
  | 'VIGIL_NETLINK_BAD_REPLY';

export class GenlError extends Error {
  override readonly name = 'GenlError';
  readonly code: GenlErrorCode;
  /** errno name for VIGIL_NETLINK_REJECTED / VIGIL_NETLINK_SOCKET, e.g. `EEXIST` */
  readonly errno: string | undefined;

  constructor(code: GenlErrorCode, message: string, errno?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.errno = errno;
  }
}
