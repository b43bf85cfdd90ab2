/**
 * `vigil status` and `vigil reload`: one request over the control socket, the answer
 * printed for people (or as JSON with --json). Returns the process exit code:
 *   0  done (status printed; reload applied)
 *   1  the daemon answered with an error, or refused the new configuration
 *   3  no daemon to talk to (socket missing, refused, or no answer within the deadline)
 */
import { createConnection } from 'node:net';
import type { Writable } from 'node:stream';
import { DEFAULT_CONTROL_SOCKET, type ControlCommand, type ControlResponse } from './control-socket.ts';
import type { VigilStatus } from './dumps.ts';
import type { AnnounceStatus } from './announce-host.ts';

export { DEFAULT_CONTROL_SOCKET };

export const ControlExit = { OK: 0, FAILED: 1, UNREACHABLE: 3 } as const;

export interface ControlClientOptions {
  readonly json?: boolean;
  /** where the answer goes; default process.stdout */
  readonly out?: Writable;
  /** where problems go; default process.stderr */
  readonly err?: Writable;
  /** ms to wait for the answer; a reload of a large config may take a while. Default 30 s */
  readonly timeoutMs?: number;
}

/** Sends one command and resolves with the daemon's answer (no printing). */
export function controlRequest(cmd: ControlCommand, socketPath: string = DEFAULT_CONTROL_SOCKET, timeoutMs = 30_000): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(Object.assign(new Error(`no answer from ${socketPath} within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify({ cmd })}\n`));
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.destroy();
      try {
        resolve(JSON.parse(buf.slice(0, nl)) as ControlResponse);
      } catch {
        reject(Object.assign(new Error(`malformed answer from ${socketPath}`), { code: 'EPROTO' }));
      }
    });
    sock.on('error', (e) => (clearTimeout(timer), reject(e)));
    sock.on('close', () => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`${socketPath} closed the connection without answering`), { code: 'ECONNRESET' }));
    });
  });
}

export async function runControlCommand(cmd: ControlCommand, socketPath: string = DEFAULT_CONTROL_SOCKET, opts: ControlClientOptions = {}): Promise<number> {
  const out = opts.out ?? process.stdout;
  const err = opts.err ?? process.stderr;
  let res: ControlResponse;
  try {
    res = await controlRequest(cmd, socketPath, opts.timeoutMs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' || code === 'ECONNREFUSED' ? ' (is vigil running?)' : code === 'EACCES' ? ' (the control socket is for root)' : '';
    err.write(`vigil: cannot reach the daemon at ${socketPath}: ${(e as Error).message}${hint}\n`);
    return ControlExit.UNREACHABLE;
  }
  if (!res.ok) {
    if (opts.json) out.write(`${JSON.stringify(res, null, 2)}\n`);
    else err.write(`vigil: ${cmd} failed: ${res.error.message} [${res.error.code}]\n`);
    return ControlExit.FAILED;
  }
  if (opts.json) {
    out.write(`${JSON.stringify(res.result, null, 2)}\n`);
  } else if (cmd === 'status') {
    out.write(formatStatus(res.result as VigilStatus));
  } else if (cmd === 'drain' || cmd === 'undrain') {
    out.write(formatAnnounce(res.result as AnnounceStatus));
  } else {
    out.write(formatReload(res.result));
  }
  if (cmd === 'reload' && !reloadOk(res.result)) return ControlExit.FAILED;
  return ControlExit.OK;
}

function reloadOk(result: unknown): boolean {
  return typeof result === 'object' && result !== null && 'ok' in result && result.ok === true;
}

/** The reload handler's `{ok, diagnostics}` for people. */
export function formatReload(result: unknown): string {
  const ok = reloadOk(result);
  const diags =
    typeof result === 'object' && result !== null && 'diagnostics' in result && Array.isArray(result.diagnostics)
      ? result.diagnostics.map(String)
      : [];
  const head = ok ? 'configuration reloaded' : 'configuration refused; the daemon keeps running the previous one';
  return `${[head, ...diags.map((d) => `  ${d}`)].join('\n')}\n`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i] ?? 0))).join('  ').trimEnd());
}

/** announce_route for people: drained or not, then one line per route. Pure. */
export function formatAnnounce(a: AnnounceStatus): string {
  const out = [`announce_route: ${a.drained ? 'DRAINED (vigil undrain to announce again)' : 'not drained'}`];
  for (const r of a.routes) {
    const state = r.announced ? 'ANNOUNCED' : `WITHDRAWN (${r.reason ?? 'pending'})`;
    out.push(`  ${pad(`${r.prefix} table ${r.table} proto ${r.protocol}`, 40)} ${state}${r.lastError !== undefined ? `  last error ${r.lastError}` : ''}`);
  }
  return `${out.join('\n')}\n`;
}

/** `vigil status` for people: instances, then virtual servers, then counters. Pure. */
export function formatStatus(s: VigilStatus): string {
  const out: string[] = [];
  out.push(`vigil pid ${s.pid}, router_id ${s.routerId}, up since ${s.startedAt}`);
  out.push(`config ${s.configFile}; reloads: ${s.reloads.ok} applied, ${s.reloads.refused} refused, ${s.reloads.failed} failed`);
  out.push('');
  if (s.instances.length === 0) out.push('no VRRP instances');
  else {
    out.push(
      ...table([
        ['INSTANCE', 'VRID', 'IF', 'STATE', 'PRIO', 'ADV TX/RX', 'VIPS'],
        ...s.instances.map((i) => [
          i.name + (i.syncGroup !== undefined ? ` (${i.syncGroup})` : ''),
          String(i.vrid),
          i.interface,
          i.state,
          i.priority === i.configuredPriority ? String(i.priority) : `${i.priority}/${i.configuredPriority}`,
          `${i.advertsSent}/${i.advertsReceived}`,
          i.vips.join(', '),
        ]),
      ]),
    );
  }
  if (s.virtualServers.length > 0) {
    out.push('');
    for (const v of s.virtualServers) {
      const up = v.realServers.filter((r) => r.up).length;
      out.push(`${v.name} ${v.lbAlgo} ${v.lbKind} quorum ${v.quorumUp ? 'UP' : 'DOWN'}, ${up}/${v.realServers.length} real servers up`);
      for (const r of v.realServers) {
        out.push(`  ${pad(r.name, 28)} ${r.up ? 'UP  ' : 'DOWN'} weight ${r.weight}${r.checkers.length > 0 ? `  ${r.checkers.join(',')}` : ''}`);
      }
    }
  }
  if (s.announce !== undefined) {
    out.push('');
    out.push(formatAnnounce(s.announce).trimEnd());
  }
  const counters = Object.entries(s.counters);
  if (counters.length > 0) {
    out.push('');
    out.push(counters.map(([k, v]) => `${k}=${v}`).join(' '));
  }
  return `${out.join('\n')}\n`;
}
