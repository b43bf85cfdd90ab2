/**
 * An EngineIo on a fake monotonic clock for unit tests of src/vrrp/engine.ts: timers run in
 * due order when `run(untilMs)` advances the clock, sends and posts are recorded (the VRID
 * is byte 1 of a VRRP payload, the priority byte 2; `payload` is the buffer handed to
 * send). spinMs is 0: nothing advances the clock inside a callback.
 */
import type { FromVrrp } from '../../../src/ipc/messages.ts';
import type { EngineIo } from '../../../src/vrrp/engine.ts';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

export interface FakeSend {
  t: number;
  vrid: number;
  priority: number;
  dst: string;
  payload: Buffer;
}

export function fakeIo(): { io: EngineIo; sends: FakeSend[]; run(untilMs: number): void; posts: FromVrrp[] } {
  let now = 1000;
  let seq = 0;
  const timers = new Set<Pending>();
  const sends: FakeSend[] = [];
  const posts: FromVrrp[] = [];
  const io: EngineIo = {
    openSocket: () => ({
      // VRRP payload: byte 1 the VRID, byte 2 the priority (v2 and v3)
      send: (payload, dst) => {
        sends.push({ t: now, vrid: payload[1]!, priority: payload[2]!, dst, payload });
        return undefined;
      },
      close: () => undefined,
    }),
    openGarp: () => ({ sendArp: () => undefined, sendNa: () => undefined, close: () => undefined }),
    post: (m) => posts.push(m),
    now: () => now,
    wallNow: () => now,
    setTimer: (fn, ms) => {
      const p = { at: now + ms, seq: seq++, fn };
      timers.add(p);
      return p;
    },
    clearTimer: (h) => void timers.delete(h as Pending),
    spinMs: 0,
    waitUntil: () => undefined,
  };
  const run = (untilMs: number): void => {
    for (;;) {
      let next: Pending | undefined;
      for (const p of timers) if (!next || p.at < next.at || (p.at === next.at && p.seq < next.seq)) next = p;
      if (!next || next.at > untilMs) break;
      timers.delete(next);
      now = Math.max(now, next.at);
      next.fn();
    }
    now = untilMs;
  };
  return { io, sends, run, posts };
}

