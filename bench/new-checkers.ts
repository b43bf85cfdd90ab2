/**
 * bench/new-checkers: prints one JSON object. As root (PING_CHECK needs a raw socket):
 *
 *   sudo node --import tsx bench/new-checkers.ts
 *
 * Each of UDP_CHECK, SMTP_CHECK, PING_CHECK (IPv4 and IPv6) and an HTTP_GET with a `regex`
 * runs BENCH_ATTEMPTS attempts (default 2000), BENCH_CONCURRENCY (default 32) in flight,
 * the way the daemon runs them: through the checker pool (one piscina thread) or, for
 * PING_CHECK, the spawner process. The servers are on loopback: a UDP echo server and an
 * HTTP server in a child process, an SMTP server from the smtp-server package in another.
 * Per checker: attempts per wall second and the p50/p99 attempt duration (ms, as the
 * attempt measures itself, i.e. without the hop to the pool or the spawner), and failures.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Piscina } from 'piscina';
import { checkerPoolOptions, poolCheckRunner } from '../src/check/pool.ts';
import { SpawnerHost } from '../src/check/spawner.ts';
import type { AttemptResult, CheckTask } from '../src/check/task.ts';

const N = Number(process.env['BENCH_ATTEMPTS'] ?? 2000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32);

/** A child process running `src` that prints its ports as JSON on its first line. */
async function servers(): Promise<{ ports: { udp: number; http: number; smtp: number }; stop: () => void }> {
  const src = `
    const dgram = require('node:dgram');
    const http = require('node:http');
    const { SMTPServer } = require('smtp-server');
    const u = dgram.createSocket('udp4');
    u.on('message', (m, r) => u.send(m, r.port, r.address));
    const h = http.createServer((req, res) => res.end('<html>' + 'x'.repeat(2000) + ' status: ready</html>'));
    const s = new SMTPServer({ authOptional: true, disabledCommands: ['AUTH', 'STARTTLS'], logger: false });
    let n = 0; const ports = {};
    const done = () => { if (++n === 3) process.stdout.write(JSON.stringify(ports) + '\\n'); };
    u.bind(0, '127.0.0.1', () => { ports.udp = u.address().port; done(); });
    h.listen(0, '127.0.0.1', () => { ports.http = h.address().port; done(); });
    s.listen(0, '127.0.0.1', () => { ports.smtp = s.server.address().port; done(); });
  `;
  const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  return { ports: JSON.parse(line.toString()) as { udp: number; http: number; smtp: number }, stop: () => child.kill() };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

async function measure(run: (t: CheckTask) => Promise<AttemptResult>, task: CheckTask): Promise<Record<string, number>> {
  const durations: number[] = [];
  let failures = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        next++;
        const r = await run(task);
        durations.push(r.durationMs);
        if (!r.ok) failures++;
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  durations.sort((a, b) => a - b);
  return { attempts: durations.length, failures, attempts_per_s: Math.round(durations.length / wall), p50_ms: pct(durations, 50), p99_ms: pct(durations, 99) };
}

const srv = await servers();
const pool = new Piscina(checkerPoolOptions());
const spawner = new SpawnerHost();
const run = poolCheckRunner(pool, spawner);
const out: Record<string, unknown> = { attempts: N, concurrency: CONCURRENCY };
try {
  out['udp_check'] = await measure(run, { kind: 'udp', address: '127.0.0.1', port: srv.ports.udp, connectTimeoutMs: 2000, requireReply: true, minReplyLength: 0, maxReplyLength: 255 });
  out['smtp_check'] = await measure(run, { kind: 'smtp', address: '127.0.0.1', port: srv.ports.smtp, connectTimeoutMs: 2000, heloName: 'bench.example' });
  out['http_regex'] = await measure(run, {
    kind: 'http',
    ssl: false,
    address: '127.0.0.1',
    port: srv.ports.http,
    connectTimeoutMs: 2000,
    sni: false,
    tlsVerify: false,
    urls: [{ path: '/', statusCodes: [], regex: { pattern: 'status: (ready|degraded)', flags: '', utf8: false, firstline: false, noMatch: false, minOffset: 0 } }],
  });
  out['ping_check_v4'] = await measure(run, { kind: 'ping', address: '127.0.0.1', connectTimeoutMs: 2000 });
  out['ping_check_v6'] = await measure(run, { kind: 'ping', address: '::1', connectTimeoutMs: 2000 });
} finally {
  await pool.destroy();
  await spawner.stop();
  srv.stop();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
