/**
 * vrrp_track_process against real processes: a copy of sleep(1) under a name of its own is
 * started and killed; the ProcessTracker follows it through the kernel's process connector
 * (quorum, quorum_max, forks, an exec away, terminate_delay), and a daemon in a namespace
 * moves its advertised priority, or goes to FAULT, when the process dies.
 */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { TrackProcess } from '../../../src/config/model.ts';
import { ProcessTracker } from '../../../src/supervisor/track-processes.ts';
import { requireRoot, waitFor, watchWire } from '../../helpers/netns.ts';
import { globalDefs, instanceBlock, outputOf, routerLab, startVigil, waitAddress, waitReady } from '../../helpers/routers.ts';

const loc = { file: 't.conf', line: 1, col: 1 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function binary(t: { teardown(fn: () => void): void }, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-tp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, name);
  copyFileSync('/bin/sleep', path);
  return path;
}

function spec(name: string, over: Partial<TrackProcess> = {}): TrackProcess {
  return { name: 'p', process: name, params: [], paramMatch: 'none', fullCommand: false, weight: 1, weightReverse: false, quorum: 1, forkDelayMs: 0, terminateDelayMs: 0, loc, ...over };
}

function run(t: { teardown(fn: () => void): void }, argv: string[]): ChildProcess {
  const c = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  t.teardown(() => void c.kill('SIGKILL'));
  return c;
}

async function kill(c: ChildProcess): Promise<void> {
  const gone = once(c, 'exit');
  c.kill('SIGKILL');
  await gone;
}

test.serial('ProcessTracker: quorum and quorum_max over real processes; a death is seen within milliseconds', async (t) => {
  if (!requireRoot(t)) return;
  const bin = binary(t, 'vtp-quorum');
  const tr = new ProcessTracker();
  t.teardown(() => tr.stop());
  const events: Array<[boolean, number, number]> = [];
  tr.on('status', (_n, up, count) => events.push([up, count, performance.now()]));
  const problems: string[] = [];
  tr.on('problem', (m) => problems.push(m));
  const a = run(t, [bin, '60']);
  await sleep(50);
  tr.setProcesses([spec('vtp-quorum', { quorum: 2, quorumMax: 3 })]);
  t.deepEqual(tr.status('p'), { up: false, count: 1 }, 'one process found by the /proc scan: below quorum');
  const b = run(t, [bin, '60']);
  await waitFor('quorum with two', () => tr.status('p')?.up === true, 2000, 1);
  const c = run(t, [bin, '60']);
  const d = run(t, [bin, '60']);
  await waitFor('four is above quorum_max', () => tr.status('p')?.up === false, 2000, 1);
  t.is(tr.status('p')?.count, 4);
  await kill(d);
  await waitFor('three: up again', () => tr.status('p')?.up === true, 2000, 1);
  await kill(c);
  t.true(tr.status('p')?.up);
  const killedAt = performance.now();
  await kill(b);
  await waitFor('one: down', () => tr.status('p')?.up === false, 2000, 0);
  const last = events[events.length - 1]!;
  const ms = last[2] - killedAt;
  t.log(`kill -> quorum lost: ${ms.toFixed(2)} ms`);
  // the 10 ms target is measured by bench/track-process.ts; here a bound that a loaded CI host keeps
  t.true(ms < 50, `seen ${ms.toFixed(2)} ms after the kill`);
  await kill(a);
  await waitFor('none left', () => tr.status('p')?.count === 0, 2000, 1);
  t.false(tr.status('p')?.up);
  t.deepEqual(problems, []);
});

test.serial('ProcessTracker: forks of a tracked process count, an exec into another program does not; full_command with parameters; terminate_delay', async (t) => {
  if (!requireRoot(t)) return;
  const sh = binary(t, 'vtp-shell');
  copyFileSync('/bin/sh', sh);
  const tr = new ProcessTracker();
  t.teardown(() => tr.stop());
  tr.setProcesses([
    spec('vtp-shell', { name: 'shell' }),
    spec(sh, { name: 'cmd', fullCommand: true, paramMatch: 'partial', params: ['-c'] }),
    spec('vtp-shell', { name: 'slow', terminateDelayMs: 300 }),
  ]);
  t.like(tr.status('shell'), { up: false, count: 0 });
  // the shell forks a subshell (same image: counted at the fork), which then execs sleep (no longer counted)
  const p = run(t, [sh, '-c', '(exec /bin/sleep 60) & wait']);
  await waitFor('shell and its fork', () => (tr.status('shell')?.count ?? 0) >= 1, 2000, 1);
  await waitFor('the fork exec-ed sleep: one left', () => tr.status('shell')?.count === 1, 2000, 5);
  t.like(tr.status('cmd'), { up: true, count: 1 });
  t.like(tr.status('slow'), { up: true });
  const killedAt = performance.now();
  await kill(p);
  await waitFor('shell gone', () => tr.status('shell')?.up === false, 2000, 1);
  t.true(tr.status('slow')?.up, 'terminate_delay holds the status');
  await waitFor('slow down after its delay', () => tr.status('slow')?.up === false, 2000, 5);
  const held = performance.now() - killedAt;
  t.true(held >= 290, `held ${held.toFixed(0)} ms`);
});

test.serial('daemon: a tracked process dies -> the advertised priority drops (weight -30); weight 0 -> FAULT; back when it restarts', async (t) => {
  if (!requireRoot(t)) return;
  const p = routerLab(t, 'vtp', 85);
  const bin = binary(t, 'vtp-daemon');
  const gate = binary(t, 'vtp-gate');
  const VIP = '10.85.0.100';
  const conf =
    globalDefs('r1') +
    `vrrp_track_process svc {\n    process vtp-daemon\n    weight -30\n}\n` +
    `vrrp_track_process gate {\n    process vtp-gate\n    weight 0\n}\n` +
    instanceBlock({ state: 'MASTER', priority: 100, vip: `${VIP}/24`, advertInt: '0.1', version: 3, extra: '    track_process {\n        svc\n        gate\n    }' });
  const svc = run(t, [bin, '600']);
  let g = run(t, [gate, '600']);
  const wire = await watchWire(t, p.lab, p.c, 'ip proto 112');
  const r = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf));
  const advertising = async (prio: number): Promise<number> => {
    const mark = wire.text().length;
    const re = new RegExp(`vrid 51, prio ${prio},`);
    return waitFor(`adverts with prio ${prio}`, () => re.test(wire.text().slice(mark)), 5000, 5);
  };
  try {
    await waitReady(r);
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    await advertising(100);
    await waitFor('process events flowing', () => outputOf(r).includes('"event":"track.process-live","source":"connector"'), 10_000, 10);
    t.false(outputOf(r).includes('"event":"track.process-problem"'), 'process events from the kernel, no fallback');
    await kill(svc);
    t.log(`svc killed: adverts at prio 70 within ${(await advertising(70)).toFixed(0)} ms (advert_int 100 ms)`);
    await kill(g);
    await waitAddress(p.r1, 'eth0', VIP, false, 2000);
    g = run(t, [gate, '600']);
    await waitAddress(p.r1, 'eth0', VIP, true, 5000);
    run(t, [bin, '600']);
    await advertising(100);
  } catch (e) {
    t.log(outputOf(r));
    throw e;
  } finally {
    r.proc.kill('SIGTERM');
    await r.exited;
  }
});
