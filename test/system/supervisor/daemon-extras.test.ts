/**
 * More of the daemon as an operator runs it, in namespaces built here: `use_vmac` (the
 * master answers for the VIP with the VRRP virtual MAC from a macvlan, and the backup takes
 * over with the same MAC), `virtual_routes` added on MASTER and removed on BACKUP / SIGTERM,
 * Prometheus metrics scraped from inside the namespace, and the SIGUSR1 / SIGUSR2 dumps at
 * keepalived's paths.
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { nsExec, requireRoot, waitFor, watchWire } from '../../helpers/netns.ts';
import {
  globalDefs,
  hasAddress,
  instanceBlock,
  outputOf,
  routerLab,
  startVigil,
  waitAddress,
  waitReady,
  type Router,
  type RouterLab,
} from '../../helpers/routers.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function build(t: ExecutionContext, n: number): RouterLab {
  return routerLab(t, 'vdx', n);
}

function linkExists(ns: string, ifname: string): boolean {
  try {
    nsExec(ns, ['ip', 'link', 'show', 'dev', ifname]);
    return true;
  } catch {
    return false;
  }
}

function linkMacOf(ns: string, ifname: string): string | undefined {
  try {
    const [l] = JSON.parse(nsExec(ns, ['ip', '-j', 'link', 'show', 'dev', ifname])) as Array<{ address?: string }>;
    return l?.address;
  } catch {
    return undefined;
  }
}

/** The MAC in the client's neighbour table for `address` after a ping (undefined if unreachable). */
function neighMac(ns: string, address: string): string | undefined {
  try {
    nsExec(ns, ['ping', '-c', '1', '-W', '1', address]);
  } catch {
    return undefined;
  }
  const [n] = JSON.parse(nsExec(ns, ['ip', '-j', 'neigh', 'show', address])) as Array<{ lladdr?: string; state?: string[] }>;
  return n?.lladdr;
}

function routesTo(ns: string, prefix: string): Array<{ dst?: string; gateway?: string; dev?: string }> {
  return JSON.parse(nsExec(ns, ['ip', '-j', 'route', 'show', prefix])) as Array<{ dst?: string; gateway?: string; dev?: string }>;
}

async function stopped(r: Router, timeoutMs = 15_000): Promise<number | null> {
  const timer = sleep(timeoutMs).then(() => 'timeout' as const);
  const res = await Promise.race([r.exited, timer]);
  if (res === 'timeout') throw new Error(`${r.name} did not exit within ${timeoutMs} ms`);
  return res.code;
}

function dumpLogs(t: ExecutionContext, ...routers: Router[]): void {
  for (const r of routers) t.log(`--- ${r.name}\n${outputOf(r)}`);
}

