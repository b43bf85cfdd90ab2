/**
 * Messages between a thread that owns sockets (reader.ts) and its reader thread
 * (reader-thread.ts). Plain data only; one union per direction (STYLE.md habit 12).
 */

/** owner → reader, read synchronously with receiveMessageOnPort after an eventfd wake. */
export type ToReader =
  /** Watch `fd`; from now on the reader owns it and is the one that closes it. */
  | { readonly type: 'add'; readonly id: number; readonly fd: number; readonly slot: number }
  /** Stop watching and close the fd of `id`. */
  | { readonly type: 'remove'; readonly id: number }
  /** Close whatever is left and end the thread. */
  | { readonly type: 'stop' };

/** One datagram as recvmsg() returned it. */
export interface RawDatagram {
  readonly id: number;
  readonly data: Uint8Array;
  /** Source address from msg_name. */
  readonly src: string | undefined;
  /** IPV6_HOPLIMIT ancillary data (IPv6 sockets only). */
  readonly hopLimit: number | undefined;
  /** IPV6_PKTINFO destination address (IPv6 sockets only). */
  readonly dst: string | undefined;
  /** The datagram was longer than the receive buffer (MSG_TRUNC). */
  readonly truncated: boolean;
}

/** reader → owner */
export type FromReader =
  | { readonly type: 'datagrams'; readonly items: readonly RawDatagram[] }
  | { readonly type: 'recv-error'; readonly id: number; readonly errno: string; readonly syscall: string }
  | { readonly type: 'removed'; readonly id: number }
  /** posted once, when the thread is about to poll: from then on datagrams flow without a start-up delay */
  | { readonly type: 'ready' };

export interface ReaderData {
  /** eventfd the owner writes to wake the reader's poll(). */
  readonly efd: number;
  /**
   * Int32Array over a SharedArrayBuffer: [0] = datagrams posted and not yet handled by the
   * owner. The reader pauses reading above its limit (the kernel's socket buffer then
   * drops, and counts), so a flood cannot grow the owner's message queue without bound.
   */
  readonly pending: SharedArrayBuffer;
  /** fd-ledger.ts: the reader clears an fd's slot before it closes it. */
  readonly ledger: SharedArrayBuffer | undefined;
}

/** Datagrams in flight to the owner above which the reader stops reading for a while. */
export const MAX_PENDING = 4096;
