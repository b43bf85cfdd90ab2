/**
 * `vigil genhash`: keepalived's genhash — GET one url and print the MD5 of its body, the
 * value to put in a url's `digest`. Flags as keepalived 2.2 (check_genhash.c):
 *   -s/--server ADDR  -p/--port PORT  -u/--url PATH  (all three required)
 *   -S/--use-ssl  -I/--use-sni  -V/--use-virtualhost HOST  -v/--verbose  -h/--help
 *   -P/--protocol 1.0|1.0c|1.1 (accepted; vigil always speaks HTTP/1.1 and closes)
 *   -t/--timeout SECONDS (default 5; keepalived waits forever)
 *   -m/--fwmark MARK is refused: Node cannot set SO_MARK.
 * Output as genhash: the digest alone on a line; with -v, the header, the body as a hex
 * dump, the hash and the response time in keepalived's layout. On failure it prints
 * genhash's message ("Connection failed", "Timeout connecting", …) on stdout as genhash
 * does, but exits 1 where genhash exits 0, so that scripts can tell.
 */
import net from 'node:net';
import { STATUS_CODES } from 'node:http';
import { parseArgs } from 'node:util';
import { httpFetch, httpReason, type HttpFetchResult } from './http.ts';
import { errorMessage } from './result.ts';

export interface GenhashIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

const DELIM_BEGIN = '-----------------------[';
const DELIM_END = ']-----------------------\n';
const banner = (s: string): string => `${DELIM_BEGIN}${s}${DELIM_END}`;

function usage(prog: string): string {
  return [
    `Usage: ${prog} COMMAND [OPTIONS]`,
    'Commands:',
    '   -s server-address -p port -u url',
    '   -S -s server-address -p port -u url',
    '   -h',
    '',
    'Options:',
    'Either long or short options are allowed.',
    '   --use-ssl         -S       Use SSL connection to remote server.',
    '   --use-sni         -I       Use SNI during SSL handshake (uses virtualhost setting; see -V).',
    '   --server          -s       Use the specified remote server address.',
    '   --port            -p       Use the specified remote server port.',
    '   --url             -u       Use the specified remote server url.',
    '   --use-virtualhost -V       Use the specified virtualhost in GET query.',
    '   --verbose         -v       Use verbose mode output.',
    '   --help            -h       Display this short inlined help screen.',
    "   --protocol        -P       Use the specified HTTP protocol - '1.0', 1.0c', '1.1'.",
    '   --timeout         -t       Timeout in seconds',
    '',
  ].join('\n');
}

/** keepalived's dump_buffer layout: decimal offset, 8+8 hex bytes, printable ASCII. */
export function hexDump(buf: Uint8Array): string {
  let out = '';
  for (let off = 0; off < buf.length; off += 16) {
    const row = buf.subarray(off, off + 16);
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      const b = row[i];
      if (i === 8) hex += '- ';
      hex += b === undefined ? '   ' : `${b.toString(16).padStart(2, '0')} `;
      ascii += b === undefined ? ' ' : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    out += `${String(off).padStart(4, '0')}  ${hex}  ${ascii}\n`;
  }
  return out;
}

/** genhash's message for a failed fetch (check_http.c timeout_epilog texts). */
function failureText(reason: string): string {
  switch (reason) {
    case 'connect-refused':
    case 'unreachable':
      return 'Connection failed';
    case 'connect-timeout':
      return 'Timeout connecting';
    case 'tls':
      return 'SSL handshake/communication error connecting to';
    case 'response-timeout':
      return 'Timeout WEB read';
    case 'read-timeout':
    case 'deadline':
      return 'Timeout HTTP read';
    default:
      return 'Read error with';
  }
}

function headerText(res: HttpFetchResult): string {
  let s = `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}\r\n`;
  for (const [k, v] of Object.entries(res.headers ?? {})) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) s += `${k}: ${one}\r\n`;
  }
  return `${s}\r\n`;
}

