/**
 * The outcome of one check attempt. Attempt functions never throw: every failure is a
 * result with a `reason`, a short stable label fit for a metric (`connect-timeout`,
 * `status 503`, `digest mismatch`, `reset`, …), and an optional human `detail`.
 */
export interface AttemptResult {
  ok: boolean;
  /** why it failed (absent when ok) */
  reason?: string;
  /** longer human text for logs, e.g. the url path and the error message */
  detail?: string;
  /** ms the attempt took */
  durationMs: number;
  /** misc_dynamic: the real server's new weight (exit status − 2) */
  weight?: number;
}

export function msSince(startedAt: number): number {
  return Math.round((performance.now() - startedAt) * 1000) / 1000;
}

export function pass(startedAt: number, extra: { weight?: number } = {}): AttemptResult {
  const r: AttemptResult = { ok: true, durationMs: msSince(startedAt) };
  if (extra.weight !== undefined) r.weight = extra.weight;
  return r;
}

export function fail(startedAt: number, reason: string, detail?: string): AttemptResult {
  const r: AttemptResult = { ok: false, reason, durationMs: msSince(startedAt) };
  if (detail !== undefined) r.detail = detail;
  return r;
}

/** The `code` of a Node or undici error, if it has one. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const c = (err as { code: unknown }).code;
    if (typeof c === 'string') return c;
  }
  return undefined;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Maps a socket-level error to a reason label. Connection-level codes are folded into a
 * few labels so that metrics stay low-cardinality; anything else keeps its code.
 */
export function socketReason(err: unknown): string {
  const code = errorCode(err);
  switch (code) {
    case 'ECONNREFUSED':
      return 'connect-refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    case 'EADDRNOTAVAIL':
    case 'EADDRINUSE':
      return `bind ${code}`;
    case 'VIGIL_CONNECT_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect-timeout';
    case undefined:
      return 'error';
    default:
      if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT') || code.startsWith('DEPTH_ZERO')) {
        return 'tls';
      }
      return code.toLowerCase();
  }
}

/** An Error with a stable `code` (STYLE.md §7). */
export class CheckError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'CheckError';
  }
}

/**
 * A deadline that loses to I/O already waiting: when the timer fires, the verdict is deferred
 * to the check phase of the same loop turn (setImmediate), after the poll phase has
 * delivered any connect, data or error event that arrived meanwhile. Without this a thread
 * whose loop was blocked past the deadline (GC, a burst of work) would report a timeout
 * for a connection that was in fact refused or answered in time.
 * Returns the cancel function.
 */
export function afterIo(ms: number, fn: () => void): () => void {
  let imm: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    imm = setImmediate(fn);
  }, ms);
  return () => {
    clearTimeout(timer);
    if (imm !== undefined) clearImmediate(imm);
  };
}
