/**
 * The checkers that run in the checker pool (workers/checker.ts), and the guarded attempt
 * that both this table and the full registry (registry.ts) run through.
 *
 * A checker thread loads this file and not registry.ts: registry.ts also holds MISC_CHECK
 * (script-runner, spawn.ts, koffi) and PING_CHECK (raw-socket), which run in the spawner and
 * cost a checker thread ~1 MB of heap for nothing (bench/footprint lvs100).
 *
 * Imports point one way: registry -> pool-checkers -> checkers -> endpoint/result.
 */
import type { AttemptResult } from './result.ts';
import { fail } from './result.ts';
import { endpointProblem, type Endpoint } from './endpoint.ts';
import { httpAttempt, type HttpTask } from './http.ts';
import { tcpAttempt, type TcpTask } from './tcp.ts';
import { dnsAttempt, type DnsTask } from './dns.ts';
import { udpAttempt, type UdpTask } from './udp.ts';
import { smtpAttempt, type SmtpTask } from './smtp.ts';
import { RUNS_IN, type RunsIn } from './places.ts';

/** Every task a checker thread runs: plain data, structured-clone safe. */
export type PoolCheckTask = HttpTask | TcpTask | DnsTask | UdpTask | SmtpTask;

type Attempt<T> = (task: T) => Promise<AttemptResult>;

export interface CheckerEntry<T extends { kind: string }> {
  readonly runsIn: RunsIn;
  /** the task is an Endpoint: refuse a bad address or port before the attempt */
  readonly endpoint: boolean;
  /** one attempt (never throws; runEntry still guards it) */
  readonly attempt: Attempt<T>;
}

/** A table of checkers, one entry per kind of T; the mapped type refuses a missing kind. */
export type CheckerTable<T extends { kind: string }> = { readonly [K in T['kind']]: CheckerEntry<Extract<T, { kind: K }>> };

export const POOL_CHECKERS: CheckerTable<PoolCheckTask> = {
  http: { runsIn: RUNS_IN.http, endpoint: true, attempt: httpAttempt },
  tcp: { runsIn: RUNS_IN.tcp, endpoint: true, attempt: tcpAttempt },
  dns: { runsIn: RUNS_IN.dns, endpoint: true, attempt: dnsAttempt },
  udp: { runsIn: RUNS_IN.udp, endpoint: true, attempt: udpAttempt },
  smtp: { runsIn: RUNS_IN.smtp, endpoint: true, attempt: smtpAttempt },
};

/** One attempt of a task through a table's entry; never throws. */
export async function runEntry<T extends { kind: string }>(table: CheckerTable<T>, task: T): Promise<AttemptResult> {
  const started = performance.now();
  const entry = Object.hasOwn(table, task.kind) ? (table[task.kind as T['kind']] as unknown as CheckerEntry<T>) : undefined;
  if (entry === undefined) return fail(started, 'bad-task', `unknown task kind ${JSON.stringify((task as { kind?: unknown }).kind)}`);
  try {
    if (entry.endpoint) {
      const problem = endpointProblem(task as unknown as Endpoint);
      if (problem !== undefined) return fail(started, 'bad-task', problem);
    }
    return await entry.attempt(task);
  } catch (err) {
    // The attempt functions catch their own errors; this is the last guard so that a bug
    // never becomes a rejected pool task.
    return fail(started, 'internal', err instanceof Error ? err.message : String(err));
  }
}

/** One attempt in a checker thread: a spawner kind is refused as an unknown kind. */
export function runPoolAttempt(task: PoolCheckTask): Promise<AttemptResult> {
  return runEntry(POOL_CHECKERS, task);
}
