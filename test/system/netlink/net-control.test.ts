/**
 * NetControl against the real kernel, in namespaces built and removed per test. The API runs
 * inside the namespace (fixture scripts under `ip netns exec`, since a netlink socket talks to
 * the namespace of the process that opened it); every effect is checked independently with
 * `ip -j` in that namespace.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { NetnsLab, nsExec, requireRoot, waitFor } from '../../helpers/netns.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIX = fileURLToPath(new URL('./fixtures/', import.meta.url));

type Result = { ok: unknown } | { code: string; message: string };

interface AddrInfo {
  family: string;
  local: string;
  address?: string;
  prefixlen: number;
  scope: string;
  label?: string;
  broadcast?: string;
  nodad?: boolean;
  noprefixroute?: boolean;
  tentative?: boolean;
  deprecated?: boolean;
  preferred_life_time?: number;
  valid_life_time?: number;
}

function lab(t: ExecutionContext): { ns: string; peer: string } | undefined {
  if (!requireRoot(t)) return undefined;
  const l = new NetnsLab('vnl');
  t.teardown(() => l.removeAll());
  const ns = l.addNs('a');
  const peer = l.addNs('b');
  l.veth(ns, 'eth0', peer, 'eth0', { macA: '02:00:00:00:0a:01', macB: '02:00:00:00:0b:01' });
  return { ns, peer };
}

function ops(ns: string, list: unknown[], env: Record<string, string> = {}): Result[] {
  const out = execFileSync(
    'ip',
    ['netns', 'exec', ns, process.execPath, '--import', 'tsx', `${FIX}nc-ops.ts`, JSON.stringify(list)],
    { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return JSON.parse(out) as Result[];
}

function addrs(ns: string, dev = 'eth0'): AddrInfo[] {
  const j = JSON.parse(nsExec(ns, ['ip', '-j', 'addr', 'show', 'dev', dev])) as Array<{ addr_info: AddrInfo[] }>;
  return j[0]?.addr_info ?? [];
}

function routes(ns: string, args: string[]): Array<Record<string, unknown>> {
  return JSON.parse(nsExec(ns, ['ip', '-j', ...args])) as Array<Record<string, unknown>>;
}

const ok = (v: unknown): Result => ({ ok: v });

test('IPv4 VIP with label, scope and broadcast: added, present, listed, removed, absent', (t) => {
  const l = lab(t);
  if (!l) return t.pass();
  const vip = { ifname: 'eth0', address: '192.0.2.10', prefixLen: 24, family: 4, label: 'eth0:vip', scope: 'link', broadcast: '+' };
  const r = ops(l.ns, [
    { m: 'addAddress', a: [vip] },
    { m: 'addAddress', a: [vip] },
    { m: 'listAddresses', a: ['eth0'] },
  ]);
  t.deepEqual(r.slice(0, 2), [ok('added'), ok('present')]);
  const listed = (r[2] as { ok: Array<Record<string, unknown>> }).ok.filter((a) => a['family'] === 4);
  t.deepEqual(listed, [{ ...vip, scope: 'link', broadcast: '192.0.2.255', ifindex: listed[0]?.['ifindex'] }]);
  const a = addrs(l.ns).filter((x) => x.family === 'inet');
  t.is(a.length, 1);
  t.like(a[0], { local: '192.0.2.10', prefixlen: 24, scope: 'link', label: 'eth0:vip', broadcast: '192.0.2.255' });
  t.deepEqual(ops(l.ns, [{ m: 'removeAddress', a: [vip] }, { m: 'removeAddress', a: [vip] }]), [ok('removed'), ok('absent')]);
  t.deepEqual(addrs(l.ns).filter((x) => x.family === 'inet'), []);
});

test('IPv4 point-to-point peer, noprefixroute, explicit broadcast; a /32 VIP', (t) => {
  const l = lab(t);
  if (!l) return t.pass();
  const p2p = { ifname: 'eth0', address: '10.10.0.1', prefixLen: 32, family: 4, peer: '10.10.0.2' };
  const npr = { ifname: 'eth0', address: '10.20.0.1', prefixLen: 24, family: 4, noPrefixRoute: true, broadcast: '10.20.0.127' };
  const host = { ifname: 'eth0', address: '10.30.0.1', prefixLen: 32, family: 4 };
  t.deepEqual(ops(l.ns, [{ m: 'addAddress', a: [p2p] }, { m: 'addAddress', a: [npr] }, { m: 'addAddress', a: [host] }]), [
    ok('added'),
    ok('added'),
    ok('added'),
  ]);
  const a = addrs(l.ns).filter((x) => x.family === 'inet');
  t.like(a.find((x) => x.local === '10.10.0.1'), { address: '10.10.0.2', prefixlen: 32 });
  t.like(a.find((x) => x.local === '10.20.0.1'), { noprefixroute: true, broadcast: '10.20.0.127' });
  t.like(a.find((x) => x.local === '10.30.0.1'), { prefixlen: 32 });
  const main = routes(l.ns, ['route', 'show', 'table', 'main']).map((r) => r['dst']);
  t.false(main.includes('10.20.0.0/24'), 'noprefixroute: no prefix route');
  t.deepEqual(ops(l.ns, [{ m: 'removeAddress', a: [p2p] }, { m: 'removeAddress', a: [npr] }, { m: 'removeAddress', a: [host] }]), [
    ok('removed'),
    ok('removed'),
    ok('removed'),
  ]);
  t.deepEqual(addrs(l.ns).filter((x) => x.family === 'inet'), []);
});

test('IPv6 VIP is added with nodad (never tentative), noprefixroute, /128 deprecated; present and absent', (t) => {
  const l = lab(t);
  if (!l) return t.pass();
  const vip6 = { ifname: 'eth0', address: '2001:db8:1::10', prefixLen: 64, family: 6 };
  const vip6npr = { ifname: 'eth0', address: '2001:db8:2::10', prefixLen: 64, family: 6, noPrefixRoute: true };
  const host6 = { ifname: 'eth0', address: '2001:db8:3::10', prefixLen: 128, family: 6 };
  t.deepEqual(
    ops(l.ns, [
      { m: 'addAddress', a: [vip6] },
      { m: 'addAddress', a: [vip6] },
      { m: 'addAddress', a: [vip6npr] },
      { m: 'addAddress', a: [host6] },
    ]),
    [ok('added'), ok('present'), ok('added'), ok('added')],
  );
  const a = addrs(l.ns).filter((x) => x.family === 'inet6');
  const one = a.find((x) => x.local === '2001:db8:1::10');
  t.like(one, { prefixlen: 64, nodad: true });
  t.not(one?.tentative, true, 'usable at once: no DAD');
  t.like(a.find((x) => x.local === '2001:db8:2::10'), { nodad: true, noprefixroute: true });
  // keepalived 2.2.7 adds a /128 VIP deprecated, so the host never sources its own traffic from it.
  t.like(a.find((x) => x.local === '2001:db8:3::10'), { nodad: true, deprecated: true, preferred_life_time: 0, valid_life_time: 4294967295 });
  t.not(one?.deprecated, true);
  const r6 = routes(l.ns, ['-6', 'route', 'show', 'table', 'main']).map((r) => r['dst']);
  t.true(r6.includes('2001:db8:1::/64'));
  t.false(r6.includes('2001:db8:2::/64'));
  t.deepEqual(
    ops(l.ns, [
      { m: 'removeAddress', a: [vip6] },
      { m: 'removeAddress', a: [vip6] },
      { m: 'removeAddress', a: [vip6npr] },
      { m: 'removeAddress', a: [host6] },
    ]),
    [ok('removed'), ok('absent'), ok('removed'), ok('removed')],
  );
  t.deepEqual(addrs(l.ns).filter((x) => x.family === 'inet6' && x.scope === 'global'), []);
});

test('removal takes only the same prefix: an operator address with another prefix survives', (t) => {
  const l = lab(t);
  if (!l) return t.pass();
  nsExec(l.ns, ['ip', 'addr', 'add', '192.0.2.10/16', 'dev', 'eth0']);
  const r = ops(l.ns, [{ m: 'removeAddress', a: [{ ifname: 'eth0', address: '192.0.2.10', prefixLen: 24, family: 4 }] }]);
  t.deepEqual(r, [ok('absent')]);
  t.like(addrs(l.ns).find((x) => x.family === 'inet'), { local: '192.0.2.10', prefixlen: 16 });
});

test('a missing interface: VIGIL_NL_ENODEV naming it; removal, getLink, deleteLink say absent', (t) => {
  const l = lab(t);
  if (!l) return t.pass();
  const ghost = { ifname: 'eth9', address: '192.0.2.10', prefixLen: 24, family: 4 };
  const r = ops(l.ns, [
    { m: 'addAddress', a: [ghost] },
    { m: 'removeAddress', a: [ghost] },
    { m: 'getLink', a: ['eth9'] },
    { m: 'deleteLink', a: ['eth9'] },
    { m: 'addRoute', a: [{ to: '198.51.100.0', prefixLen: 24, family: 4, ifname: 'eth9' }] },
    { m: 'addAddress', a: [{ ...ghost, ifname: 'eth0', address: '192.0.2.300' }] },
    { m: 'addRoute', a: [{ to: '198.51.100.0', prefixLen: 24, family: 4, via: '203.0.113.1' }] },
  ]);
  const e0 = r[0] as { code: string; message: string };
  t.is(e0.code, 'VIGIL_NL_ENODEV');
  t.regex(e0.message, /eth9/);
  t.regex(e0.message, /192\.0\.2\.10\/24/);
  t.deepEqual(r.slice(1, 4), [ok('absent'), ok(null), ok('absent')]);
  t.like(r[4], { code: 'VIGIL_NL_ENODEV' });
  t.like(r[5], { code: 'VIGIL_NL_INVALID_SPEC' });
  // Gateway not on any connected network: the kernel's own refusal, typed.
  t.like(r[6], { code: 'VIGIL_NL_ENETUNREACH' });
  t.regex((r[6] as { message: string }).message, /198\.51\.100\.0\/24 via 203\.0\.113\.1/);
});

test('getLink and listLinks agree with ip -j link, also when the link is down', (t) => {
  const l = lab(t);
  if (!l) return t.pass();
  nsExec(l.ns, ['ip', 'link', 'set', 'eth0', 'mtu', '1400']);
  const [g, list] = ops(l.ns, [{ m: 'getLink', a: ['eth0'] }, { m: 'listLinks' }]) as [{ ok: Record<string, unknown> }, { ok: Array<Record<string, unknown>> }];
  const ipl = (JSON.parse(nsExec(l.ns, ['ip', '-j', 'link', 'show', 'eth0'])) as Array<Record<string, unknown>>)[0]!;
  t.deepEqual(g.ok, { ifindex: ipl['ifindex'], ifname: 'eth0', mac: '020000000a01', up: true, running: true, mtu: 1400 });
  t.deepEqual(list.ok.map((x) => x['ifname']).sort(), ['eth0', 'lo']);
  nsExec(l.peer, ['ip', 'link', 'set', 'eth0', 'down']);
  const [carrierLost] = ops(l.ns, [{ m: 'getLink', a: ['eth0'] }]) as [{ ok: Record<string, unknown> }];
  t.like(carrierLost.ok, { up: true, running: false });
  nsExec(l.ns, ['ip', 'link', 'set', 'eth0', 'down']);
  const [down] = ops(l.ns, [{ m: 'getLink', a: ['eth0'] }]) as [{ ok: Record<string, unknown> }];
  t.like(down.ok, { up: false, running: false });
});

test('routes: via/src/dev/metric in a table, blackhole v4 and v6, present/absent; an operator route is left alone', (t) => {
  const l = lab(t);
  if (!l) return t.pass();
  nsExec(l.ns, ['ip', 'addr', 'add', '192.0.2.10/24', 'dev', 'eth0']);
  nsExec(l.ns, ['ip', 'addr', 'add', '2001:db8:1::10/64', 'dev', 'eth0', 'nodad']);
  const via = { to: '198.51.100.0', prefixLen: 24, family: 4, via: '192.0.2.1', src: '192.0.2.10', ifname: 'eth0', table: 100, metric: 7 };
  const bh4 = { to: '203.0.113.0', prefixLen: 24, family: 4, type: 'blackhole' };
  const bh6 = { to: '2001:db8:dead::', prefixLen: 48, family: 6, type: 'blackhole', table: 1000 };
  const v6 = { to: '2001:db8:beef::', prefixLen: 48, family: 6, via: '2001:db8:1::1', ifname: 'eth0', metric: 50 };
  const r = ops(l.ns, [
    { m: 'addRoute', a: [via] },
    { m: 'addRoute', a: [via] },
    { m: 'addRoute', a: [bh4] },
    { m: 'addRoute', a: [bh6] },
    { m: 'addRoute', a: [v6] },
  ]);
  t.deepEqual(r, [ok('added'), ok('present'), ok('added'), ok('added'), ok('added')]);
  t.like(routes(l.ns, ['route', 'show', 'table', '100'])[0], {
    dst: '198.51.100.0/24',
    gateway: '192.0.2.1',
    dev: 'eth0',
    prefsrc: '192.0.2.10',
    metric: 7,
    protocol: 'keepalived',
  });
  t.like(routes(l.ns, ['route', 'show', '203.0.113.0/24'])[0], { type: 'blackhole', dst: '203.0.113.0/24' });
  t.like(routes(l.ns, ['-6', 'route', 'show', 'table', '1000'])[0], { type: 'blackhole', dst: '2001:db8:dead::/48' });
  t.like(routes(l.ns, ['-6', 'route', 'show', '2001:db8:beef::/48'])[0], { gateway: '2001:db8:1::1', metric: 50 });

  // An operator's static route to the same prefix is not vigil's to remove.
  nsExec(l.ns, ['ip', 'route', 'add', '198.51.100.0/24', 'via', '192.0.2.1', 'table', '200']);
  const gone = ops(l.ns, [
    { m: 'removeRoute', a: [via] },
    { m: 'removeRoute', a: [via] },
    { m: 'removeRoute', a: [bh4] },
    { m: 'removeRoute', a: [bh6] },
    { m: 'removeRoute', a: [v6] },
    { m: 'removeRoute', a: [{ ...via, table: 200 }] },
  ]);
  t.deepEqual(gone, [ok('removed'), ok('absent'), ok('removed'), ok('removed'), ok('removed'), ok('absent')]);
  t.deepEqual(routes(l.ns, ['route', 'show', 'table', '100']), []);
  t.deepEqual(routes(l.ns, ['route', 'show', '203.0.113.0/24']), []);
  t.deepEqual(routes(l.ns, ['-6', 'route', 'show', 'table', '1000']), []);
  t.is(routes(l.ns, ['route', 'show', 'table', '200']).length, 1, 'the operator route survives');
});

test('use_vmac: macvlan in private mode with the virtual MAC, up, no link-local, ARP sysctls as keepalived; present, replaced, deleted', (t) => {
  const l = lab(t);
  if (!l) return t.pass();
  const mac4 = { hex: '00005e000133' }; // VRID 51, IPv4
  const mac6 = { hex: '00005e000233' };
  const conf = (dev: string, key: string): string => nsExec(l.ns, ['cat', `/proc/sys/net/ipv4/conf/${dev}/${key}`]).trim();
  t.deepEqual([conf('eth0', 'arp_ignore'), conf('eth0', 'arp_filter')], ['0', '0']);
  const r = ops(l.ns, [
    { m: 'addMacvlan', a: ['eth0', 'vrrp.51', mac4] },
    { m: 'addMacvlan', a: ['eth0', 'vrrp.51', mac4] },
    { m: 'getLink', a: ['vrrp.51'] },
  ]);
  t.deepEqual(r.slice(0, 2), [ok('added'), ok('present')]);
  t.like((r[2] as { ok: Record<string, unknown> }).ok, { ifname: 'vrrp.51', mac: '00005e000133', up: true });
  const link = (JSON.parse(nsExec(l.ns, ['ip', '-d', '-j', 'link', 'show', 'vrrp.51'])) as Array<Record<string, unknown>>)[0]!;
  t.like(link, { link: 'eth0', address: '00:00:5e:00:01:33', inet6_addr_gen_mode: 'none' });
  t.like(link['linkinfo'], { info_kind: 'macvlan', info_data: { mode: 'private' } });
  t.true((link['flags'] as string[]).includes('UP'));
  t.deepEqual(addrs(l.ns, 'vrrp.51'), [], 'no EUI-64 link-local from the shared MAC');
  // The parent answers ARP only for its own addresses; the VIP is answered with the virtual MAC.
  t.deepEqual([conf('eth0', 'arp_ignore'), conf('eth0', 'arp_filter')], ['1', '1']);
  t.deepEqual([conf('vrrp.51', 'arp_ignore'), conf('vrrp.51', 'accept_local'), conf('vrrp.51', 'rp_filter')], ['1', '1', '0']);

  // One process that finds the parent at 0/0 puts 0/0 back when its last IPv4 VMAC goes.
  nsExec(l.ns, ['sh', '-c', 'echo 0 > /proc/sys/net/ipv4/conf/eth0/arp_ignore; echo 0 > /proc/sys/net/ipv4/conf/eth0/arp_filter']);
  t.deepEqual(ops(l.ns, [{ m: 'addMacvlan', a: ['eth0', 'vrrp.51', mac4] }, { m: 'deleteLink', a: ['vrrp.51'] }]), [
    ok('present'),
    ok('removed'),
  ]);
  t.deepEqual([conf('eth0', 'arp_ignore'), conf('eth0', 'arp_filter')], ['0', '0']);
  t.throws(() => nsExec(l.ns, ['ip', 'link', 'show', 'vrrp.51']));

  // Same name, another MAC (an earlier configuration): replaced. An IPv6 VMAC needs no ARP settings.
  const r2 = ops(l.ns, [{ m: 'addMacvlan', a: ['eth0', 'vrrp.51', mac4] }, { m: 'addMacvlan', a: ['eth0', 'vrrp.51', mac6] }]);
  t.deepEqual(r2, [ok('added'), ok('added')]);
  const link2 = (JSON.parse(nsExec(l.ns, ['ip', '-j', 'link', 'show', 'vrrp.51'])) as Array<Record<string, unknown>>)[0]!;
  t.is(link2['address'], '00:00:5e:00:02:33');
  t.deepEqual([conf('eth0', 'arp_ignore'), conf('eth0', 'arp_filter')], ['0', '0'], 'no IPv4 VMAC left on eth0: put back');

  // A device that is not a macvlan is never taken over.
  nsExec(l.ns, ['ip', 'link', 'add', 'notmv', 'type', 'veth', 'peer', 'name', 'notmv2']);
  const r3 = ops(l.ns, [
    { m: 'addMacvlan', a: ['eth0', 'notmv', mac4] },
    { m: 'addMacvlan', a: ['eth7', 'vrrp.52', mac4] },
    { m: 'deleteLink', a: ['vrrp.51'] },
    { m: 'deleteLink', a: ['vrrp.51'] },
  ]);
  t.like(r3[0], { code: 'VIGIL_NL_EEXIST' });
  t.regex((r3[0] as { message: string }).message, /notmv exists and is not a macvlan/);
  t.like(r3[1], { code: 'VIGIL_NL_ENODEV' });
  t.regex((r3[1] as { message: string }).message, /eth7/);
  t.deepEqual(r3.slice(2), [ok('removed'), ok('absent')]);
  t.throws(() => nsExec(l.ns, ['ip', 'link', 'show', 'vrrp.51']));
  t.notThrows(() => nsExec(l.ns, ['ip', 'link', 'show', 'notmv']));
});

test('watchLinks reports down, up and a deleted link as transitions', async (t) => {
  if (!requireRoot(t)) return t.pass();
  const l = new NetnsLab('vnl');
  t.teardown(() => l.removeAll());
  const ns = l.addNs('w');
  const peer = l.addNs('p');
  l.veth(ns, 'eth0', peer, 'eth0');
  nsExec(ns, ['ip', 'link', 'add', 'tmp0', 'type', 'veth', 'peer', 'name', 'tmp1']);
  const child = l.spawnIn(ns, [process.execPath, '--import', 'tsx', `${FIX}watch-links.ts`, 'tmp0,tmp1'], { cwd: ROOT });
  const events: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => events.push(JSON.parse(line) as Record<string, unknown>));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  await waitFor('watcher ready', () => events.some((e) => e['ready']), 20_000);

  nsExec(ns, ['ip', 'link', 'set', 'eth0', 'down']);
  await waitFor('eth0 down event', () => events.some((e) => e['ifname'] === 'eth0' && e['up'] === false), 10_000);
  nsExec(ns, ['ip', 'link', 'set', 'eth0', 'up']);
  await waitFor('eth0 running again', () => events.some((e) => e['ifname'] === 'eth0' && e['up'] === true && e['running'] === true), 10_000);
  nsExec(ns, ['ip', 'link', 'del', 'tmp0']);
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('hung'), 15_000))]);
  t.is(code, 0, `watcher must exit by itself after unsubscribe+close; stderr: ${stderr}`);

  const eth0 = events.filter((e) => e['ifname'] === 'eth0').map((e) => `${String(e['kind'])}:${String(e['up'])}/${String(e['running'])}`);
  t.is(eth0[0], 'new:false/false', 'first the down');
  t.is(eth0[eth0.length - 1], 'new:true/true', 'last the up-and-running');
  for (let i = 1; i < eth0.length; i++) t.not(eth0[i], eth0[i - 1], 'transitions only, no repeated samples');
  t.true(events.some((e) => e['kind'] === 'del' && e['ifname'] === 'tmp0'));
  t.true(events.some((e) => e['kind'] === 'del' && e['ifname'] === 'tmp1'), 'the veth peer goes with it');
  t.false(events.some((e) => e['ifname'] === 'lo'), 'an untouched link is not reported');
});

test('deadlines: a request nobody answers ends VIGIL_NL_TIMEOUT; close() settles everything at once; the process exits', (t) => {
  if (!requireRoot(t)) return t.pass();
  const l = new NetnsLab('vnl');
  t.teardown(() => l.removeAll());
  const ns = l.addNs('d');
  const t0 = performance.now();
  const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', `${FIX}deadline.ts`], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  const wall = performance.now() - t0;
  const r = JSON.parse(out) as {
    timeoutMs: number;
    timedOut: { code: string; message: string; ms: number };
    afterClose: Array<{ code: string; message: string; ms: number }>;
    closeMs: number;
    late: { code: string };
    received: number;
    lo: string | null;
    hardened: boolean;
  };
  t.is(r.timedOut.code, 'VIGIL_NL_TIMEOUT');
  t.regex(r.timedOut.message, /interface eth0/);
  t.true(r.timedOut.ms >= r.timeoutMs - 5, `ended at ${r.timedOut.ms} ms, deadline ${r.timeoutMs} ms`);
  t.true(r.received >= 2, 'the requests really went out on the socket');
  t.deepEqual(r.afterClose.map((x) => x.code), ['VIGIL_NL_CLOSED', 'VIGIL_NL_CLOSED', 'VIGIL_NL_CLOSED']);
  t.true(r.closeMs < r.timeoutMs, `close settled them before any deadline (${r.closeMs} ms)`);
  t.is(r.late.code, 'VIGIL_NL_CLOSED');
  t.is(r.lo, 'lo');
  t.true(r.hardened, 'NETLINK_NO_ENOBUFS set on the request socket');
  t.true(wall < 25_000);
});

test('link events lost to a full socket buffer: no abort, the table is re-read and the net change reported', (t) => {
  if (!requireRoot(t)) return t.pass();
  const l = new NetnsLab('vnl');
  t.teardown(() => l.removeAll());
  const ns = l.addNs('o');
  const peer = l.addNs('q');
  l.veth(ns, 'eth0', peer, 'eth0');
  nsExec(ns, ['ip', 'link', 'add', 'tmp0', 'type', 'veth', 'peer', 'name', 'tmp1']);
  // With the netlink package an ENOBUFS on this socket used to abort the process
  // ("terminate called after throwing an instance of 'Napi::Error'"); execFileSync throws then.
  const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', `${FIX}watch-overrun.ts`], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  const r = JSON.parse(out) as { overruns: number; events: Array<{ kind: string; ifname: string; up: boolean; running: boolean }> };
  t.true(r.overruns >= 1, 'the drops were noticed');
  const eth0 = r.events.filter((e) => e.ifname === 'eth0');
  t.like(eth0[eth0.length - 1], { kind: 'new', up: true, running: true }, 'the final state of eth0 is reported');
  t.true(r.events.some((e) => e.kind === 'del' && e.ifname === 'tmp0'));
  t.true(r.events.some((e) => e.kind === 'del' && e.ifname === 'tmp1'));
});
