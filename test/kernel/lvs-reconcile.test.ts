/**
 * The LVS reconciler against a real kernel with ip_vs (inside ../shared/kernel-vm/run):
 * desired state from config + check results, applied through the real client, checked with
 * ipvsadm; outside changes repaired without touching unrelated entries; stop removes only
 * what vigil owns; and an end-to-end run — a client namespace sending HTTP through IPVS NAT
 * to node http servers in other namespaces, one server killed and brought back.
 */
import test from 'ava';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { openIpvs } from '../../src/netlink/ipvs/client.ts';
import type { IpvsControl } from '../../src/netlink/ipvs/types.ts';
import { computeDesired, type CheckResult, type LvsConfig, type LvsState } from '../../src/lvs/desired.ts';
import { realServerKey } from '../../src/lvs/keys.ts';
import { applyPlan, emptyOwned, planStop, readActual, reconcileOnce, type Owned } from '../../src/lvs/reconcile.ts';
import { NetnsLab, nsExec, waitFor } from '../helpers/netns.ts';
import { config, ipKey, loc, rs, vs } from '../unit/lvs/build.ts';
import { ipvsadm, sortRules, table, type Rule } from './ipvsadm.ts';

let ipvs: IpvsControl;

test.before(async () => {
  ipvs = await openIpvs({ timeoutMs: 10_000 });
});

test.after.always(async () => {
  await ipvs?.flush();
  await ipvs?.close();
});

test.beforeEach(async () => {
  await ipvs.flush();
});

/** One reconcile pass, as the supervisor runs it. */
async function reconcile(cfg: LvsConfig, checks: ReadonlyMap<string, CheckResult>, owned: Owned, prev?: LvsState) {
  const desired = computeDesired(cfg, checks, prev);
  const { ops, result } = await reconcileOnce(ipvs, desired.services, owned);
  return { desired, ops, result };
}

function desiredRules(cfg: LvsConfig, checks: ReadonlyMap<string, CheckResult>, prev?: LvsState): Rule[] {
  return sortRules(computeDesired(cfg, checks, prev).services.map((s) => ({ service: s.service, dests: [...s.dests] })));
}

const web = vs(ipKey('10.80.0.1', 80), [rs('10.81.0.1', 8080, { weight: 3 }), rs('10.81.0.2', 8080, { inhibitOnFailure: true }), rs('10.81.0.3', 8080, { lbKind: 'DR', upperThreshold: 40 })], {
  lbAlgo: 'wrr',
  persistenceTimeoutMs: 600_000,
  persistenceGranularity: '255.255.255.0',
  sorryServer: { address: '10.81.9.9', port: 80 },
  quorum: 2,
});
const dns = vs(ipKey('2001:db8:80::1', 53), [rs('2001:db8:81::1', 53), rs('2001:db8:81::2', 53)], { protocol: 'UDP', lbAlgo: 'sh', schedFlags: ['sh-port'] });
const grouped = vs({ kind: 'group', name: 'farm' }, [rs('10.82.0.1', 443)], { lbAlgo: 'lc' });
const farm = {
  name: 'farm',
  loc,
  entries: [
    { kind: 'ip' as const, address: '10.83.0.1', family: 4 as const, port: 443, rangeEnd: '3', loc },
    { kind: 'fwmark' as const, fwmark: 21, loc },
  ],
};
const cfg = config([web, dns, grouped], [farm]);

test.serial('from config to kernel: the table ipvsadm shows is the desired one', async (t) => {
  const owned = emptyOwned();
  const { result } = await reconcile(cfg, new Map(), owned);
  t.deepEqual(result.failed, []);
  t.is(result.applied, 1 + 3 + (1 + 2) + 4 * (1 + 1), 'web and its 3 dests, dns and its 2, 4 group services and 1 dest each');
  t.deepEqual(table(), desiredRules(cfg, new Map()));
  // a second pass changes nothing
  const again = await reconcile(cfg, new Map(), owned);
  t.deepEqual(again.ops, []);
});

