/**
 * UDP_CHECK: one attempt sends one datagram to the server from a connected UDP socket and
 * waits connect_timeout (keepalived check_udp.c, layer4.c):
 * - the payload is `payload`, else 32 bytes that say nothing;
 * - an ICMP error for it (port, host or net unreachable: ECONNREFUSED, EHOSTUNREACH, …
 *   on the connected socket) fails the attempt;
 * - without `require_reply`, silence until the timeout passes and so does any reply;
 * - with `require_reply`, a reply must come; with a reply pattern it must also be
 *   min_reply_length..max_reply_length bytes long and match the pattern over the shorter
 *   of the two lengths, ignoring the bits an X digit masks.
 */
import type { Endpoint } from './endpoint.ts';
import { fail, pass, type AttemptResult } from './result.ts';
import { udpExchange } from './udp-exchange.ts';

export interface UdpTask extends Endpoint {
  readonly kind: 'udp';
  /** sent as the datagram; default: 32 bytes of filler, as keepalived */
  readonly payload?: Uint8Array;
  readonly requireReply: boolean;
  /** require_reply HEX_STR */
  readonly reply?: { readonly data: Uint8Array; readonly mask?: Uint8Array };
  /** bytes; default 0 */
  readonly minReplyLength: number;
  /** bytes; default 255 */
  readonly maxReplyLength: number;
}

/** keepalived layer4.c UDP_BUFSIZE */
const FILLER = new Uint8Array(32).fill(0x55);

/** Why a reply does not match the task's pattern, or undefined when it does. */
export function replyMismatch(task: UdpTask, reply: Uint8Array): string | undefined {
  if (task.reply === undefined) return undefined;
  if (reply.length < task.minReplyLength || reply.length > task.maxReplyLength) {
    return `reply of ${reply.length} bytes, want ${task.minReplyLength}-${task.maxReplyLength}`;
  }
  const { data, mask } = task.reply;
  const n = Math.min(data.length, reply.length);
  for (let i = 0; i < n; i++) {
    const care = mask === undefined ? 0xff : ~mask[i]! & 0xff;
    if (((reply[i]! ^ data[i]!) & care) !== 0) return `reply byte ${i} is 0x${reply[i]!.toString(16).padStart(2, '0')}`;
  }
  return undefined;
}

export function udpAttempt(task: UdpTask): Promise<AttemptResult> {
  const started = performance.now();
  return udpExchange(task, {
    payload: task.payload ?? FILLER,
    onReply: (msg) => {
      const why = replyMismatch(task, msg);
      return why === undefined ? pass(started) : fail(started, 'reply mismatch', why);
    },
    onTimeout: () => (task.requireReply ? fail(started, 'timeout', `no reply within ${task.connectTimeoutMs} ms`) : pass(started)),
  });
}
