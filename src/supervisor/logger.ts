/**
 * vigil's logger: pino, one JSON object per line, written synchronously so that no line is
 * lost when the process exits (process.exit, an uncaught error, or a signal handler that
 * exits). Logs are low-volume (transitions, check results, reloads), so a synchronous
 * write(2) per line costs nothing that matters and buys a complete record.
 *
 * Every line carries `component` and, where it applies, `instance` and `vrid`; what
 * happened is named by a stable `event` field (`vrrp.transition`, `check.down`, …) that log
 * shippers can match on, and `msg` is free text for people.
 *
 * `--log-format pretty` uses a small formatter in this file instead of pino-pretty (not a
 * dependency): `2026-01-01T00:00:00.000Z INFO  vrrp vrrp.transition VI_1 entering MASTER from=BACKUP`.
 */
import { openSync, writeSync } from 'node:fs';
import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger, LevelWithSilent } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface LoggerOptions {
  readonly level: LogLevel | LevelWithSilent;
  readonly format: 'json' | 'pretty';
  /** a file descriptor (default 1, stdout) or a file path opened for appending */
  readonly destination?: number | string;
  /** extra fields on every line (default: pid and hostname, as pino) */
  readonly base?: Readonly<Record<string, unknown>>;
}

/** Bindings a component's child logger carries on every line. */
export interface ComponentBindings {
  readonly instance?: string;
  readonly vrid?: number;
  readonly [key: string]: unknown;
}

/**
 * The stable event names vigil logs. Add here, never rename: they are an interface to
 * whoever ships and alerts on the logs.
 */
export const LogEvent = {
  startup: 'daemon.start',
  ready: 'daemon.ready',
  shutdown: 'daemon.stop',
  reloadStart: 'reload.start',
  reloadDone: 'reload.done',
  reloadRefused: 'reload.refused',
  configDiagnostic: 'config.diagnostic',
  workerExit: 'worker.exit',
  workerRestart: 'worker.restart',
  vrrpTransition: 'vrrp.transition',
  vrrpDropped: 'vrrp.dropped',
  checkUp: 'check.up',
  checkDown: 'check.down',
  scriptResult: 'script.result',
  notifyRun: 'notify.run',
  notifyFailed: 'notify.failed',
  notifyFifoFailed: 'notify.fifo_failed',
  scriptInsecure: 'script.insecure',
  mailSent: 'mail.sent',
  mailFailed: 'mail.failed',
  mailDropped: 'mail.dropped',
  sdNotifyFailed: 'sd_notify.failed',
  controlRequest: 'control.request',
  controlError: 'control.error',
  metricsListen: 'metrics.listen',
  dumpWritten: 'dump.written',
  dumpFailed: 'dump.failed',
} as const;

export function createLogger(opts: LoggerOptions): Logger {
  const dest = opts.destination ?? 1;
  const stream: DestinationStream =
    opts.format === 'pretty'
      ? new PrettyStream(typeof dest === 'number' ? dest : openSync(dest, 'a'))
      : typeof dest === 'number'
        ? pino.destination({ fd: dest, sync: true })
        : pino.destination({ dest, sync: true, append: true, mkdir: true });
  return pino(
    {
      level: opts.level,
      // Labels rather than pino's numbers: `"level":"info"` reads the same in a shipper's
      // query and in a terminal.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(opts.base === undefined ? {} : { base: opts.base }),
    },
    stream,
  );
}

/** A component's logger: `child(root, 'vrrp', { instance: 'VI_1', vrid: 51 })`. */
export function child(parent: Logger, component: string, bindings: ComponentBindings = {}): Logger {
  return parent.child({ component, ...bindings });
}

const PRETTY_SKIP = new Set(['level', 'time', 'msg', 'component', 'event', 'pid', 'hostname', 'instance']);

/**
 * One JSON line from pino to one human line. Pure, so the format is unit-tested; keys other
 * than the well-known ones follow as k=v, strings quoted only when they contain spaces.
 */
export function formatPrettyLine(jsonLine: string): string {
  let obj: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(jsonLine);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return jsonLine.trimEnd();
    obj = parsed as Record<string, unknown>;
  } catch {
    return jsonLine.trimEnd();
  }
  const parts: string[] = [];
  parts.push(typeof obj['time'] === 'string' ? obj['time'] : String(obj['time'] ?? ''));
  parts.push(String(obj['level'] ?? '').toUpperCase().padEnd(5));
  if (obj['component'] !== undefined) parts.push(String(obj['component']));
  if (obj['event'] !== undefined) parts.push(String(obj['event']));
  if (obj['instance'] !== undefined) parts.push(String(obj['instance']));
  if (typeof obj['msg'] === 'string' && obj['msg'] !== '') parts.push(obj['msg'].replace(/\s*\n\s*/g, ' '));
  for (const [k, v] of Object.entries(obj)) {
    if (PRETTY_SKIP.has(k) || v === undefined) continue;
    parts.push(`${k}=${prettyValue(v)}`);
  }
  return parts.join(' ');
}

function prettyValue(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v);
}

/** A synchronous destination that turns pino's JSON lines into pretty lines. */
class PrettyStream implements DestinationStream {
  readonly #fd: number;
  constructor(fd: number) {
    this.#fd = fd;
  }
  write(msg: string): void {
    // pino hands over exactly one line per call, newline included.
    const line = `${formatPrettyLine(msg)}\n`;
    writeAll(this.#fd, Buffer.from(line));
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      // stdout may be a non-blocking pipe: wait for the reader rather than drop a line.
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      throw err;
    }
  }
}