test.serial('check results: down → removed or weight 0, quorum lost → sorry server alone, and back', async (t) => {
  const owned = emptyOwned();
  const first = await reconcile(cfg, new Map(), owned);
  const [a, b, c] = web.realServers;
  // c goes down: removed; live weight 3+1 = 4 ≥ 2, quorum holds
  const c1 = new Map([[realServerKey(web, c!), { up: false }]]);
  const step1 = await reconcile(cfg, c1, owned, first.desired.state);
  t.deepEqual(step1.ops.map((o) => o.op), ['del-dest']);
  t.deepEqual(table(), desiredRules(cfg, c1, first.desired.state));
  // a and b down too: quorum lost, sorry server in alone; b (inhibit) stays at weight 0
  const c2 = new Map([...c1, [realServerKey(web, a!), { up: false }], [realServerKey(web, b!), { up: false }]]);
  const step2 = await reconcile(cfg, c2, owned, step1.desired.state);
  t.deepEqual(step2.desired.transitions.map((x) => x.type), ['rs-down', 'rs-down', 'quorum-down']);
  const webRule = table().find((r) => r.service.address === '10.80.0.1');
  t.deepEqual(webRule?.dests.map((d) => [d.address, d.weight]), [
    ['10.81.0.2', 0],
    ['10.81.9.9', 1],
  ]);
  t.deepEqual(step2.ops.map((o) => o.op).sort(), ['add-dest', 'del-dest', 'edit-dest'], 'a removed, b edited to 0, sorry added');
  // all back
  const step3 = await reconcile(cfg, new Map(), owned, step2.desired.state);
  t.deepEqual(step3.desired.transitions.map((x) => x.type), ['rs-up', 'rs-up', 'rs-up', 'quorum-up']);
  t.deepEqual(table(), desiredRules(cfg, new Map()));
});

test.serial('outside changes are repaired; unrelated entries are left alone; stop removes only ours', async (t) => {
  // before vigil starts: a matching service left by someone (adopted), and a foreign one
  ipvsadm(['-A', '-t', '10.80.0.1:80', '-s', 'wrr', '-p', '600', '-M', '255.255.255.0']);
  ipvsadm(['-a', '-t', '10.80.0.1:80', '-r', '10.81.0.1:8080', '-m', '-w', '3']);
  ipvsadm(['-A', '-t', '10.99.0.1:80', '-s', 'rr']);
  ipvsadm(['-a', '-t', '10.99.0.1:80', '-r', '10.98.0.1:80', '-m']);
  const owned = emptyOwned();
  const start = await reconcile(cfg, new Map(), owned);
  t.deepEqual(start.result.failed, []);
  t.false(
    start.ops.some((o) => (o.op === 'add-service' || o.op === 'add-dest' || o.op.startsWith('del')) && (o.service.address === '10.80.0.1' && (!('dest' in o) || o.dest.address === '10.81.0.1'))),
    'the matching service and dest are adopted, not re-created',
  );
  t.true(start.ops.some((o) => o.op === 'adopt-service' && o.service.address === '10.80.0.1'));
  const foreign = (): Rule | undefined => table().find((r) => r.service.address === '10.99.0.1');
  t.truthy(foreign());

  // outside changes: one of our dests deleted, one re-weighted, a foreign dest added to our
  // service, one of our group services deleted, the scheduler of another changed
  ipvsadm(['-d', '-t', '10.80.0.1:80', '-r', '10.81.0.2:8080']);
  ipvsadm(['-e', '-t', '10.80.0.1:80', '-r', '10.81.0.1:8080', '-m', '-w', '7']);
  ipvsadm(['-a', '-t', '10.80.0.1:80', '-r', '10.97.0.1:8080', '-m', '-w', '1']);
  ipvsadm(['-D', '-t', '10.83.0.2:443']);
  ipvsadm(['-E', '-u', '[2001:db8:80::1]:53', '-s', 'rr']);
  const repair = await reconcile(cfg, new Map(), owned);
  t.deepEqual(repair.result.failed, []);
  t.deepEqual(
    repair.ops.map((o) => `${o.op} ${'dest' in o ? o.dest.address : (o.service.address ?? o.service.fwmark)}`).sort(),
    ['add-dest 10.81.0.2', 'add-dest 10.82.0.1', 'add-service 10.83.0.2', 'edit-dest 10.81.0.1', 'edit-service 2001:db8:80::1'],
  );
  const now = table();
  const webRule = now.find((r) => r.service.address === '10.80.0.1');
  t.truthy(webRule?.dests.find((d) => d.address === '10.97.0.1'), 'the foreign dest in our service stays');
  t.deepEqual(foreign(), { service: { family: 4, protocol: 'TCP', address: '10.99.0.1', port: 80, scheduler: 'rr' }, dests: [{ address: '10.98.0.1', family: 4, port: 80, forward: 'NAT', weight: 1 }] });
  const want = desiredRules(cfg, new Map());
  t.deepEqual(
    now.filter((r) => r.service.address !== '10.99.0.1').map((r) => ({ ...r, dests: r.dests.filter((d) => d.address !== '10.97.0.1') })),
    want,
  );

  // stop: ours go, the foreign service stays (with its dest)
  const stop = await applyPlan(ipvs, planStop(await readActual(ipvs), owned), owned);
  t.deepEqual(stop.failed, []);
  t.deepEqual(table(), [foreign()!]);
  t.is(owned.services.size, 0);
});

// ------------------------------------------------------------------------------------------
// End to end: client → IPVS NAT (this VM's root namespace) → node http servers