test.serial('use_vmac: the master answers for the VIP with 00:00:5e:00:01:33 from vrrp.51, the backup takes over with the same MAC', async (t) => {
  if (!requireRoot(t)) return;
  const p = build(t, 81);
  const VIP = '10.81.0.100';
  const VMAC = '00:00:5e:00:01:33';
  const conf = (state: 'MASTER' | 'BACKUP', prio: number): string =>
    globalDefs(`r${prio}`) + instanceBlock({ state, priority: prio, vrid: 51, vip: `${VIP}/24`, advertInt: '0.1', version: 3, extra: '    use_vmac' });
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf('MASTER', 150)));
  const b = startVigil(p.lab, p.r2, p.dir, 'r2', p.dir.file('r2.conf', conf('BACKUP', 100)));
  try {
    await waitReady(a, b);
    await waitAddress(p.r1, 'vrrp.51', VIP, true, 15_000);
    // Steady state: r2 hears r1's adverts and stays backup.
    await sleep(1000);
    t.false(hasAddress(p.r2, 'vrrp.51', VIP), 'the backup does not hold the VIP');
    t.false(hasAddress(p.r1, 'eth0', VIP), 'the VIP is on the macvlan, not on its parent');
    t.is(linkMacOf(p.r1, 'vrrp.51'), VMAC);
    const [link] = JSON.parse(nsExec(p.r1, ['ip', '-j', '-d', 'link', 'show', 'dev', 'vrrp.51'])) as Array<{
      link?: string;
      linkinfo?: { info_kind?: string; info_data?: { mode?: string } };
    }>;
    t.is(link?.linkinfo?.info_kind, 'macvlan');
    t.is(link?.link, 'eth0');
    await waitFor('client resolving the VIP to the virtual MAC', () => neighMac(p.c, VIP) === VMAC, 10_000, 100);

    // On the wire, seen from the client: adverts leave from the virtual MAC.
    const capture = await watchWire(t, p.lab, p.c, 'arp or ip proto 112');
    const advertFrom = new RegExp(`^\\S+ ${VMAC} > 01:00:5e:00:00:12, .*VRRPv3, Advertisement, vrid 51, prio 150`, 'm');
    await waitFor('an advert from the virtual MAC', () => advertFrom.test(capture.text()), 5000, 20);

    // SIGTERM: priority 0, the backup takes over; the old master removes its macvlan and exits 0.
    const mark = capture.text().length;
    a.proc.kill('SIGTERM');
    await waitAddress(p.r2, 'vrrp.51', VIP, true, 10_000);
    // The new master announces the VIP with a gratuitous ARP from the same virtual MAC, and adverts from it.
    const garp = new RegExp(`^\\S+ ${VMAC} > ff:ff:ff:ff:ff:ff, ethertype ARP .*${VIP.replaceAll('.', '\\.')}`, 'm');
    const newAdvert = new RegExp(`^\\S+ ${VMAC} > 01:00:5e:00:00:12, .*VRRPv3, Advertisement, vrid 51, prio 100`, 'm');
    await waitFor('gratuitous ARP and adverts from r2 with the virtual MAC', () => garp.test(capture.text().slice(mark)) && newAdvert.test(capture.text().slice(mark)), 10_000, 20);
    t.log(`after takeover: ${garp.exec(capture.text().slice(mark))?.[0] ?? ''}`);
    t.is(await stopped(a), 0);
    t.false(linkExists(p.r1, 'vrrp.51'), 'the old master removed its macvlan');
    t.is(linkMacOf(p.r2, 'vrrp.51'), VMAC);
    // The client's entry is the same MAC, and the VIP answers from the new master.
    nsExec(p.c, ['ip', 'neigh', 'flush', 'dev', 'eth0']);
    await waitFor('client reaching the VIP through r2 with the same virtual MAC', () => neighMac(p.c, VIP) === VMAC, 10_000, 100);
    t.false(hasAddress(p.r1, 'eth0', VIP));

    b.proc.kill('SIGTERM');
    t.is(await stopped(b), 0);
    t.false(linkExists(p.r2, 'vrrp.51'), 'the last router removed its macvlan on exit');
  } catch (e) {
    dumpLogs(t, a, b);
    throw e;
  }
});

