/**
 * RouteTable against the real kernel in a namespace built and removed per test: routes are
 * written from inside it (a fixture under `ip netns exec`) and read back with
 * `ip -j route show table 198`, which knows nothing of vigil.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetnsLab, nsExec, requireRoot } from '../../helpers/netns.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIX = fileURLToPath(new URL('./fixtures/route-table-ops.ts', import.meta.url));

function run(ns: string, steps: unknown[]): unknown[] {
  const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', FIX, JSON.stringify(steps)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out) as unknown[];
}

interface IpRoute {
  dst: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
}

function show(ns: string, family: '-4' | '-6' = '-4'): IpRoute[] {
  return JSON.parse(nsExec(ns, ['ip', family, '-j', 'route', 'show', 'table', '198'])) as IpRoute[];
}

const r4 = (address: string, extra: Record<string, number> = {}) => ({ address, family: 4, prefixLen: 32, table: 198, protocol: 248, ...extra });

test('routes go into table 198 as `dev lo proto 248 scope link`, idempotently; a delete leaves other protocols alone; the dump finds only ours', (t) => {
  if (!requireRoot(t)) return;
  const lab = new NetnsLab('vrt');
  t.teardown(() => lab.removeAll());
  const ns = lab.addNs('a');
  nsExec(ns, ['ip', 'route', 'add', '10.213.9.99/32', 'dev', 'lo', 'table', '198', 'proto', 'static']);
  const v6 = { address: '2001:db8::53', family: 6, prefixLen: 128, table: 198, protocol: 248 };
  const add = [
    { op: 'add', route: r4('10.213.9.10') },
    { op: 'add', route: r4('10.213.9.11', { metric: 7 }) },
    { op: 'add', route: v6 },
  ];
  const [first, again, dump] = run(ns, [{ apply: add }, { apply: add }, { dump: [198, 248] }]);
  t.deepEqual(first, [null, null, null]);
  t.deepEqual(again, [null, null, null], 'adding what is there is not an error');
  t.deepEqual(dump, [r4('10.213.9.10'), r4('10.213.9.11', { metric: 7 }), { ...v6, metric: 1024 }], 'IPv6 routes get metric 1024 when none is given');
  const v4routes = show(ns);
  t.like(v4routes.find((r) => r.dst === '10.213.9.10'), { dev: 'lo', protocol: '248', scope: 'link' });
  t.like(v4routes.find((r) => r.dst === '10.213.9.11'), { dev: 'lo', protocol: '248', metric: 7 });
  t.like(show(ns, '-6').find((r) => r.dst === '2001:db8::53'), { dev: 'lo', protocol: '248' });
  t.is(JSON.parse(nsExec(ns, ['ip', '-j', 'route', 'show', 'table', 'main', '10.213.9.10'])).length, 0, 'nothing in main');

  const [del, delAgain, wrongProto] = run(ns, [
    { apply: [{ op: 'del', route: r4('10.213.9.10') }, { op: 'del', route: r4('10.213.9.11', { metric: 7 }) }, { op: 'del', route: v6 }] },
    { apply: [{ op: 'del', route: r4('10.213.9.10') }] },
    { apply: [{ op: 'del', route: r4('10.213.9.99') }] },
  ]);
  t.deepEqual(del, [null, null, null]);
  t.deepEqual(delAgain, [null], 'deleting what is gone is not an error');
  t.deepEqual(wrongProto, [null], 'a route of another protocol is "not ours": absent');
  t.deepEqual(show(ns).map((r) => [r.dst, r.protocol]), [['10.213.9.99', 'static']], "the operator's static route is still there");
  t.deepEqual(show(ns, '-6'), []);
});

test('a batch reports each refusal by errno and applies the rest', (t) => {
  if (!requireRoot(t)) return;
  const lab = new NetnsLab('vrt');
  t.teardown(() => lab.removeAll());
  const ns = lab.addNs('a');
  nsExec(ns, ['ip', 'link', 'set', 'lo', 'down']);
  const [down] = run(ns, [{ apply: [{ op: 'add', route: r4('10.213.9.10') }, { op: 'add', route: { ...r4('10.213.9.11'), prefixLen: 33 } }] }]);
  t.deepEqual(down, ['VIGIL_NL_ENETDOWN/ENETDOWN', 'VIGIL_NL_INVALID_SPEC'], 'lo down: the kernel says ENETDOWN');
  nsExec(ns, ['ip', 'link', 'set', 'lo', 'up']);
  const [up] = run(ns, [{ apply: [{ op: 'add', route: { ...r4('10.213.9.11'), prefixLen: 33 } }, { op: 'add', route: r4('10.213.9.10') }] }]);
  t.deepEqual(up, ['VIGIL_NL_INVALID_SPEC', null]);
  t.deepEqual(show(ns).map((r) => r.dst), ['10.213.9.10']);
});

test('1,000 routes: a few datagrams, all in the table, all gone after one delete batch', (t) => {
  if (!requireRoot(t)) return;
  const lab = new NetnsLab('vrt');
  t.teardown(() => lab.removeAll());
  const ns = lab.addNs('a');
  const [added, dump] = run(ns, [{ bulk: { count: 1000, op: 'add', table: 198, protocol: 248 } }, { dump: [198, 248] }]) as [
    { failed: number; ms: number; datagrams: number },
    unknown[],
  ];
  t.is(added.failed, 0);
  t.is(added.datagrams, 8);
  t.is(dump.length, 1000);
  t.is(show(ns).length, 1000);
  const [removed] = run(ns, [{ bulk: { count: 1000, op: 'del', table: 198, protocol: 248 } }]) as [{ failed: number; ms: number }];
  t.is(removed.failed, 0);
  t.is(show(ns).length, 0);
  t.log(`1,000 routes: add ${added.ms.toFixed(1)} ms, delete ${removed.ms.toFixed(1)} ms`);
});

test('VIPs on lo in one batch: added, present, removed, absent; the kernel sees /32 and /128 on lo', (t) => {
  if (!requireRoot(t)) return;
  const lab = new NetnsLab('vrt');
  t.teardown(() => lab.removeAll());
  const ns = lab.addNs('a');
  nsExec(ns, ['ip', 'addr', 'add', '10.213.9.11/32', 'dev', 'lo']);
  const list = [
    { address: '10.213.9.10', family: 4 },
    { address: '10.213.9.11', family: 4 },
    { address: '2001:db8::53', family: 6 },
  ];
  const [add, present] = run(ns, [{ lo: { op: 'add', list } }, { lo: { op: 'add', list } }]);
  t.deepEqual(add, ['added', 'present', 'added']);
  t.deepEqual(present, ['present', 'present', 'present']);
  const lo = (JSON.parse(nsExec(ns, ['ip', '-j', 'addr', 'show', 'dev', 'lo'])) as Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>)[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`);
  for (const a of ['10.213.9.10/32', '10.213.9.11/32', '2001:db8::53/128']) t.true(lo.includes(a), a);
  const [del, absent] = run(ns, [{ lo: { op: 'del', list: [list[0], list[2]] } }, { lo: { op: 'del', list: [list[0]] } }]);
  t.deepEqual(del, ['removed', 'removed']);
  t.deepEqual(absent, ['absent']);
});