const VIP = '10.77.0.100';

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A veth from the root namespace (the director) to `ns`, addressed /24, default route back. */
function link(ns: string, rootIf: string, net: string): void {
  ip(['link', 'add', rootIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  ip(['addr', 'add', `${net}.1/24`, 'dev', rootIf]);
  ip(['link', 'set', rootIf, 'up']);
  nsExec(ns, ['ip', 'addr', 'add', `${net}.2/24`, 'dev', 'eth0']);
  nsExec(ns, ['ip', 'link', 'set', 'eth0', 'up']);
  nsExec(ns, ['ip', 'route', 'add', 'default', 'via', `${net}.1`]);
}

const SERVER = `
const http = require('node:http');
const name = process.argv[1];
http.createServer((req, res) => res.end(name + '\\n')).listen(8080, '0.0.0.0', () => console.log('listening'));
`;

function startServer(lab: NetnsLab, ns: string, name: string): Promise<ChildProcess> {
  const child = lab.spawnIn(ns, ['node', '-e', SERVER, name]);
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (b: Buffer) => {
      if (b.toString().includes('listening')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`server ${name} exited with ${code}`)));
  });
}

function get(client: string): string {
  return nsExec(client, ['curl', '-s', '--max-time', '5', `http://${VIP}/`]).trim();
}

test.serial('end to end: HTTP through IPVS NAT; a server killed is taken out, the client keeps being served', async (t) => {
  const lab = new NetnsLab('lvs');
  t.teardown(() => lab.removeAll());
  const client = lab.addNs('cl');
  const ns1 = lab.addNs('r1');
  const ns2 = lab.addNs('r2');
  link(client, `${lab.tag}c`, '10.77.1');
  link(ns1, `${lab.tag}1`, '10.77.2');
  link(ns2, `${lab.tag}2`, '10.77.3');
  ip(['addr', 'add', `${VIP}/32`, 'dev', 'lo']);
  t.teardown(() => ip(['addr', 'del', `${VIP}/32`, 'dev', 'lo']));
  execFileSync('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);

  const [srv1, srv2] = await Promise.all([startServer(lab, ns1, 'rs1'), startServer(lab, ns2, 'rs2')]);
  t.truthy(srv1);
  const r1 = rs('10.77.2.2', 8080);
  const r2 = rs('10.77.3.2', 8080);
  const e2e = vs(ipKey(VIP, 80), [r1, r2], { lbAlgo: 'rr', lbKind: 'NAT' });
  const ecfg = config([e2e]);
  const owned = emptyOwned();
  const checks = new Map<string, CheckResult>();
  let state = (await reconcile(ecfg, checks, owned)).desired.state;

  const seen = new Set<string>();
  for (let i = 0; i < 6; i++) seen.add(get(client));
  t.deepEqual([...seen].sort(), ['rs1', 'rs2'], 'round robin over both real servers');

  // a connection opened now survives a reconcile pass (nothing is touched: no kernel op)
  const held = spawn('ip', ['netns', 'exec', client, 'bash', '-c', `exec 3<>/dev/tcp/${VIP}/80; sleep 4; printf 'GET / HTTP/1.1\\r\\nHost: v\\r\\nConnection: close\\r\\n\\r\\n' >&3; cat <&3`], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let heldOut = '';
  held.stdout.on('data', (b: Buffer) => (heldOut += b.toString()));
  await waitFor('the held connection in the IPVS connection table', () => /ESTABLISHED/.test(ipvsadm(['-Lnc'])), 10_000, 100);
  const pass = await reconcile(ecfg, checks, owned, state);
  t.deepEqual(pass.ops, []);
  await new Promise<void>((resolve) => held.once('exit', () => resolve()));
  t.regex(heldOut, /^HTTP\/1\.1 200 OK[\s\S]*rs[12]\n$/);

  // rs2 dies; its check reports it down; vigil takes it out; every request is still served
  srv2.kill('SIGKILL');
  checks.set(realServerKey(e2e, r2), { up: false });
  const down = await reconcile(ecfg, checks, owned, state);
  state = down.desired.state;
  t.deepEqual(down.ops.map((o) => o.op), ['del-dest']);
  t.deepEqual(down.desired.transitions.map((x) => x.type), ['rs-down']);
  for (let i = 0; i < 4; i++) t.is(get(client), 'rs1');

  // rs2 comes back; up again; both serve
  await startServer(lab, ns2, 'rs2');
  checks.set(realServerKey(e2e, r2), { up: true });
  const up = await reconcile(ecfg, checks, owned, state);
  t.deepEqual(up.ops.map((o) => o.op), ['add-dest']);
  const again = new Set<string>();
  for (let i = 0; i < 6; i++) again.add(get(client));
  t.deepEqual([...again].sort(), ['rs1', 'rs2']);
});
