/**
 * Two vigil routers and a client on one segment, in namespaces built here:
 * election, failover on SIGKILL, fast takeover on SIGTERM, preemption and nopreempt,
 * master/master, unicast peers, VRRPv2 with PASS auth, VRRPv3 over IPv6.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { nsExec, requireRoot, waitFor } from '../../helpers/netns.ts';
import {
  globalDefs,
  instanceBlock,
  linkMac,
  outputOf,
  reachVia,
  startVigil,
  waitAddress,
  hasAddress,
  routerLab,
  waitReady,
  type Router,
  type RouterLab,
} from '../../helpers/routers.ts';

function buildPair(t: ExecutionContext, v6 = false): RouterLab {
  return routerLab(t, 'vsy', 77, { v6 });
}

function exitedWith(r: Router): Promise<number | null> {
  return r.exited.then((e) => e.code);
}

const VIP = '10.77.0.100';

test.serial('VRRPv3: election, failover on SIGKILL, client follows the VIP, preemption on return', async (t) => {
  if (!requireRoot(t)) return;
  const p = buildPair(t);
  const conf = (state: 'MASTER' | 'BACKUP', prio: number): string =>
    globalDefs(`r${prio}`) + instanceBlock({ state, priority: prio, vip: `${VIP}/24`, advertInt: '0.1', version: 3 });
  const c1 = p.dir.file('r1.conf', conf('MASTER', 150));
  const c2 = p.dir.file('r2.conf', conf('BACKUP', 100));
  let a = startVigil(p.lab, p.r1, p.dir, 'r1', c1);
  const b = startVigil(p.lab, p.r2, p.dir, 'r2', c2);
  try {
    await waitReady(a, b);
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    await waitFor('r2 to stay backup', () => !hasAddress(p.r2, 'eth0', VIP), 1000);
    t.is(reachVia(p.c, VIP), linkMac(p.r1, 'eth0'));

    // The master dies without a word: the backup takes over after Master_Down_Interval.
    a.proc.kill('SIGKILL');
    process.kill(-a.proc.pid!, 'SIGKILL');
    nsExec(p.r1, ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
    const took = await waitAddress(p.r2, 'eth0', VIP, true, 5000);
    t.log(`backup took the VIP ${took.toFixed(0)} ms after SIGKILL`);
    await waitFor('client reaching the VIP through r2', () => reachVia(p.c, VIP) === linkMac(p.r2, 'eth0'), 5000, 50);

    // r1 comes back with the higher priority and preempts.
    a = startVigil(p.lab, p.r1, p.dir, 'r1b', c1);
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    await waitAddress(p.r2, 'eth0', VIP, false, 5000);
    t.pass();
  } catch (e) {
    t.log(outputOf(a));
    t.log(outputOf(b));
    throw e;
  }
});

test.serial('VRRPv3: SIGTERM sends priority 0, the backup takes over within skew time, the old master exits 0 without the VIP', async (t) => {
  if (!requireRoot(t)) return;
  const p = buildPair(t);
  const conf = (state: 'MASTER' | 'BACKUP', prio: number): string =>
    globalDefs(`r${prio}`) + instanceBlock({ state, priority: prio, vip: `${VIP}/24`, advertInt: '0.1', version: 3 });
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf('MASTER', 150)));
  const b = startVigil(p.lab, p.r2, p.dir, 'r2', p.dir.file('r2.conf', conf('BACKUP', 100)));
  try {
    await waitReady(a, b);
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    await new Promise((r) => setTimeout(r, 500));
    const sent = performance.now();
    a.proc.kill('SIGTERM');
    await waitAddress(p.r2, 'eth0', VIP, true, 3000);
    const took = performance.now() - sent;
    t.log(`backup took the VIP ${took.toFixed(0)} ms after SIGTERM (master-down would be ~360 ms)`);
    // Skew time at priority 100, 100 ms adverts is ~61 ms; well under Master_Down_Interval.
    t.true(took < 340, `took ${took} ms: the priority-0 advert did not trigger a fast takeover`);
    t.is(await exitedWith(a), 0);
    t.false(hasAddress(p.r1, 'eth0', VIP));
  } catch (e) {
    t.log(outputOf(a));
    t.log(outputOf(b));
    throw e;
  }
});

test.serial('nopreempt: a returning higher-priority router does not take the VIP back', async (t) => {
  if (!requireRoot(t)) return;
  const p = buildPair(t);
  const conf = (prio: number): string =>
    globalDefs(`r${prio}`) +
    instanceBlock({ state: 'BACKUP', priority: prio, vip: `${VIP}/24`, advertInt: '0.1', version: 3, nopreempt: true });
  const c1 = p.dir.file('r1.conf', conf(150));
  const b = startVigil(p.lab, p.r2, p.dir, 'r2', p.dir.file('r2.conf', conf(100)));
  await waitAddress(p.r2, 'eth0', VIP, true, 15_000);
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', c1);
  try {
    // Give r1 several master-down intervals to (wrongly) preempt.
    await new Promise((r) => setTimeout(r, 3000));
    t.true(hasAddress(p.r2, 'eth0', VIP));
    t.false(hasAddress(p.r1, 'eth0', VIP));
  } catch (e) {
    t.log(outputOf(a));
    t.log(outputOf(b));
    throw e;
  }
});

test.serial('master/master: VI_1 and VI_2 are held by different routers and both fail over to the survivor', async (t) => {
  if (!requireRoot(t)) return;
  const p = buildPair(t);
  const vip2 = '10.77.0.102';
  const conf = (p1: number, p2: number, s1: 'MASTER' | 'BACKUP', s2: 'MASTER' | 'BACKUP'): string =>
    globalDefs('mm') +
    instanceBlock({ name: 'VI_1', state: s1, priority: p1, vrid: 51, vip: `${VIP}/24`, advertInt: '0.1', version: 3, auth: '1111' }) +
    instanceBlock({ name: 'VI_2', state: s2, priority: p2, vrid: 55, vip: `${vip2}/24`, advertInt: '0.1', version: 3, auth: '1111' });
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf(100, 99, 'MASTER', 'BACKUP')));
  const b = startVigil(p.lab, p.r2, p.dir, 'r2', p.dir.file('r2.conf', conf(99, 100, 'BACKUP', 'MASTER')));
  try {
    await waitReady(a, b);
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    await waitAddress(p.r2, 'eth0', vip2, true, 15_000);
    // whoever started first held both for a moment: the steady state has one VIP each
    await waitAddress(p.r1, 'eth0', vip2, false, 5000);
    await waitAddress(p.r2, 'eth0', VIP, false, 5000);
    b.proc.kill('SIGTERM');
    await waitAddress(p.r1, 'eth0', vip2, true, 3000);
    t.true(hasAddress(p.r1, 'eth0', VIP));
  } catch (e) {
    t.log(outputOf(a));
    t.log(outputOf(b));
    throw e;
  }
});

test.serial('unicast peers with VRRPv2 and PASS authentication', async (t) => {
  if (!requireRoot(t)) return;
  const p = buildPair(t);
  const conf = (state: 'MASTER' | 'BACKUP', prio: number, src: string, peer: string): string =>
    globalDefs(`u${prio}`) +
    instanceBlock({ state, priority: prio, vip: `${VIP}/24`, advertInt: '1', version: 2, auth: 'secret', unicastSrc: src, unicastPeers: [peer] });
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf('MASTER', 150, '10.77.0.1', '10.77.0.2')));
  const b = startVigil(p.lab, p.r2, p.dir, 'r2', p.dir.file('r2.conf', conf('BACKUP', 100, '10.77.0.2', '10.77.0.1')));
  try {
    await waitReady(a, b);
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    // Adverts really are unicast: the client sees none of them in 2.5 s (two adverts' worth).
    const dump = spawnSync('ip', ['netns', 'exec', p.c, 'timeout', '2.5', 'tcpdump', '-c', '1', '-n', '-l', '-i', 'eth0', 'ip proto 112'], {
      encoding: 'utf8',
    });
    t.is(dump.stdout.trim(), '', 'the client saw a VRRP packet');
  } catch (e) {
    t.log(outputOf(a));
    t.log(outputOf(b));
    throw e;
  }
  a.proc.kill('SIGTERM');
  await waitAddress(p.r2, 'eth0', VIP, true, 5000);
  t.pass();
});

test.serial('VRRPv3 over IPv6: election and takeover of an IPv6 VIP', async (t) => {
  if (!requireRoot(t)) return;
  const p = buildPair(t, true);
  // fd4d::/64 on eth0 (routerLab's v6 numbering for segment 77)
  const vip6 = 'fd4d::100';
  const conf = (state: 'MASTER' | 'BACKUP', prio: number): string =>
    globalDefs(`v6${prio}`) + instanceBlock({ state, priority: prio, vip: `${vip6}/64`, advertInt: '0.1', version: 3 });
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf('MASTER', 150)));
  const b = startVigil(p.lab, p.r2, p.dir, 'r2', p.dir.file('r2.conf', conf('BACKUP', 100)));
  try {
    await waitReady(a, b);
    await waitAddress(p.r1, 'eth0', vip6, true, 15_000);
    await waitFor('r2 stays backup', () => !hasAddress(p.r2, 'eth0', vip6), 1000);
    a.proc.kill('SIGTERM');
    await waitAddress(p.r2, 'eth0', vip6, true, 3000);
    nsExec(p.c, ['ping', '-6', '-c', '1', '-W', '2', vip6]);
    t.pass();
  } catch (e) {
    t.log(outputOf(a));
    t.log(outputOf(b));
    throw e;
  }
});
