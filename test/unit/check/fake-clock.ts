/**
 * A stepped clock for the scheduler and script tracker: `setTimer` records, `advance`
 * fires due timers in time order and lets promise callbacks settle after each.
 */
import type { SetTimer } from '../../../src/check/scheduler.ts';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  live: boolean;
}

export class FakeClock {
  t = 0;
  private seq = 0;
  private pending: Pending[] = [];

  readonly now = (): number => this.t;

  readonly setTimer: SetTimer = (fn, ms) => {
    const p: Pending = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, live: true };
    this.pending.push(p);
    return () => {
      p.live = false;
    };
  };

  /** timers still armed */
  armed(): number {
    return this.pending.filter((p) => p.live).length;
  }

  async advance(ms: number): Promise<void> {
    const until = this.t + ms;
    await settle();
    for (;;) {
      this.pending = this.pending.filter((p) => p.live);
      this.pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.pending[0];
      if (next === undefined || next.at > until) break;
      this.t = next.at;
      next.live = false;
      next.fn();
      await settle();
    }
    this.t = until;
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
