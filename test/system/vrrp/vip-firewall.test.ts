/**
 * global_defs `nftables` (and `vrrp_iptables`, run the same way): a MASTER in no-accept mode
 * drops what is sent to its VIPs (keepalived vrrp_nftables.c; RFC 5798 Accept_Mode False),
 * a BACKUP has nothing to drop, accept mode answers, and the tables go at reload and stop.
 * Read back from the kernel with `nft -j`, in namespaces built here.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { NetnsLab, nsExec, requireRoot, waitFor } from '../../helpers/netns.ts';
import { globalDefs, hasAddress, instanceBlock, reloadVigil, outputOf, routerLab, startVigil, waitAddress, waitReady, type Router } from '../../helpers/routers.ts';
import { NftVipFirewall, nftCommand } from '../../../src/supervisor/vip-firewall.ts';

const NET = 141;
const VIP = `10.${NET}.0.100`;

interface NftRule {
  chain: string;
  expr: Array<Record<string, unknown>>;
}

/** The kernel's view of family `fam`'s table `table`: its sets' elements and its rules; undefined when there is no such table. */
function readTable(ns: string, fam: 'ip' | 'ip6', table = 'keepalived'): { sets: Record<string, string[]>; rules: NftRule[] } | undefined {
  const r = spawnSync('ip', ['netns', 'exec', ns, nftCommand(), '-j', 'list', 'table', fam, table], { encoding: 'utf8' });
  if (r.status !== 0 || r.stdout.trim() === '') return undefined;
  const items = (JSON.parse(r.stdout) as { nftables: Array<Record<string, Record<string, unknown>>> }).nftables;
  const sets: Record<string, string[]> = {};
  const rules: NftRule[] = [];
  for (const it of items) {
    if (it['set']) {
      const elem = (it['set']['elem'] as unknown[] | undefined) ?? [];
      sets[it['set']['name'] as string] = elem.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
    }
    if (it['rule']) rules.push(it['rule'] as unknown as NftRule);
  }
  return { sets, rules };
}

/** packets counted by the `ip daddr @vips` drop rule of the input chain */
function dropCount(ns: string): number {
  const t = readTable(ns, 'ip');
  const rule = t?.rules.find((r) => r.chain === 'in' && r.expr.some((e) => 'drop' in e));
  const c = rule?.expr.find((e) => 'counter' in e)?.['counter'] as { packets: number } | undefined;
  return c?.packets ?? -1;
}

const pings = (ns: string, to: string): boolean => spawnSync('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', to]).status === 0;

test.serial('nftables: a no-accept backup holds no drop rule; taking over it drops pings to its VIP and counts them; accept on reload answers them; stop deletes the table', async (t) => {
  if (!requireRoot(t)) return;
  const p = routerLab(t, 'vfw', NET);
  // r1 would answer on the VIP but for the firewall; r2 is the first master
  const fw = '    nftables\n    nftables_counters\n';
  const conf = (state: 'MASTER' | 'BACKUP', prio: number, accept: boolean): string =>
    globalDefs(`r${prio}`, fw) +
    instanceBlock({ state, priority: prio, vip: `${VIP}/24`, advertInt: '0.1', version: 3, extra: accept ? '    accept' : '    no_accept' });
  const c1 = p.dir.file('r1.conf', conf('BACKUP', 100, false));
  const b = startVigil(p.lab, p.r2, p.dir, 'r2', p.dir.file('r2.conf', conf('MASTER', 150, true)));
  await waitAddress(p.r2, 'eth0', VIP, true, 15_000);
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', c1);
  try {
    await waitReady(a, b);
    await new Promise((r) => setTimeout(r, 500));
    t.false(hasAddress(p.r1, 'eth0', VIP));
    // the backup: no address, nothing in its drop set; the master in accept mode answers
    t.deepEqual(readTable(p.r1, 'ip')?.sets['vips'] ?? [], []);
    t.true(pings(p.c, VIP), 'the accept-mode master answers on its VIP');
    t.is(readTable(p.r2, 'ip'), undefined, 'an accept-mode master sets no drop rule');

    // r2 leaves; r1 takes over in no-accept mode
    b.proc.kill('SIGTERM');
    await waitAddress(p.r1, 'eth0', VIP, true, 5000);
    await waitFor('the VIP in r1 drop set', () => (readTable(p.r1, 'ip')?.sets['vips'] ?? []).includes(VIP), 3000);
    const before = dropCount(p.r1);
    nsExec(p.c, ['ip', 'neigh', 'flush', 'dev', 'eth0']);
    t.false(pings(p.c, VIP), 'a no-accept master drops pings to its VIP');
    t.true(dropCount(p.r1) > before, `the drop rule counted them (${before} -> ${dropCount(p.r1)})`);
    t.true(pings(p.c, `10.${NET}.0.1`), 'its own address still answers');
    const out = readTable(p.r1, 'ip')!.rules.find((r) => r.chain === 'out');
    t.truthy(out, 'an output rule drops what would leave from the VIPs');

    // reload with accept: the set empties and the VIP answers
    p.dir.file('r1.conf', conf('BACKUP', 100, true));
    reloadVigil(p.dir, 'r1');
    await waitFor('r1 drop set emptied by the reload', () => (readTable(p.r1, 'ip')?.sets['vips'] ?? ['x']).length === 0, 5000);
    t.true(pings(p.c, VIP), 'accept mode after the reload answers');

    // back to no-accept, then stop: both tables go
    p.dir.file('r1.conf', conf('BACKUP', 100, false));
    reloadVigil(p.dir, 'r1');
    await waitFor('the VIP back in r1 drop set', () => (readTable(p.r1, 'ip')?.sets['vips'] ?? []).includes(VIP), 5000);
    a.proc.kill('SIGTERM');
    t.is((await a.exited).code, 0);
    t.is(readTable(p.r1, 'ip'), undefined, 'stop deletes table ip keepalived');
    t.is(readTable(p.r1, 'ip6'), undefined);
  } catch (e) {
    t.log(outputOf(a));
    t.log(outputOf(b));
    throw e;
  }
});