test.serial('virtual_routes: added on becoming MASTER, removed on becoming BACKUP and on SIGTERM', async (t) => {
  if (!requireRoot(t)) return;
  const p = build(t, 82);
  const VIP = '10.82.0.100';
  const ROUTE = '10.200.0.0/24';
  const conf = (state: 'MASTER' | 'BACKUP', prio: number): string =>
    globalDefs(`r${prio}`) +
    instanceBlock({
      state,
      priority: prio,
      vip: `${VIP}/24`,
      advertInt: '0.1',
      version: 3,
      extra: `    virtual_routes {\n        ${ROUTE} via 10.82.0.254 dev eth0\n    }`,
    });
  const c1 = p.dir.file('r1.conf', conf('MASTER', 150));
  const c2 = p.dir.file('r2.conf', conf('BACKUP', 100));
  // r2 first, alone: it becomes master and installs the route.
  const b = startVigil(p.lab, p.r2, p.dir, 'r2', c2);
  let a: Router | undefined;
  try {
    await waitReady(b);
    await waitAddress(p.r2, 'eth0', VIP, true, 15_000);
    await waitFor('route on r2', () => routesTo(p.r2, ROUTE).length === 1, 5000, 20);
    const [r] = routesTo(p.r2, ROUTE);
    t.is(r?.dst, ROUTE);
    t.is(r?.gateway, '10.82.0.254');
    t.is(r?.dev, 'eth0');
    t.is(routesTo(p.r1, ROUTE).length, 0, 'nothing on r1 yet');

    // r1 comes with a higher priority and preempts: r2 becomes BACKUP and removes the route.
    a = startVigil(p.lab, p.r1, p.dir, 'r1', c1);
    await waitReady(a);
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    await waitFor('route on r1', () => routesTo(p.r1, ROUTE).length === 1, 5000, 20);
    await waitAddress(p.r2, 'eth0', VIP, false, 5000);
    await waitFor('route gone from r2 (BACKUP)', () => routesTo(p.r2, ROUTE).length === 0, 5000, 20);
    await sleep(500);
    t.is(routesTo(p.r2, ROUTE).length, 0);

    // SIGTERM on r1: it removes its route; r2 takes over and adds it back.
    a.proc.kill('SIGTERM');
    t.is(await stopped(a), 0);
    t.is(routesTo(p.r1, ROUTE).length, 0, 'the route left with SIGTERM');
    await waitAddress(p.r2, 'eth0', VIP, true, 10_000);
    await waitFor('route back on r2', () => routesTo(p.r2, ROUTE).length === 1, 5000, 20);

    b.proc.kill('SIGTERM');
    t.is(await stopped(b), 0);
    t.is(routesTo(p.r2, ROUTE).length, 0);
  } catch (e) {
    dumpLogs(t, b, ...(a ? [a] : []));
    throw e;
  }
});

function scrape(ns: string, port: number): string {
  return nsExec(ns, [
    'python3',
    '-c',
    `import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:${port}/metrics', timeout=5).read().decode())`,
  ]);
}

