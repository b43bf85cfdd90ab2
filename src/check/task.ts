/**
 * The plain-data tasks that cross into the checker and script pools, and the one function
 * the pool runs for a check (`runAttempt`, the default export of workers/checker.ts).
 *
 * Only structured-clone-safe data lives in a task: the worker has no config, no state and
 * no timers of its own; everything about scheduling stays on the main thread (scheduler.ts).
 */
import net from 'node:net';
import type { StatusRange } from '../config/model.ts';
import type { AttemptResult } from './result.ts';
import { fail } from './result.ts';
import { httpAttempt } from './http.ts';
import { tcpAttempt } from './tcp.ts';
import { dnsAttempt } from './dns.ts';
import { miscAttempt } from './misc.ts';

export type { AttemptResult } from './result.ts';

/** Where a check connects from and to (connect_ip/connect_port/bindto/bind_port resolved). */
export interface Endpoint {
  /** connect_ip, else the real server's address */
  readonly address: string;
  /** connect_port, else the real server's port */
  readonly port: number;
  /** bindto: local source address */
  readonly bindTo?: string;
  /** bind_port: local source port */
  readonly bindPort?: number;
  /** ms: keepalived's connect_timeout; see each checker for what it covers */
  readonly connectTimeoutMs: number;
}

export interface HttpUrlTask {
  readonly path: string;
  /** empty: 200-299, as keepalived */
  readonly statusCodes: readonly StatusRange[];
  /** lowercase hex MD5 of the body */
  readonly digest?: string;
  /** Host header (and SNI with `sni`) for this url; else the task's */
  readonly virtualhost?: string;
}

export interface HttpTask extends Endpoint {
  readonly kind: 'http';
  /** SSL_GET */
  readonly ssl: boolean;
  /** every url must pass, in order */
  readonly urls: readonly HttpUrlTask[];
  /** checker's (else real server's, else virtual server's) virtualhost */
  readonly virtualhost?: string;
  /** enable_sni: send the virtualhost as the TLS servername */
  readonly sni: boolean;
  /** verify the server's certificate (keepalived: never) */
  readonly tlsVerify: boolean;
  /** bytes read of a body at most (default 1 MiB); a longer body fails a digest check */
  readonly maxBodyBytes?: number;
}

export interface TcpTask extends Endpoint {
  readonly kind: 'tcp';
}

export interface DnsTask extends Endpoint {
  readonly kind: 'dns';
  /** A, NS, CNAME, SOA, MX, TXT, AAAA, RRSIG, DNSKEY */
  readonly queryType: string;
  /** the name queried; "." is the root */
  readonly name: string;
}

export interface MiscTask {
  readonly kind: 'misc';
  readonly argv: readonly string[];
  /** ms: misc_timeout */
  readonly timeoutMs: number;
  /** ms between SIGTERM and SIGKILL to the script's process group */
  readonly graceMs?: number;
  /** misc_dynamic: exit 2–255 means up with weight exit−2 */
  readonly dynamic: boolean;
  readonly uid?: number;
  readonly gid?: number;
  readonly env?: Record<string, string>;
}

export type CheckTask = HttpTask | TcpTask | DnsTask | MiscTask;

/** A vrrp_script run: the exit status is judged by vrrp-script.ts on the main thread. */
export interface ScriptTask {
  readonly kind: 'script';
  readonly argv: readonly string[];
  /** ms */
  readonly timeoutMs: number;
  /** ms between SIGTERM and SIGKILL to the script's process group */
  readonly graceMs?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly env?: Record<string, string>;
}

/** What the script pool (workers/script.ts) runs: a MISC_CHECK attempt or a vrrp_script. */
export type ScriptPoolTask = MiscTask | ScriptTask;

/**
 * Why an endpoint cannot be checked, or undefined. Addresses must be literal IPs (the config
 * holds nothing else; a name here would cost a resolver lookup per attempt), ports 1–65535.
 */
export function endpointProblem(e: Endpoint): string | undefined {
  if (net.isIP(e.address) === 0) return `address ${JSON.stringify(e.address)} is not an IP address`;
  if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) return `port ${e.port} is not in 1-65535`;
  if (e.bindTo !== undefined && net.isIP(e.bindTo) === 0) return `bindto ${JSON.stringify(e.bindTo)} is not an IP address`;
  if (e.bindPort !== undefined && (!Number.isInteger(e.bindPort) || e.bindPort < 1 || e.bindPort > 65535)) return `bind_port ${e.bindPort} is not in 1-65535`;
  if (!(e.connectTimeoutMs > 0)) return `connect_timeout ${e.connectTimeoutMs} ms is not positive`;
  return undefined;
}

/** One attempt of any check; never throws. MISC tasks belong in the script pool. */
export async function runAttempt(task: CheckTask): Promise<AttemptResult> {
  const started = performance.now();
  try {
    if (task.kind === 'http' || task.kind === 'tcp' || task.kind === 'dns') {
      const problem = endpointProblem(task);
      if (problem !== undefined) return fail(started, 'bad-task', problem);
    }
    switch (task.kind) {
      case 'http':
        return await httpAttempt(task);
      case 'tcp':
        return await tcpAttempt(task);
      case 'dns':
        return await dnsAttempt(task);
      case 'misc':
        return await miscAttempt(task);
      default:
        return fail(started, 'bad-task', `unknown task kind ${JSON.stringify((task as { kind?: unknown }).kind)}`);
    }
  } catch (err) {
    // The attempt functions catch their own errors; this is the last guard so that a bug
    // never becomes a rejected pool task.
    return fail(started, 'internal', err instanceof Error ? err.message : String(err));
  }
}
