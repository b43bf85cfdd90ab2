/**
 * bench/track-process: how soon a tracked process that dies moves a VRRP instance. Prints
 * one JSON object. Needs root (the process connector, a network namespace).
 *
 *   node --import tsx bench/track-process.ts
 *
 * - tracker: a ProcessTracker in this process tracks a copy of sleep(1) under a name of its
 *   own; each round starts one, waits until it counts, SIGKILLs it and times kill() → the
 *   tracker's quorum-lost event (performance.now(), µs resolution).
 * - daemon: vigil (sources through tsx) in a namespace of its own with one instance alone on
 *   a dummy interface, tracking the process with weight 0; each round starts the process,
 *   waits for MASTER, SIGKILLs it and times Date.now() at kill() → the `vrrp.transition` to
 *   FAULT as the daemon logs it (pino `time`, ms resolution; the log line is written after
 *   the VRRP worker made the transition and told the main thread, so this is an upper bound).
 *   For comparison, keepalived's usual alternative, a `killall -0` vrrp_script at
 *   `interval 1`, notices within 0–1000 ms (500 ms on average) plus the script's run time.
 * Target: < 10 ms. Env: BENCH_ROUNDS (default 30).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ProcessTracker } from '../src/supervisor/track-processes.ts';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 30);
const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-tp-'));
const NS = `vbtp${process.pid}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function stats(xs: number[]): { n: number; p50: number; p99: number; max: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => Math.round((s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN) * 1000) / 1000;
  return { n: s.length, p50: q(0.5), p99: q(0.99), max: q(1), mean: Math.round((s.reduce((a, b) => a + b, 0) / s.length) * 1000) / 1000 };
}

async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

async function kill(c: ChildProcess): Promise<void> {
  const gone = once(c, 'exit');
  c.kill('SIGKILL');
  await gone;
}

async function tracker(bin: string): Promise<number[]> {
  const tr = new ProcessTracker();
  let lostAt = 0;
  tr.on('status', (_n, up) => {
    if (!up) lostAt = performance.now();
  });
  const loc = { file: 'bench', line: 1, col: 1 };
  tr.setProcesses([{ name: 'p', process: 'vbtp-proc', params: [], paramMatch: 'none', fullCommand: false, weight: 0, weightReverse: false, quorum: 1, forkDelayMs: 0, terminateDelayMs: 0, loc }]);
  await new Promise<void>((r) => tr.once('live', () => r()));
  const out: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const c = spawn(bin, ['60'], { stdio: 'ignore' });
    await until(() => tr.status('p')?.up === true, 2000, 'the process to count');
    lostAt = 0;
    const t0 = performance.now();
    const gone = once(c, 'exit');
    c.kill('SIGKILL');
    await until(() => lostAt > 0, 2000, 'quorum lost');
    out.push(lostAt - t0);
    await gone;
  }
  tr.stop();
  return out;
}

async function daemon(bin: string): Promise<number[]> {
  const ip = (...a: string[]): string => execFileSync('ip', a, { encoding: 'utf8' });
  ip('netns', 'add', NS);
  try {
    return await inNamespace(bin, ip);
  } finally {
    try {
      ip('netns', 'del', NS);
    } catch {
      /* gone */
    }
  }
}

async function inNamespace(bin: string, ip: (...a: string[]) => string): Promise<number[]> {
  ip('-n', NS, 'link', 'set', 'lo', 'up');
  // a veth pair inside the namespace: eth0 carries the adverts, eth1 swallows them
  ip('-n', NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
  ip('-n', NS, 'link', 'set', 'eth1', 'up');
  ip('-n', NS, 'link', 'set', 'eth0', 'up');
  ip('-n', NS, 'addr', 'add', '10.250.0.1/24', 'dev', 'eth0');
  const conf = join(dir, 'vigil.conf');
  writeFileSync(
    conf,
    'global_defs {\n    router_id bench\n}\n' +
      'vrrp_track_process p {\n    process vbtp-proc\n    weight 0\n}\n' +
      'vrrp_instance VI_1 {\n    state MASTER\n    interface eth0\n    virtual_router_id 51\n    priority 100\n    advert_int 0.1\n    version 3\n' +
      '    virtual_ipaddress {\n        10.250.0.100/24\n    }\n    track_process {\n        p\n    }\n}\n',
  );
  let proc = spawn(bin, ['600'], { stdio: 'ignore' });
  const vigil = spawn(
    'ip',
    ['netns', 'exec', NS, process.execPath, '--import', 'tsx', join(root, 'src/cli/main.ts'), '-n', '-f', conf, '-p', join(dir, 'v.pid'), '--control-socket', join(dir, 'v.sock')],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  vigil.stdout.setEncoding('utf8').on('data', (d: string) => (log += d));
  vigil.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
  const lines = (): Array<Record<string, unknown>> =>
    log
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const out: number[] = [];
  try {
    await until(() => log.includes('"event":"track.process-live","source":"connector"'), 60_000, 'process events');
    for (let i = 0; i < ROUNDS; i++) {
      const masters = lines().filter((l) => l['event'] === 'vrrp.transition' && l['to'] === 'MASTER').length;
      await until(() => lines().filter((l) => l['event'] === 'vrrp.transition' && l['to'] === 'MASTER').length > masters || (i === 0 && masters > 0), 30_000, 'MASTER');
      await sleep(50);
      const faults = lines().filter((l) => l['event'] === 'vrrp.transition' && l['to'] === 'FAULT');
      const t0 = Date.now();
      await kill(proc);
      await until(() => lines().filter((l) => l['event'] === 'vrrp.transition' && l['to'] === 'FAULT').length > faults.length, 5000, 'FAULT');
      const f = lines().filter((l) => l['event'] === 'vrrp.transition' && l['to'] === 'FAULT')[faults.length]!;
      out.push(Date.parse(String(f['time'])) - t0);
      proc = spawn(bin, ['600'], { stdio: 'ignore' });
    }
  } finally {
    proc.kill('SIGKILL');
    vigil.kill('SIGTERM');
    await Promise.race([once(vigil, 'exit'), sleep(10_000)]);
  }
  return out;
}

const bin = join(dir, 'vbtp-proc');
copyFileSync('/bin/sleep', bin);
try {
  const t = await tracker(bin);
  const d = await daemon(bin);
  process.stdout.write(
    JSON.stringify({
      bench: 'track-process',
      rounds: ROUNDS,
      tracker_kill_to_event_ms: stats(t),
      daemon_kill_to_fault_ms: stats(d),
      target_ms: 10,
      load_average: execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim(),
    }) + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
