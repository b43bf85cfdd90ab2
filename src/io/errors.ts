/**
 * Errors of the socket layer. Callers match on `code`, never on the message
 * (STYLE.md habit 7); `errno` is the symbolic errno (`EPERM`, `ENODEV`, …) when a
 * system call failed, so a supervisor can tell "not root" from "no such interface".
 */
export type IoErrorCode =
  /** socket(), setsockopt(), bind() or the event-loop watch (fd-poll.ts) could not set the socket up. */
  | 'VIGIL_SOCK_OPEN'
  /** sendto() failed (EAGAIN when the socket buffer is full, ENETDOWN, …) or the socket is closed. */
  | 'VIGIL_SOCK_SEND'
  /** recvmsg() failed, or the packet handler threw. */
  | 'VIGIL_SOCK_RECV'
  /** An address or interface argument is not usable (not an IPv4/IPv6 literal, unknown interface). */
  | 'VIGIL_SOCK_ARG';

export class IoError extends Error {
  readonly code: IoErrorCode;
  /** Symbolic errno of the failed system call, if one failed. */
  readonly errno: string | undefined;
  /** The system call or step that failed, e.g. `setsockopt(IP_ADD_MEMBERSHIP)`. */
  readonly syscall: string | undefined;

  constructor(code: IoErrorCode, message: string, opts: { errno?: string; syscall?: string } = {}) {
    super(message);
    this.name = 'IoError';
    this.code = code;
    this.errno = opts.errno;
    this.syscall = opts.syscall;
  }
}
