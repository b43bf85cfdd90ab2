/**
 * Why scripts are forked from a spawner process (src/check/spawner.ts): how much spawning
 * child processes from a big process delays a timer in another thread of the same process.
 * A worker thread measures the error of a 10 ms timer while the main thread, holding ~150 MB,
 * spawns `/bin/sleep 0` at 40 per second (or not). Prints JSON.
 *   node --import tsx bench/fork-stall.ts
 */
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';

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

async function measure(spawning: boolean): Promise<{ p50: number; p99: number; max: number }> {
  const w = new Worker(workerCode, { eval: true });
  const t = spawning
    ? setInterval(() => {
        for (let i = 0; i < 4; i++) spawn('/bin/sleep', ['0']).on('error', () => undefined);
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
const idle = await measure(false);
const spawning = await measure(true);
console.log(JSON.stringify({ bench: 'fork-stall', resident_mb: Math.round(process.memoryUsage().rss / 2 ** 20), timer_ms: 10, samples: SAMPLES, timer_error_ms: { idle, spawning_40_per_s: spawning } }, null, 2));
void ballast;
