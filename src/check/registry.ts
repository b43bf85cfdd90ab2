/**
 * The one registry of checkers: every kind of check task, the function that runs one
 * attempt of it, and where that function runs. A new checker is a file of its own (its task
 * type and its attempt function) plus one entry here; the mapped type below refuses an entry
 * whose attempt takes another task, and a task kind without an entry.
 *
 * Where attempts run (DESIGN.md: checks run in the checker pool):
 * - `checker-pool`: a piscina worker thread (workers/checker.ts): socket checks;
 * - `spawner`: src/check/spawner.ts: MISC_CHECK's script starts through posix_spawn from the
 *   supervisor (never a fork of the daemon's address space); PING_CHECK's raw socket works
 *   only on a process's main thread, so it runs in a process of its own (workers/spawner.ts).
 *
 * Imports point one way: registry -> checkers -> endpoint/result. No checker imports this
 * file or task.ts. (The attempt functions are imported statically: a dynamic import() of a
 * `.ts` file fails inside a worker thread under tsx, which the tests and `npm run vigil` use.)
 */
import type { AttemptResult } from './result.ts';
import { fail } from './result.ts';
import { endpointProblem, type Endpoint } from './endpoint.ts';
import { httpAttempt, type HttpTask } from './http.ts';
import { tcpAttempt, type TcpTask } from './tcp.ts';
import { dnsAttempt, type DnsTask } from './dns.ts';
import { miscAttempt, type MiscTask } from './misc.ts';
import { udpAttempt, type UdpTask } from './udp.ts';
import { pingAttempt, type PingTask } from './ping.ts';
import { smtpAttempt, type SmtpTask } from './smtp.ts';

/** Every task a checker runs: plain data, structured-clone safe. */
export type CheckTask = HttpTask | TcpTask | DnsTask | MiscTask | UdpTask | PingTask | SmtpTask;

export type CheckKind = CheckTask['kind'];

import { RUNS_IN, type RunsIn } from './places.ts';
export type { RunsIn } from './places.ts';

type Attempt<T> = (task: T) => Promise<AttemptResult>;

export interface CheckerEntry<T extends CheckTask> {
  readonly runsIn: RunsIn;
  /** the task is an Endpoint: refuse a bad address or port before the attempt */
  readonly endpoint: boolean;
  /** one attempt (never throws; runAttempt still guards it) */
  readonly attempt: Attempt<T>;
}

export const CHECKERS: { readonly [K in CheckKind]: CheckerEntry<Extract<CheckTask, { kind: K }>> } = {
  http: { runsIn: RUNS_IN.http, endpoint: true, attempt: httpAttempt },
  tcp: { runsIn: RUNS_IN.tcp, endpoint: true, attempt: tcpAttempt },
  dns: { runsIn: RUNS_IN.dns, endpoint: true, attempt: dnsAttempt },
  misc: { runsIn: RUNS_IN.misc, endpoint: false, attempt: miscAttempt },
  udp: { runsIn: RUNS_IN.udp, endpoint: true, attempt: udpAttempt },
  smtp: { runsIn: RUNS_IN.smtp, endpoint: true, attempt: smtpAttempt },
  // raw-socket works on a process's main thread only (ping.ts says why)
  ping: { runsIn: RUNS_IN.ping, endpoint: false, attempt: pingAttempt },
};

/** The tasks whose entry says `spawner` (kept in step with CHECKERS by registry.test.ts). */
export type SpawnerCheckTask = MiscTask | PingTask;

export { runsIn } from './places.ts';

/** One attempt of any check; never throws. */
export async function runAttempt(task: CheckTask): Promise<AttemptResult> {
  const started = performance.now();
  const entry = Object.hasOwn(CHECKERS, task.kind) ? (CHECKERS[task.kind] as CheckerEntry<CheckTask>) : undefined;
  if (entry === undefined) return fail(started, 'bad-task', `unknown task kind ${JSON.stringify((task as { kind?: unknown }).kind)}`);
  try {
    if (entry.endpoint) {
      const problem = endpointProblem(task as CheckTask & Endpoint);
      if (problem !== undefined) return fail(started, 'bad-task', problem);
    }
    return await entry.attempt(task);
  } catch (err) {
    // The attempt functions catch their own errors; this is the last guard so that a bug
    // never becomes a rejected pool task.
    return fail(started, 'internal', err instanceof Error ? err.message : String(err));
  }
}
