/**
 * Keeps the kernel's announced routes equal to the wanted ones (announce.ts), through a
 * narrow RouteWriter, with the clock injected (tests step a fake one).
 *
 * - `update(wants)` diffs the wanted set against what is held and sends the difference in
 *   one batch, withdrawals first; a call while a batch is in flight runs once more after it
 *   with the newest wants (a withdrawal is never queued behind more than one batch).
 * - Adding what is there already and deleting what is gone both succeed (the writer makes
 *   them idempotent), so a replayed diff converges.
 * - A change the kernel refuses is reported (`failed`, with its error) and retried with
 *   exponential back-off (RETRY_INITIAL_MS doubling to RETRY_MAX_MS) until it succeeds or
 *   is no longer wanted. Nothing else waits for it: IPVS keeps serving.
 * - Routes found in the table at start (`adopt`) count as held: a wanted one stays without
 *   a flap, an unwanted one (a crash's leftover) is removed by the first update.
 */
import { announcedRouteKey, type AnnouncedRoute, type Announcement, type WithdrawReason } from './announce.ts';

/** ms */
export const RETRY_INITIAL_MS = 100;
/** ms */
export const RETRY_MAX_MS = 10_000;

export interface RouteChange {
  readonly op: 'add' | 'del';
  readonly route: AnnouncedRoute;
}

/** What the writer reports for a refused change: a stable code and, from the kernel, an errno name. */
export interface RouteError {
  readonly code: string;
  readonly errno?: string | undefined;
  readonly message: string;
}

export interface RouteWriter {
  /** One result per change, in order: undefined when done. Rejects only when nothing could be sent. */
  apply(changes: readonly RouteChange[]): Promise<Array<RouteError | undefined>>;
}

export type AnnounceEvent =
  | { readonly type: 'up'; readonly key: string; readonly route: AnnouncedRoute }
  | { readonly type: 'down'; readonly key: string; readonly route: AnnouncedRoute; readonly reason: WithdrawReason | 'removed' | 'stale' }
  | { readonly type: 'failed'; readonly key: string; readonly op: 'add' | 'del'; readonly route: AnnouncedRoute; readonly error: RouteError; readonly retryInMs: number };

export type SetTimer = (fn: () => void, ms: number) => () => void;

export interface AnnouncerOptions {
  readonly writer: RouteWriter;
  readonly setTimer: SetTimer;
  readonly onEvent: (e: AnnounceEvent) => void;
}

export class Announcer {
  /** key → route believed to be in the kernel */
  private readonly held = new Map<string, AnnouncedRoute>();
  /** keys adopted at start and not yet withdrawn: removing one that no config wants is a `stale` removal */
  private readonly adopted = new Set<string>();
  private wants = new Map<string, Announcement>();
  /** key → consecutive failures, for the back-off */
  private readonly failures = new Map<string, number>();
  private retryCancel: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly opts: AnnouncerOptions) {}

  /** Routes found in the kernel at start, counted as held. */
  adopt(routes: readonly AnnouncedRoute[]): void {
    for (const r of routes) {
      const key = announcedRouteKey(r);
      this.held.set(key, r);
      this.adopted.add(key);
    }
  }

  /** key → route, as held now */
  get heldRoutes(): ReadonlyMap<string, AnnouncedRoute> {
    return this.held;
  }

  isHeld(key: string): boolean {
    return this.held.has(key);
  }

  /** Sets the wanted announcements and makes the kernel follow; resolves when it has (or failed). */
  update(wants: ReadonlyMap<string, Announcement>): Promise<void> {
    this.wants = new Map(wants);
    return this.sync();
  }

  /** Resolves when no batch is in flight. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Stops retrying (the held set is left as it is). */
  close(): void {
    this.retryCancel?.();
    this.retryCancel = undefined;
  }

  private sync(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = async (): Promise<void> => {
      do {
        this.again = false;
        await this.pass();
      } while (this.again);
    };
    this.running = run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    const changes: RouteChange[] = [];
    const reasons: Array<WithdrawReason | 'removed' | 'stale'> = [];
    for (const [key, route] of this.held) {
      const w = this.wants.get(key);
      if (w !== undefined && w.up) continue;
      changes.push({ op: 'del', route });
      reasons.push(w === undefined ? (this.adopted.has(key) ? 'stale' : 'removed') : (w.reason ?? 'quorum'));
    }
    for (const [key, w] of this.wants) {
      if (!w.up || this.held.has(key)) continue;
      changes.push({ op: 'add', route: w.route });
      reasons.push('quorum');
    }
    // what is no longer to be changed no longer fails
    for (const k of [...this.failures.keys()]) if (!changes.some((c) => announcedRouteKey(c.route) === k)) this.failures.delete(k);
    if (changes.length === 0) return;
    let errors: Array<RouteError | undefined>;
    try {
      errors = await this.opts.writer.apply(changes);
    } catch (e) {
      const err: RouteError = { code: (e as { code?: string }).code ?? 'unknown', message: (e as Error).message };
      errors = changes.map(() => err);
    }
    let retry = Infinity;
    changes.forEach((c, i) => {
      const key = announcedRouteKey(c.route);
      const error = errors[i];
      if (error === undefined) {
        this.failures.delete(key);
        if (c.op === 'add') {
          this.held.set(key, c.route);
          this.opts.onEvent({ type: 'up', key, route: c.route });
        } else {
          this.held.delete(key);
          const r = reasons[i]!;
          this.adopted.delete(key);
          this.opts.onEvent({ type: 'down', key, route: c.route, reason: r });
        }
        return;
      }
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const retryInMs = Math.min(RETRY_MAX_MS, RETRY_INITIAL_MS * 2 ** (n - 1));
      retry = Math.min(retry, retryInMs);
      this.opts.onEvent({ type: 'failed', key, op: c.op, route: c.route, error, retryInMs });
    });
    if (retry !== Infinity && this.retryCancel === undefined) {
      this.retryCancel = this.opts.setTimer(() => {
        this.retryCancel = undefined;
        void this.sync();
      }, retry);
    }
  }

}
