/**
 * static_ipaddress / static_routes / static_rules and virtual_routes / virtual_rules on a
 * real daemon in a namespace, read back from the kernel: the static ones for the daemon's
 * lifetime whatever its VRRP state, the virtual ones only while the instance is MASTER.
 */
import test from 'ava';
import { nsExec, requireRoot, waitFor } from '../../helpers/netns.ts';
import { globalDefs, hasAddress, instanceBlock, outputOf, routerLab, startVigil, waitAddress, waitReady, type Router } from '../../helpers/routers.ts';

function ipj(ns: string, args: string[]): Array<Record<string, unknown>> {
  return JSON.parse(nsExec(ns, ['ip', '-j', ...args])) as Array<Record<string, unknown>>;
}
const rule = (ns: string, pref: number): Record<string, unknown> | undefined => ipj(ns, ['rule', 'show']).find((r) => r['priority'] === pref);
const route = (ns: string, table: number, dst: string): Record<string, unknown> | undefined => ipj(ns, ['route', 'show', 'table', String(table)]).find((r) => r['dst'] === dst);

test.serial('static state for the lifetime, virtual routes and rules with MASTER; all read back with ip -j', async (t) => {
  if (!requireRoot(t)) return;
  const p = routerLab(t, 'vpr', 84);
  const VIP = '10.84.0.100';
  const conf = (name: string, prio: number, extra = ''): string =>
    globalDefs(name) +
    extra +
    instanceBlock({
      state: 'BACKUP',
      priority: prio,
      vip: `${VIP}/24`,
      advertInt: '0.1',
      version: 3,
      extra:
        '    virtual_routes {\n        10.202.0.0/24 via 10.84.0.252 or 10.84.0.253 dev eth0 table 101\n        src 10.84.0.1 10.204.0.0/24 via 10.84.0.254 table 101 metric 9 proto static\n    }\n' +
        '    virtual_rules {\n        to 10.203.0.0/24 table 101 priority 101\n        from 10.84.0.0/24 fwmark 7 priority 102 table 101\n    }',
    });
  const statics =
    'static_ipaddress {\n    10.84.1.1/32 dev eth0 scope link\n}\n' +
    'static_routes {\n    10.201.0.0/24 via 10.84.0.254 dev eth0 table 100 metric 5\n    10.205.0.0/24 table 100 nexthop via 10.84.0.252 dev eth0 weight 2 nexthop via 10.84.0.253 dev eth0\n}\n' +
    'static_rules {\n    from 10.84.0.0/24 table 100 priority 100\n}\n';
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf('r1', 100, statics)));
  let b: Router | undefined;
  try {
    await waitReady(a);
    t.true(hasAddress(p.r1, 'eth0', '10.84.1.1'), 'static address on eth0');
    t.like(route(p.r1, 100, '10.201.0.0/24'), { gateway: '10.84.0.254', metric: 5, protocol: 'keepalived' });
    t.deepEqual(
      ((route(p.r1, 100, '10.205.0.0/24')?.['nexthops'] ?? []) as Array<Record<string, unknown>>).map((h) => [h['gateway'], h['weight']]),
      [
        ['10.84.0.252', 2],
        ['10.84.0.253', 1],
      ],
    );
    t.like(rule(p.r1, 100), { src: '10.84.0.0', srclen: 24, table: '100', protocol: 'keepalived' });

    // alone on the segment: MASTER, with its virtual routes and rules
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    await waitFor('virtual routes and rules', () => rule(p.r1, 102) !== undefined, 5000, 20);
    const mp = route(p.r1, 101, '10.202.0.0/24');
    t.deepEqual(
      ((mp?.['nexthops'] ?? []) as Array<Record<string, unknown>>).map((h) => h['gateway']),
      ['10.84.0.252', '10.84.0.253'],
    );
    t.like(route(p.r1, 101, '10.204.0.0/24'), { gateway: '10.84.0.254', prefsrc: '10.84.0.1', metric: 9, protocol: 'static' });
    t.like(rule(p.r1, 101), { dst: '10.203.0.0', dstlen: 24, table: '101' });
    t.like(rule(p.r1, 102), { src: '10.84.0.0', fwmark: '0x7', table: '101' });

    // a higher-priority peer takes over: virtual state goes, static state stays
    b = startVigil(p.lab, p.r2, p.dir, 'r2', p.dir.file('r2.conf', conf('r2', 150)));
    await waitAddress(p.r1, 'eth0', VIP, false, 15_000);
    await waitFor('virtual rules removed on BACKUP', () => rule(p.r1, 101) === undefined && rule(p.r1, 102) === undefined, 5000, 20);
    t.deepEqual(ipj(p.r1, ['route', 'show', 'table', '101']), []);
    t.true(hasAddress(p.r1, 'eth0', '10.84.1.1'));
    t.truthy(route(p.r1, 100, '10.201.0.0/24'));
    t.truthy(rule(p.r1, 100));

    // SIGTERM: the static state is removed
    a.proc.kill('SIGTERM');
    await a.exited;
    t.false(hasAddress(p.r1, 'eth0', '10.84.1.1'));
    t.deepEqual(ipj(p.r1, ['route', 'show', 'table', '100']), []);
    t.is(rule(p.r1, 100), undefined);
  } catch (e) {
    t.log(outputOf(a));
    if (b) t.log(outputOf(b));
    throw e;
  } finally {
    a.proc.kill('SIGTERM');
    b?.proc.kill('SIGTERM');
    await Promise.all([a.exited, b?.exited]);
  }
});
