/**
 * The kernel's process connector on the wire (NETLINK_CONNECTOR, CN_IDX_PROC; linux/
 * connector.h, linux/cn_proc.h), pure: the subscribe message out, process events in.
 *
 * A datagram is struct nlmsghdr (16) + struct cn_msg (20: id.idx, id.val, seq, ack u32;
 * len, flags u16) + struct proc_event (what u32, cpu u32, timestamp_ns u64, event_data).
 * Host byte order (the socket layer supports little-endian hosts only, see io/libc.ts).
 */

export const NETLINK_CONNECTOR = 11;
export const CN_IDX_PROC = 1;
export const CN_VAL_PROC = 1;
const NLMSG_NOOP = 1;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const PROC_CN_MCAST_LISTEN = 1;
const PROC_CN_MCAST_IGNORE = 2;

/** linux/cn_proc.h enum what */
const PROC_EVENT_NONE = 0;
const PROC_EVENT_FORK = 0x1;
const PROC_EVENT_EXEC = 0x2;
const PROC_EVENT_COMM = 0x200;
const PROC_EVENT_EXIT = 0x80000000;

const NLMSG_HDR = 16;
const CN_MSG_HDR = 20;
/** offset of struct proc_event in a datagram */
const EV = NLMSG_HDR + CN_MSG_HDR;
/** offset of event_data in struct proc_event */
const DATA = 16;

export type ProcEvent =
  /** a new process (child_pid == child_tgid) or thread; tgids are process ids */
  | { readonly what: 'fork'; readonly parentTgid: number; readonly childPid: number; readonly childTgid: number }
  | { readonly what: 'exec'; readonly pid: number; readonly tgid: number }
  /** prctl(PR_SET_NAME) or a write to /proc/PID/comm */
  | { readonly what: 'comm'; readonly pid: number; readonly tgid: number; readonly comm: string }
  | { readonly what: 'exit'; readonly pid: number; readonly tgid: number }
  /** the answer to a subscribe (PROC_EVENT_NONE), or an event vigil does not use */
  | { readonly what: 'other'; readonly code: number };

export interface ProcEventRecord {
  readonly event: ProcEvent;
  readonly cpu: number;
  /** cn_msg.seq: per CPU, +1 per event; a gap means events were lost */
  readonly seq: number;
}

/** The message that subscribes (`listen`) to or unsubscribes from process events. */
export function procSubscribeMessage(listen: boolean, portId = 0): Buffer {
  const b = Buffer.alloc(EV + 4);
  b.writeUInt32LE(b.length, 0); // nlmsg_len
  b.writeUInt16LE(NLMSG_DONE, 4); // nlmsg_type
  b.writeUInt32LE(portId, 12); // nlmsg_pid
  b.writeUInt32LE(CN_IDX_PROC, NLMSG_HDR + 0);
  b.writeUInt32LE(CN_VAL_PROC, NLMSG_HDR + 4);
  b.writeUInt16LE(4, NLMSG_HDR + 16); // cn_msg.len: the op that follows
  b.writeUInt32LE(listen ? PROC_CN_MCAST_LISTEN : PROC_CN_MCAST_IGNORE, EV);
  return b;
}

function comm(b: Uint8Array, off: number): string {
  let end = off;
  while (end < off + 16 && end < b.length && b[end] !== 0) end++;
  return Buffer.from(b.buffer, b.byteOffset + off, end - off).toString('latin1');
}

/** Every process event in one datagram (the kernel sends one per datagram; several nlmsgs are walked anyway). */
export function decodeProcEvents(data: Uint8Array): ProcEventRecord[] {
  const out: ProcEventRecord[] = [];
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let off = 0;
  while (off + NLMSG_HDR <= data.length) {
    const len = v.getUint32(off, true);
    const type = v.getUint16(off + 4, true);
    if (len < NLMSG_HDR || off + len > data.length) break;
    const base = off;
    off += (len + 3) & ~3;
    if (type === NLMSG_ERROR || type === NLMSG_NOOP) continue;
    if (len < EV + DATA) continue;
    const idx = v.getUint32(base + NLMSG_HDR, true);
    const val = v.getUint32(base + NLMSG_HDR + 4, true);
    const seq = v.getUint32(base + NLMSG_HDR + 8, true);
    const ack = v.getUint32(base + NLMSG_HDR + 12, true);
    if (idx !== CN_IDX_PROC || val !== CN_VAL_PROC || ack !== 0) continue;
    const e = base + EV;
    const what = v.getUint32(e, true);
    const cpu = v.getUint32(e + 4, true);
    const d = e + DATA;
    const i32 = (k: number): number => (d + 4 * k + 4 <= base + len ? v.getInt32(d + 4 * k, true) : 0);
    let event: ProcEvent;
    switch (what) {
      case PROC_EVENT_FORK:
        event = { what: 'fork', parentTgid: i32(1), childPid: i32(2), childTgid: i32(3) };
        break;
      case PROC_EVENT_EXEC:
        event = { what: 'exec', pid: i32(0), tgid: i32(1) };
        break;
      case PROC_EVENT_COMM:
        event = { what: 'comm', pid: i32(0), tgid: i32(1), comm: comm(data, d + 8) };
        break;
      case PROC_EVENT_EXIT:
        event = { what: 'exit', pid: i32(0), tgid: i32(1) };
        break;
      default:
        event = { what: 'other', code: what === PROC_EVENT_NONE ? 0 : what };
    }
    out.push({ event, cpu, seq });
  }
  return out;
}
