/**
 * PING_CHECK against a live and a dead host, IPv4 and IPv6, in namespaces the test creates:
 * "dir" (where the checks run, through the spawner process as in the daemon) and "live",
 * joined by a veth. The dead addresses are on the same link with nobody behind them.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { NetnsLab, nsExec, requireRoot } from '../../helpers/netns.ts';
import type { AttemptResult, CheckTask } from '../../../src/check/task.ts';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('./fixtures/daemon-attempts.ts', import.meta.url));
const repo = fileURLToPath(new URL('../../../', import.meta.url));

async function attemptsIn(ns: string, tasks: CheckTask[]): Promise<AttemptResult[]> {
  const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', fixture, JSON.stringify(tasks)], { cwd: repo, timeout: 60_000 });
  return JSON.parse(stdout) as AttemptResult[];
}

/** Namespaces "dir" (where the checks run) and `peer`, joined by a veth; undefined without root. */
function pair(t: ExecutionContext, peer: string): { dir: string; other: string } | undefined {
  if (!requireRoot(t)) return undefined;
  const lab = new NetnsLab('vpg');
  t.teardown(() => lab.removeAll());
  const dir = lab.addNs('dir');
  const other = lab.addNs(peer);
  lab.veth(dir, 'eth0', other, 'eth0');
  return { dir, other };
}

test('PING_CHECK: a live host answers (v4 and v6), a dead one times out, two at once each get their own reply', async (t) => {
  const ns = pair(t, 'live');
  if (ns === undefined) {
    t.pass();
    return;
  }
  const { dir, other: live } = ns;
  nsExec(dir, ['ip', 'addr', 'add', '10.77.0.1/24', 'dev', 'eth0']);
  nsExec(live, ['ip', 'addr', 'add', '10.77.0.2/24', 'dev', 'eth0']);
  nsExec(dir, ['ip', 'addr', 'add', 'fd77::1/64', 'dev', 'eth0', 'nodad']);
  nsExec(live, ['ip', 'addr', 'add', 'fd77::2/64', 'dev', 'eth0', 'nodad']);
  const timeout = 800;
  const results = await attemptsIn(dir, [
    { kind: 'ping', address: '10.77.0.2', connectTimeoutMs: timeout },
    { kind: 'ping', address: 'fd77::2', connectTimeoutMs: timeout },
    { kind: 'ping', address: '10.77.0.3', connectTimeoutMs: timeout },
    { kind: 'ping', address: 'fd77::3', connectTimeoutMs: timeout },
    // two at once to the same host: each gets its own reply
    { kind: 'ping', address: '10.77.0.2', connectTimeoutMs: timeout },
  ]);
  const [v4, v6, dead4, dead6, again] = results;
  t.like(v4, { ok: true }, JSON.stringify(v4));
  t.like(v6, { ok: true }, JSON.stringify(v6));
  t.like(again, { ok: true });
  t.true(v4!.durationMs < timeout / 2, `live v4 took ${v4!.durationMs} ms`);
  for (const [name, r] of [['v4', dead4], ['v6', dead6]] as const) {
    t.like(r, { ok: false, reason: 'timeout' }, name);
    t.true(r!.durationMs >= timeout - 20, `dead ${name} took ${r!.durationMs} ms`);
  }
  // the host stops answering: the next attempt fails
  nsExec(live, ['sysctl', '-q', '-w', 'net.ipv4.icmp_echo_ignore_all=1']);
  const [ignored] = await attemptsIn(dir, [{ kind: 'ping', address: '10.77.0.2', connectTimeoutMs: 300 }]);
  t.like(ignored, { ok: false, reason: 'timeout' });
});

test('PING_CHECK: an unreachable network fails at once on the router\'s ICMP error', async (t) => {
  const ns = pair(t, 'rtr');
  if (ns === undefined) {
    t.pass();
    return;
  }
  const { dir, other: rtr } = ns;
  nsExec(dir, ['ip', 'addr', 'add', '10.78.0.1/24', 'dev', 'eth0']);
  nsExec(rtr, ['ip', 'addr', 'add', '10.78.0.254/24', 'dev', 'eth0']);
  nsExec(dir, ['ip', 'route', 'add', 'default', 'via', '10.78.0.254']);
  nsExec(rtr, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  nsExec(rtr, ['ip', 'route', 'add', 'unreachable', '10.79.0.0/16']);
  const [r] = await attemptsIn(dir, [{ kind: 'ping', address: '10.79.0.1', connectTimeoutMs: 3000 }]);
  t.like(r, { ok: false, reason: 'unreachable' }, JSON.stringify(r));
  t.true(r!.durationMs < 1000, `took ${r!.durationMs} ms`);
});