/** Runs genhash with `argv` (the arguments after `genhash`); resolves to the exit code. */
export async function runGenhash(argv: string[], io: GenhashIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const prog = 'vigil genhash';
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        verbose: { type: 'boolean', short: 'v' },
        'use-ssl': { type: 'boolean', short: 'S' },
        'use-sni': { type: 'boolean', short: 'I' },
        server: { type: 'string', short: 's' },
        'use-virtualhost': { type: 'string', short: 'V' },
        port: { type: 'string', short: 'p' },
        url: { type: 'string', short: 'u' },
        fwmark: { type: 'string', short: 'm' },
        protocol: { type: 'string', short: 'P' },
        timeout: { type: 'string', short: 't' },
      },
    });
    values = parsed.values;
  } catch (err) {
    io.stderr.write(`${errorMessage(err)}\n${usage(prog)}`);
    return 1;
  }
  if (values['help'] === true) {
    io.stderr.write(usage(prog));
    return 1; // keepalived: -h is a "bad option" and prints usage with exit 1
  }
  const server = values['server'];
  const portText = values['port'];
  const path = values['url'];
  if (typeof server !== 'string' || typeof portText !== 'string' || typeof path !== 'string') {
    io.stderr.write(usage(prog));
    return 1;
  }
  if (net.isIP(server) === 0) {
    io.stderr.write(`server should be an IP, not ${server}\n`);
    return 1;
  }
  const port = /^\d+$/.test(portText) ? Number(portText) : NaN;
  if (!(port > 0 && port <= 65535)) {
    io.stderr.write(`invalid port number '${portText}'\n`);
    return 1;
  }
  if (values['fwmark'] !== undefined) {
    io.stderr.write('vigil genhash: --fwmark is not supported (no SO_MARK from Node.js)\n');
    return 1;
  }
  const proto = values['protocol'];
  if (typeof proto === 'string' && !['1.0', '1.0c', '1.0C', '1.1'].includes(proto)) {
    io.stderr.write(`invalid HTTP protocol version '${proto}'\n`);
    return 1;
  }
  let timeoutMs = 5000;
  const t = values['timeout'];
  if (typeof t === 'string') {
    if (!/^\s*\d+$/.test(t)) {
      io.stderr.write(`invalid timeout '${t}'\n`);
      return 1;
    }
    timeoutMs = Number(t.trim()) * 1000;
  }
  const ssl = values['use-ssl'] === true;
  const vhost = values['use-virtualhost'];
  const verbose = values['verbose'] === true;
  const started = performance.now();
  let res: HttpFetchResult;
  try {
    res = await httpFetch({
      ssl,
      address: server,
      port,
      path,
      ...(typeof vhost === 'string' ? { host: vhost } : {}),
      ...(ssl && values['use-sni'] === true && typeof vhost === 'string' ? { servername: vhost } : {}),
      tlsVerify: false,
      connectTimeoutMs: timeoutMs,
      readBody: true,
      maxBodyBytes: 64 << 20,
      keepBody: verbose,
      keepHeaders: verbose,
    });
  } catch (err) {
    io.stdout.write(`${failureText(httpReason(err))}\n`);
    if (verbose) io.stderr.write(`${errorMessage(err)}\n`);
    return 1;
  }
  const digest = res.digest ?? '';
  if (verbose) {
    const header = headerText(res);
    io.stdout.write(banner('    HTTP Header Buffer    '));
    io.stdout.write(hexDump(Buffer.from(header, 'latin1')));
    io.stdout.write(banner(' HTTP Header Ascii Buffer '));
    io.stdout.write(`${header}\n`);
    io.stdout.write(banner('        HTML Buffer        '));
    io.stdout.write(`${hexDump(res.body ?? Buffer.alloc(0))}\n`);
    io.stdout.write(banner('    HTML hash resulting    '));
    io.stdout.write(hexDump(Buffer.from(digest, 'hex')));
    io.stdout.write(banner(' HTML hash final resulting '));
  }
  io.stdout.write(`${digest}\n`);
  if (verbose) {
    const us = Math.round((performance.now() - started) * 1000);
    io.stdout.write(`\nGlobal response time for [${path}] = ${us} usecs\n`);
  }
  return 0;
}
