/**
 * bench/checks: prints one JSON object.
 *
 *   node --expose-gc --import tsx bench/checks.ts
 *
 * - http_pool: HTTP_GET attempts (new connection, status check, as keepalived) through a
 *   piscina checker pool of ONE thread against a local HTTP server running in a child
 *   process, `concurrency` in flight. `checks_per_s` is over wall time (depends on what else
 *   the machine runs); `checks_per_worker_cpu_s` divides by the CPU time the one worker
 *   thread used (/proc/thread-self/stat), i.e. checks per second of one fully used core.
 *   Target: 5,000 checks/s on one core.
 * - http_inline: the same attempts on the main thread without a pool, for comparison.
 * - http_digest_pool: as http_pool, with a digest check of a 1 KiB body.
 * - scheduler_memory: heap bytes per 1,000 real servers (one HTTP_GET checker each) held
 *   by a CheckScheduler with their timers armed.
 * Env: BENCH_CHECKS (default 20000), BENCH_CONCURRENCY (default 64).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Piscina } from 'piscina';
import { checkerWorkerFile } from '../src/check/pool.ts';
import { runAttempt } from '../src/check/registry.ts';
import type { CheckTask, AttemptResult } from '../src/check/task.ts';
import { CheckScheduler } from '../src/check/scheduler.ts';

const N = Number(process.env['BENCH_CHECKS'] ?? 20_000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
const BODY = 'x'.repeat(1024);

async function startServer(): Promise<{ port: number; stop: () => void }> {
  const src = `
    const http = require('node:http');
    const body = ${JSON.stringify(BODY)};
    const s = http.createServer((req, res) => res.end(req.url === '/page' ? body : 'ok'));
    s.keepAliveTimeout = 1000;
    s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
  `;
  const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { port: Number(chunk.toString().trim()), stop: () => child.kill('SIGKILL') };
}

async function drive(n: number, concurrency: number, run: (t: CheckTask) => Promise<AttemptResult>, task: CheckTask): Promise<{ ms: number; failures: number; reasons: Record<string, number> }> {
  let next = 0;
  let failures = 0;
  const reasons: Record<string, number> = {};
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        const r = await run(task);
        if (!r.ok) {
          failures++;
          const k = r.reason ?? '?';
          reasons[k] = (reasons[k] ?? 0) + 1;
        }
      }
    }),
  );
  return { ms: performance.now() - t0, failures, reasons };
}

function gc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

async function poolRun(task: CheckTask): Promise<Record<string, unknown>> {
  const pool = new Piscina({ filename: checkerWorkerFile(), minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: CONCURRENCY });
  // warm up the thread and the JIT
  await drive(Math.min(2000, N), CONCURRENCY, (t) => pool.run(t) as Promise<AttemptResult>, task);
  const thread = pool.threads[0]!;
  const elu0 = thread.performance.eventLoopUtilization();
  const cpu0 = (await pool.run(null, { name: 'threadCpuMs' })) as number;
  const main0 = process.cpuUsage();
  const r = await drive(N, CONCURRENCY, (t) => pool.run(t) as Promise<AttemptResult>, task);
  const cpu1 = (await pool.run(null, { name: 'threadCpuMs' })) as number;
  const main = process.cpuUsage(main0);
  const elu = thread.performance.eventLoopUtilization(elu0);
  await pool.destroy();
  const workerCpuS = (cpu1 - cpu0) / 1000;
  return {
    checks: N,
    concurrency: CONCURRENCY,
    wall_ms: Math.round(r.ms),
    checks_per_s: Math.round(N / (r.ms / 1000)),
    worker_utilisation: Number(elu.utilization.toFixed(3)),
    /** CPU seconds of the one worker thread (from /proc/thread-self/stat) */
    worker_cpu_s: Number(workerCpuS.toFixed(2)),
    /** the number to hold against the target: checks per second of one core's CPU */
    checks_per_worker_cpu_s: Math.round(N / workerCpuS),
    /** CPU seconds of the whole process (main thread dispatching + worker) */
    process_cpu_s: Number(((main.user + main.system) / 1e6).toFixed(2)),
    failures: r.failures,
    ...(r.failures > 0 ? { failure_reasons: r.reasons } : {}),
  };
}

async function main(): Promise<void> {
  const server = await startServer();
  try {
    const http: CheckTask = {
      kind: 'http', ssl: false, address: '127.0.0.1', port: server.port, connectTimeoutMs: 5000,
      urls: [{ path: '/health', statusCodes: [] }], sni: false, tlsVerify: false,
    };
    const digest: CheckTask = {
      ...http,
      urls: [{ path: '/page', statusCodes: [], digest: createHash('md5').update(BODY).digest('hex') }],
    };
    const httpPool = await poolRun(http);
    const httpDigestPool = await poolRun(digest);
    await drive(Math.min(2000, N), CONCURRENCY, runAttempt, http);
    const inlineCpu0 = process.cpuUsage();
    const inline = await drive(N, CONCURRENCY, runAttempt, http);
    const inlineCpu = process.cpuUsage(inlineCpu0);

    const collect = gc();
    collect();
    const heap0 = process.memoryUsage().heapUsed;
    const sched = new CheckScheduler({ run: async () => ({ ok: true, durationMs: 0 }) });
    const servers = 10_000;
    sched.setTargets(
      Array.from({ length: servers }, (_, i) => ({
        key: `10.0.0.1:80/TCP|10.1.${i >> 8}.${i & 255}:80`,
        checkers: [{
          task: { ...http, address: `10.1.${i >> 8}.${i & 255}`, port: 80 } as CheckTask,
          delayLoopMs: 60_000, retry: 1, delayBeforeRetryMs: 1000, warmupMs: 3_600_000, alpha: false,
        }],
      })),
    );
    collect();
    const heap1 = process.memoryUsage().heapUsed;
    sched.stop();

    const out = {
      bench: 'checks',
      node: process.version,
      target_checks_per_s_one_core: 5000,
      http_pool: httpPool,
      http_digest_pool: httpDigestPool,
      http_inline: {
        checks: N,
        concurrency: CONCURRENCY,
        wall_ms: Math.round(inline.ms),
        checks_per_s: Math.round(N / (inline.ms / 1000)),
        /** process CPU (main thread, stack traces on: no worker setting applies here) */
        checks_per_cpu_s: Math.round(N / ((inlineCpu.user + inlineCpu.system) / 1e6)),
        failures: inline.failures,
      },
      scheduler_memory: {
        real_servers: servers,
        heap_bytes_per_1000_real_servers: Math.round(((heap1 - heap0) / servers) * 1000),
      },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    server.stop();
  }
}

await main();
