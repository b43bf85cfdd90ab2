/**
 * The control socket: a unix stream socket (default /run/vigil.sock), mode 0600 so only
 * root (vigil's user) can connect, speaking one JSON object per line:
 *
 *   → {"cmd":"status"}                 ← {"ok":true,"result":<VigilStatus>}
 *   → {"cmd":"reload"}                 ← {"ok":true,"result":{"ok":false,"diagnostics":[…]}}
 *   → anything else                    ← {"ok":false,"error":{"code":"…","message":"…"}}
 *
 * A client may send several requests on one connection; answers come back in order.
 * Hostile or broken clients cost little: a line longer than MAX_LINE_BYTES closes the
 * connection, an idle one is closed after IDLE_TIMEOUT_MS, a handler that throws becomes
 * an error answer.
 *
 * A socket file left by a vigil that died is removed at start; a socket another process is
 * still serving is not stolen (CONTROL_IN_USE), and a path that is not a socket is never
 * removed (CONTROL_NOT_SOCKET).
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export const DEFAULT_CONTROL_SOCKET = '/run/vigil.sock';
/** bytes: a request is a short command; anything longer is not one of ours */
export const MAX_LINE_BYTES = 64 * 1024;
/** ms a connection may stay without a complete request */
export const IDLE_TIMEOUT_MS = 30_000;

/**
 * `restart-vrrp-worker` is a failover drill: the VRRP worker is terminated as if it had
 * crashed, so an operator (or a test) can watch the node give up its VIPs and converge again.
 */
export type ControlCommand = 'status' | 'reload' | 'restart-vrrp-worker' | 'drain' | 'undrain';
const COMMANDS: readonly string[] = ['status', 'reload', 'restart-vrrp-worker', 'drain', 'undrain'];

export interface ControlHandlers {
  status(): unknown;
  reload(): unknown;
  restartVrrpWorker?(): unknown;
  /** announce_route: withdraw (drain) or restore (undrain) this director's announcements */
  drain?(): unknown;
  undrain?(): unknown;
}

export type ControlErrorCode = 'CONTROL_IN_USE' | 'CONTROL_NOT_SOCKET' | 'CONTROL_BAD_REQUEST' | 'CONTROL_UNKNOWN_COMMAND' | 'CONTROL_HANDLER_FAILED';

export class ControlError extends Error {
  readonly code: ControlErrorCode;
  constructor(code: ControlErrorCode, message: string) {
    super(message);
    this.name = 'ControlError';
    this.code = code;
  }
}

export type ControlResponse =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

export interface ControlServerOptions {
  readonly path: string;
  readonly handlers: ControlHandlers;
  /** called for each request and each failure, to log them (never throws into the server) */
  readonly onRequest?: (cmd: string) => void;
  readonly onError?: (err: Error) => void;
}

/** Parses one request line. Pure. */
export function parseRequest(line: string): { cmd: ControlCommand } | ControlError {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return new ControlError('CONTROL_BAD_REQUEST', 'request is not JSON');
  }
  if (typeof v !== 'object' || v === null || !('cmd' in v) || typeof v.cmd !== 'string') {
    return new ControlError('CONTROL_BAD_REQUEST', 'request must be an object with a string "cmd"');
  }
  if (!COMMANDS.includes(v.cmd)) {
    return new ControlError('CONTROL_UNKNOWN_COMMAND', `unknown command ${JSON.stringify(v.cmd).slice(0, 64)}; want ${COMMANDS.slice(0, -1).join(', ')} or ${COMMANDS.at(-1)!}`);
  }
  return { cmd: v.cmd as ControlCommand };
}

export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  await clearStaleSocket(opts.path);
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    serveConnection(sock, opts);
  });
  server.on('error', (err) => opts.onError?.(err));
  // The socket is created by bind(2) with the process umask; 0177 makes it 0600 from the
  // first instant (no window where another user could connect), chmod makes sure of it.
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error): void => reject(e);
      server.once('error', onErr);
      server.listen(opts.path, () => {
        server.off('error', onErr);
        resolve();
      });
    });
  } finally {
    process.umask(oldMask);
  }
  chmodSync(opts.path, 0o600);
  return {
    path: opts.path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function serveConnection(sock: Socket, opts: ControlServerOptions): void {
  sock.setTimeout(IDLE_TIMEOUT_MS, () => sock.destroy());
  sock.on('error', () => {
    // a client that went away mid-answer: nothing to do
  });
  let buf = '';
  let chain = Promise.resolve();
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === '') continue;
      // answers stay in request order even when a reload takes a while
      chain = chain.then(() => answer(sock, line, opts));
    }
    if (Buffer.byteLength(buf) > MAX_LINE_BYTES) {
      opts.onError?.(new ControlError('CONTROL_BAD_REQUEST', `request longer than ${MAX_LINE_BYTES} bytes; connection closed`));
      sock.destroy();
    }
  });
}

async function answer(sock: Socket, line: string, opts: ControlServerOptions): Promise<void> {
  const req = parseRequest(line);
  let res: ControlResponse;
  if (req instanceof ControlError) {
    opts.onError?.(req);
    res = { ok: false, error: { code: req.code, message: req.message } };
  } else {
    opts.onRequest?.(req.cmd);
    try {
      const result: unknown = await dispatch(opts.handlers, req.cmd);
      res = { ok: true, result: result ?? null };
    } catch (err) {
      const e = new ControlError('CONTROL_HANDLER_FAILED', `${req.cmd} failed: ${err instanceof Error ? err.message : String(err)}`);
      opts.onError?.(e);
      res = { ok: false, error: { code: e.code, message: e.message } };
    }
  }
  if (!sock.destroyed) sock.write(`${JSON.stringify(res)}\n`);
}

/**
 * Removes a socket file left behind by a process that is gone; refuses to touch a live
 * socket or anything that is not a socket.
 */
async function clearStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) {
    throw new ControlError('CONTROL_NOT_SOCKET', `${path} exists and is not a socket; not removing it`);
  }
  const live = await new Promise<boolean>((resolve) => {
    const c = createConnection(path);
    const timer = setTimeout(() => (c.destroy(), resolve(true)), 1000);
    c.once('connect', () => (clearTimeout(timer), c.destroy(), resolve(true)));
    c.once('error', () => (clearTimeout(timer), resolve(false)));
  });
  if (live) throw new ControlError('CONTROL_IN_USE', `${path} is served by another process (is vigil already running?)`);
  unlinkSync(path);
}

function dispatch(h: ControlHandlers, cmd: ControlCommand): unknown {
  switch (cmd) {
    case 'status':
      return h.status();
    case 'reload':
      return h.reload();
    case 'restart-vrrp-worker':
      if (!h.restartVrrpWorker) throw new ControlError('CONTROL_UNKNOWN_COMMAND', 'this daemon runs no VRRP worker');
      return h.restartVrrpWorker();
    case 'drain':
    case 'undrain': {
      const f = cmd === 'drain' ? h.drain : h.undrain;
      if (!f) throw new ControlError('CONTROL_UNKNOWN_COMMAND', 'this daemon announces no routes');
      return f.call(h);
    }
  }
}