test.serial('vrrp_iptables runs through the same nftables table, and a table a crashed run left is replaced at start', async (t) => {
  if (!requireRoot(t)) return;
  const p = routerLab(t, 'vfi', NET + 1);
  const vip = `10.${NET + 1}.0.100`;
  // a leftover with a stale VIP in its set
  nsExec(p.r1, [nftCommand(), 'table ip keepalived { set vips { type ipv4_addr; elements = { 10.9.9.9 }; }; }']);
  const a: Router = startVigil(
    p.lab,
    p.r1,
    p.dir,
    'r1',
    p.dir.file('r1.conf', globalDefs('r1', '    vrrp_iptables\n') + instanceBlock({ state: 'MASTER', priority: 150, vip: `${vip}/24`, advertInt: '0.1', version: 3, extra: '    no_accept' })),
  );
  try {
    await waitAddress(p.r1, 'eth0', vip, true, 15_000);
    await waitFor('the VIP in the drop set', () => (readTable(p.r1, 'ip')?.sets['vips'] ?? []).includes(vip), 3000);
    t.deepEqual(readTable(p.r1, 'ip')!.sets['vips'], [vip], 'the leftover element is gone');
    t.false(pings(p.c, vip));
    t.regex(outputOf(a), /through nftables/);
    a.proc.kill('SIGTERM');
    await a.exited;
    t.is(readTable(p.r1, 'ip'), undefined);
  } catch (e) {
    t.log(outputOf(a));
    throw e;
  }
});

test.serial('IPv6 rules: global and link-local VIPs (by index and by name) go in and out of their sets; two holders of one VIP keep it until both release', async (t) => {
  if (!requireRoot(t)) return;
  const lab = new NetnsLab('vf6');
  t.teardown(() => lab.removeAll());
  const ns = lab.addNs('h');
  const fw = new NftVipFirewall({ table: 'kt', priority: -5, counters: true, ifindex: false }, ['ip', 'netns', 'exec', ns, nftCommand()]);
  await fw.hold('A', [
    { address: 'fd00::100', family: 6, ifname: 'lo' },
    { address: 'fe80::100', family: 6, ifname: 'lo', ifindex: 1 },
    { address: '10.0.0.100', family: 4, ifname: 'lo' },
  ]);
  await fw.hold('B', [
    { address: 'fe80::200', family: 6, ifname: 'lo', byName: true },
    { address: '10.0.0.100', family: 4, ifname: 'lo' },
  ]);
  let v6 = readTable(ns, 'ip6', 'kt')!;
  t.deepEqual(v6.sets['vips'], ['fd00::100']);
  t.is(v6.sets['vips_link_local']?.length, 1);
  t.is(v6.sets['vips_link_local_name']?.length, 1);
  t.true(v6.rules.some((r) => r.chain === 'in' && JSON.stringify(r.expr).includes('neighbor-discovery')), 'neighbour discovery passes');
  const chain = spawnSync('ip', ['netns', 'exec', ns, nftCommand(), 'list', 'chain', 'ip6', 'kt', 'in'], { encoding: 'utf8' }).stdout;
  t.regex(chain, /priority filter - 5/);
  await fw.hold('A', []);
  t.deepEqual(readTable(ns, 'ip', 'kt')!.sets['vips'], ['10.0.0.100'], 'B still holds it');
  v6 = readTable(ns, 'ip6', 'kt')!;
  t.deepEqual(v6.sets['vips'] ?? [], []);
  t.is(v6.sets['vips_link_local_name']?.length, 1);
  await fw.hold('B', []);
  t.deepEqual(readTable(ns, 'ip', 'kt')!.sets['vips'] ?? [], []);
  await fw.close();
  t.is(readTable(ns, 'ip', 'kt'), undefined);
  t.is(readTable(ns, 'ip6', 'kt'), undefined);
});
