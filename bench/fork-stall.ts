/**
 * Why scripts start through posix_spawn (src/io/spawn.ts) and not Node's child_process: how
 * much spawning child processes from a big process delays a timer in another thread of the
 * same process. A worker thread measures the error of a 10 ms timer while the main thread,
 * holding ~150 MB, spawns `/bin/sleep 0` at 40 per second with child_process (fork + exec),
 * with posix_spawn (vfork-like clone + exec), or not at all. Prints JSON.
 *   node --import tsx bench/fork-stall.ts
 */
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { spawnDetached } from '../src/io/spawn.ts';

const SAMPLES = 600;
const workerCode = `
const { parentPort } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const late = []; let next = performance.now() + 10;
const tick = () => {
  late.push(performance.now() - next); next += 10;
  if (late.length >= ${SAMPLES}) { late.sort((a, b) => a - b); parentPort.postMessage(late); return; }
  setTimeout(tick, Math.max(0, next - performance.now()));
};
setTimeout(tick, 10);`;

const spawners = {
  childProcess: (): void => void spawn('/bin/sleep', ['0']).on('error', () => undefined),
  // its output is read (and dropped) as it comes
  posixSpawn: (): void => void spawnDetached({ argv: ['/bin/sleep', '0'] }),
};

async function measure(how: keyof typeof spawners | undefined): Promise<{ p50: number; p99: number; max: number }> {
  const w = new Worker(workerCode, { eval: true });
  const t = how
    ? setInterval(() => {
        for (let i = 0; i < 4; i++) spawners[how]();
      }, 100)
    : undefined;
  const late = await new Promise<number[]>((res) => w.once('message', res));
  clearInterval(t);
  await w.terminate();
  const q = (p: number): number => Math.round((late[Math.min(late.length - 1, Math.floor(p * late.length))] ?? NaN) * 1000) / 1000;
  return { p50: q(0.5), p99: q(0.99), max: q(1) };
}

const ballast: Buffer[] = [];
for (let i = 0; i < 150; i++) ballast.push(Buffer.alloc(1 << 20, 1));
const idle = await measure(undefined);
const childProcess = await measure('childProcess');
const posixSpawn = await measure('posixSpawn');
console.log(
  JSON.stringify(
    {
      bench: 'fork-stall',
      resident_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
      timer_ms: 10,
      samples: SAMPLES,
      timer_error_ms: { idle, child_process_40_per_s: childProcess, posix_spawn_40_per_s: posixSpawn },
    },
    null,
    2,
  ),
);
void ballast;