/** The value of one sample line `name{labels} value`, labels in any order. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(m[3]);
  }
  return undefined;
}

test.serial('metrics: --metrics-listen serves the instance state and its BACKUP->MASTER transition, scraped inside the namespace', async (t) => {
  if (!requireRoot(t)) return;
  const p = build(t, 83);
  const VIP = '10.83.0.100';
  const conf = (state: 'MASTER' | 'BACKUP', prio: number): string =>
    globalDefs(`r${prio}`) + instanceBlock({ name: 'VI_M', state, priority: prio, vip: `${VIP}/24`, advertInt: '0.1', version: 3 });
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf('MASTER', 150)), ['--metrics-listen', '127.0.0.1:9650']);
  const b = startVigil(p.lab, p.r2, p.dir, 'r2', p.dir.file('r2.conf', conf('BACKUP', 100)), ['--metrics-listen', '127.0.0.1:9650']);
  try {
    await waitReady(a, b);
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    await sleep(1000);
    let text = '';
    await waitFor(
      'r1 metrics saying MASTER',
      () => {
        text = scrape(p.r1, 9650);
        return sample(text, 'vigil_vrrp_state', { instance: 'VI_M' }) === 2;
      },
      10_000,
      200,
    );
    t.is(sample(text, 'vigil_vrrp_state', { instance: 'VI_M' }), 2, 'MASTER is 2 (keepalived numbering)');
    t.true((sample(text, 'vigil_vrrp_transitions_total', { instance: 'VI_M', from: 'BACKUP', to: 'MASTER' }) ?? 0) >= 1, 'BACKUP->MASTER counted');
    const sent1 = sample(text, 'vigil_vrrp_adverts_sent_total', { instance: 'VI_M' }) ?? 0;
    t.log(`r1 adverts sent at first scrape: ${sent1}`);

    // The same port in r2's namespace (its own loopback) says BACKUP. (Both start together with
    // 100 ms adverts, so r2 may have been MASTER for a moment before r1's first advert: its
    // transition counters are not asserted.)
    const text2 = scrape(p.r2, 9650);
    t.is(sample(text2, 'vigil_vrrp_state', { instance: 'VI_M' }), 1, 'BACKUP is 1');

    // Counters pushed from the worker keep moving between scrapes (adverts every 100 ms).
    await waitFor(
      'r1 adverts-sent counter growing between scrapes',
      () => (sample(scrape(p.r1, 9650), 'vigil_vrrp_adverts_sent_total', { instance: 'VI_M' }) ?? 0) > sent1,
      15_000,
      500,
    );
    await waitFor(
      'r2 adverts-received counter above zero',
      () => (sample(scrape(p.r2, 9650), 'vigil_vrrp_adverts_received_total', { instance: 'VI_M' }) ?? 0) > 0,
      15_000,
      500,
    );

    // Failover shows in the backup's metrics without anyone asking for a status.
    const r2TakeoversBefore = sample(scrape(p.r2, 9650), 'vigil_vrrp_transitions_total', { instance: 'VI_M', from: 'BACKUP', to: 'MASTER' }) ?? 0;
    a.proc.kill('SIGTERM');
    t.is(await stopped(a), 0);
    await waitAddress(p.r2, 'eth0', VIP, true, 10_000);
    await waitFor(
      'r2 metrics saying MASTER',
      () => {
        const x = scrape(p.r2, 9650);
        return (
          sample(x, 'vigil_vrrp_state', { instance: 'VI_M' }) === 2 &&
          (sample(x, 'vigil_vrrp_transitions_total', { instance: 'VI_M', from: 'BACKUP', to: 'MASTER' }) ?? 0) > r2TakeoversBefore
        );
      },
      10_000,
      200,
    );
    b.proc.kill('SIGTERM');
    t.is(await stopped(b), 0);
  } catch (e) {
    dumpLogs(t, a, b);
    throw e;
  }
});

test.serial('SIGUSR1 writes /tmp/keepalived.data with the instance and MASTER; SIGUSR2 writes /tmp/keepalived.stats', async (t) => {
  if (!requireRoot(t)) return;
  const DATA = '/tmp/keepalived.data';
  const STATS = '/tmp/keepalived.stats';
  const clean = (): void => {
    rmSync(DATA, { force: true });
    rmSync(STATS, { force: true });
  };
  clean();
  t.teardown(clean);
  const p = build(t, 84);
  const VIP = '10.84.0.100';
  const conf = (state: 'MASTER' | 'BACKUP', prio: number): string =>
    globalDefs(`r${prio}`) + instanceBlock({ name: 'VI_DUMP', state, priority: prio, vip: `${VIP}/24`, advertInt: '0.1', version: 3 });
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf('MASTER', 150)));
  const b = startVigil(p.lab, p.r2, p.dir, 'r2', p.dir.file('r2.conf', conf('BACKUP', 100)));
  try {
    await waitReady(a, b);
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    await sleep(1000);
    t.false(existsSync(DATA));

    a.proc.kill('SIGUSR1');
    await waitFor(`${DATA} written`, () => existsSync(DATA) && outputOf(a).includes(DATA), 10_000, 50);
    const data = readFileSync(DATA, 'utf8');
    t.regex(data, /VI_DUMP/);
    t.regex(data, /MASTER/);
    t.log(data.split('\n').slice(0, 30).join('\n'));

    a.proc.kill('SIGUSR2');
    await waitFor(`${STATS} written`, () => existsSync(STATS) && outputOf(a).includes(STATS), 10_000, 50);
    const stats = readFileSync(STATS, 'utf8');
    t.regex(stats, /VI_DUMP/);
    t.log(stats.split('\n').slice(0, 30).join('\n'));

    // The daemon is unharmed by the signals and still exits cleanly.
    t.true(hasAddress(p.r1, 'eth0', VIP));
    a.proc.kill('SIGTERM');
    t.is(await stopped(a), 0);
    b.proc.kill('SIGTERM');
    t.is(await stopped(b), 0);
  } catch (e) {
    dumpLogs(t, a, b);
    throw e;
  }
});
