/**
 * Policy routing through NetControl against the real kernel, in a namespace: rules
 * (RTM_NEWRULE/RTM_DELRULE) and routes with keepalived's options (table, metric, src,
 * proto, `via A or B` multipath), each read back with `ip -j rule` / `ip -j route`.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetnsLab, nsExec, requireRoot } from '../../helpers/netns.ts';
import { parseConfigTextFull } from '../../../src/config/load.ts';
import type { RouteSpec, RuleSpec } from '../../../src/netlink/net-control.ts';
import { routeSpec, ruleSpec } from '../../../src/supervisor/static-state.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIX = fileURLToPath(new URL('./fixtures/', import.meta.url));

type Result = { ok: unknown } | { code: string; message: string };
const ok = (v: unknown): Result => ({ ok: v });

function lab(t: ExecutionContext): string | undefined {
  if (!requireRoot(t)) return undefined;
  const l = new NetnsLab('vrl');
  t.teardown(() => l.removeAll());
  const ns = l.addNs('a');
  const peer = l.addNs('b');
  l.veth(ns, 'eth0', peer, 'eth0');
  nsExec(ns, ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'eth0']);
  nsExec(ns, ['ip', '-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0', 'nodad']);
  return ns;
}

function ops(ns: string, list: unknown[]): Result[] {
  const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', `${FIX}nc-ops.ts`, JSON.stringify(list)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out) as Result[];
}

function ipj(ns: string, args: string[]): Array<Record<string, unknown>> {
  return JSON.parse(nsExec(ns, ['ip', '-j', ...args])) as Array<Record<string, unknown>>;
}

test('rules: from/to/iif/oif/fwmark/tos/not with a preference and table, goto and blackhole; protocol keepalived; added, present, removed, absent', (t) => {
  const ns = lab(t);
  if (!ns) return t.pass();
  const r1 = { family: 4, from: { address: '192.0.2.0', prefixLen: 24 }, priority: 100, table: 100 };
  const r2 = { family: 4, to: { address: '198.51.100.0', prefixLen: 24 }, iif: 'eth0', fwmark: 16, fwmask: 255, tos: 4, priority: 101, table: 70000 };
  const r3 = { family: 4, invert: true, from: { address: '10.0.0.0', prefixLen: 8 }, oif: 'eth0', priority: 102, goto: 200 };
  const r4 = { family: 4, to: { address: '203.0.113.0', prefixLen: 24 }, priority: 200, action: 'blackhole' };
  const r6 = { family: 6, from: { address: '2001:db8::', prefixLen: 64 }, priority: 100, table: 106 };
  const r7 = { family: 4, l3mdev: true, protocol: 12, uidRange: { start: 1000, end: 1999 }, sport: { start: 10, end: 20 }, dport: { start: 80, end: 80 }, priority: 300 };
  const r8 = { family: 4, table: 254, suppressPrefixLength: 0, priority: 301 };
  t.deepEqual(
    ops(ns, [r1, r2, r3, r4, r6, r7, r8, r1].map((r) => ({ m: 'addRule', a: [r] }))),
    [ok('added'), ok('added'), ok('added'), ok('added'), ok('added'), ok('added'), ok('added'), ok('present')],
  );
  const v4 = ipj(ns, ['rule', 'show']);
  const byPref = (p: number): Record<string, unknown> | undefined => v4.find((x) => x['priority'] === p);
  t.like(byPref(100), { src: '192.0.2.0', srclen: 24, table: '100', protocol: 'keepalived' });
  t.like(byPref(101), { dst: '198.51.100.0', dstlen: 24, iif: 'eth0', fwmark: '0x10', fwmask: '0xff', tos: '0x04', table: '70000' });
  t.like(byPref(102), { not: null, src: '10.0.0.0', srclen: 8, oif: 'eth0', goto: 200 } as Record<string, unknown>);
  t.like(byPref(200), { dst: '203.0.113.0', action: 'blackhole' });
  t.like(byPref(300), { l3mdev: null, protocol: 'bird', uid_start: 1000, uid_end: 1999, sport_start: 10, sport_end: 20, dport: 80 } as Record<string, unknown>);
  t.like(byPref(301), { table: 'main', suppress_prefixlen: 0 } as Record<string, unknown>);
  t.like(ipj(ns, ['-6', 'rule', 'show']).find((x) => x['priority'] === 100), { src: '2001:db8::', srclen: 64, table: '106' });
  // an operator's identical rule (another protocol) is not ours to remove
  nsExec(ns, ['ip', 'rule', 'add', 'from', '192.0.2.0/24', 'pref', '100', 'table', '100', 'proto', 'static']);
  t.deepEqual(
    ops(ns, [r1, r2, r3, r4, r6, r7, r8, r1].map((r) => ({ m: 'removeRule', a: [r] }))),
    [ok('removed'), ok('removed'), ok('removed'), ok('removed'), ok('removed'), ok('removed'), ok('removed'), ok('absent')],
  );
  const left = ipj(ns, ['rule', 'show']).filter((x) => typeof x['priority'] === 'number' && (x['priority'] as number) >= 100 && (x['priority'] as number) <= 301);
  t.deepEqual(
    left.map((x) => [x['priority'], x['protocol']]),
    [[100, 'static']],
  );
});

test('routes: table, metric, src, proto, onlink, `via A or B` and `nexthop` lists (multipath routes) read back from the kernel', (t) => {
  const ns = lab(t);
  if (!ns) return t.pass();
  const mp = { to: '198.51.100.0', prefixLen: 24, family: 4, via: '192.0.2.252', orVia: '192.0.2.253', ifname: 'eth0', table: 100 };
  const pr = { to: '203.0.113.0', prefixLen: 24, family: 4, via: '192.0.2.254', src: '192.0.2.1', ifname: 'eth0', table: 100, metric: 7, protocol: 12 };
  const v6 = { to: '2001:db8:1::', prefixLen: 48, family: 6, via: '2001:db8::fe', ifname: 'eth0', table: 100, metric: 5 };
  const nh = {
    to: '192.51.100.0',
    prefixLen: 24,
    family: 4,
    table: 100,
    nexthops: [
      { via: '10.9.9.1', ifname: 'eth0', weight: 1, onlink: true },
      { via: '192.0.2.250', ifname: 'eth0', weight: 3 },
    ],
  };
  const ol = { to: '192.52.100.0', prefixLen: 24, family: 4, via: '10.9.9.9', ifname: 'eth0', table: 100, onlink: true };
  const mx = {
    to: '192.53.100.0',
    prefixLen: 24,
    family: 4,
    via: '192.0.2.254',
    ifname: 'eth0',
    table: 100,
    tos: 0x10,
    metrics: { mtu: 1400, advmss: 1300, initcwnd: 10, quickack: 1 },
    lockedMetrics: ['mtu'],
    ecn: true,
  };
  t.deepEqual(
    ops(ns, [mp, pr, v6, nh, ol, mx].map((r) => ({ m: 'addRoute', a: [r] }))),
    [ok('added'), ok('added'), ok('added'), ok('added'), ok('added'), ok('added')],
  );
  t.like(ipj(ns, ['route', 'show', 'table', '100']).find((x) => x['dst'] === '192.53.100.0/24'), {
    tos: '0x10',
    metrics: [{ mtu: 1400, advmss: 1300, initcwnd: 10, ecn: null, quickack: 1 }],
  } as Record<string, unknown>);
  t.regex(nsExec(ns, ['ip', 'route', 'show', 'table', '100', '192.53.100.0/24']), /mtu lock 1400/);
  const n = ipj(ns, ['route', 'show', 'table', '100']).find((x) => x['dst'] === '192.51.100.0/24');
  t.deepEqual(
    ((n?.['nexthops'] ?? []) as Array<Record<string, unknown>>).map((h) => [h['gateway'], h['dev'], h['weight'], h['flags']]),
    [
      ['10.9.9.1', 'eth0', 1, ['onlink']],
      ['192.0.2.250', 'eth0', 3, []],
    ],
  );
  t.like(ipj(ns, ['route', 'show', 'table', '100']).find((x) => x['dst'] === '192.52.100.0/24'), { gateway: '10.9.9.9', flags: ['onlink'] });
  t.deepEqual(
    ops(ns, [nh, ol, mx].map((r) => ({ m: 'removeRoute', a: [r] }))),
    [ok('removed'), ok('removed'), ok('removed')],
  );
  const rs = ipj(ns, ['route', 'show', 'table', '100']);
  const m = rs.find((x) => x['dst'] === '198.51.100.0/24');
  t.like(m, { protocol: 'keepalived' });
  t.deepEqual(
    ((m?.['nexthops'] ?? []) as Array<Record<string, unknown>>).map((h) => [h['gateway'], h['dev']]),
    [
      ['192.0.2.252', 'eth0'],
      ['192.0.2.253', 'eth0'],
    ],
  );
  t.like(rs.find((x) => x['dst'] === '203.0.113.0/24'), { gateway: '192.0.2.254', prefsrc: '192.0.2.1', metric: 7, protocol: 'bird', dev: 'eth0' });
  t.like(ipj(ns, ['-6', 'route', 'show', 'table', '100']).find((x) => x['dst'] === '2001:db8:1::/48'), { gateway: '2001:db8::fe', metric: 5, protocol: 'keepalived' });
  t.deepEqual(
    ops(ns, [mp, pr, v6, mp].map((r) => ({ m: 'removeRoute', a: [r] }))),
    [ok('removed'), ok('removed'), ok('removed'), ok('absent')],
  );
  t.deepEqual(ipj(ns, ['route', 'show', 'table', '100']), []);
});

/** static_routes / static_rules as the config parser reads them, as the daemon hands them to NetControl. */
function staticFromConfig(t: ExecutionContext, text: string): { routes: RouteSpec[]; rules: RuleSpec[] } {
  const r = parseConfigTextFull(text, 't.conf', { configId: 'n1', interfaceExists: () => true });
  t.deepEqual(r.diagnostics.map((d) => `${d.severity} ${d.code} ${d.message}`), []);
  return { routes: (r.config?.staticRoutes ?? []).map((x) => routeSpec(x)), rules: (r.config?.staticRules ?? []).map(ruleSpec) };
}

test('static_routes rtt/rttvar/rto_min/congctl/realms, IPv6 pref/expires, add/append/prepend, encap ip/ip6; static_rules realms/suppress_ifgroup/ipproto: from the config to the kernel and back', (t) => {
  const ns = lab(t);
  if (!ns) return t.pass();
  const { routes, rules } = staticFromConfig(
    t,
    `static_routes {
  192.60.100.0/24 via 192.0.2.254 dev eth0 table 100 rtt 300ms rttvar lock 250ms rto_min 250ms congctl lock reno realms 30/20
  2001:db8:60::/48 via 2001:db8::fe dev eth0 table 100 pref high expires 600
  192.61.100.0/24 via 192.0.2.254 dev eth0 table 100
  192.61.100.0/24 via 192.0.2.253 dev eth0 table 100 append
  192.61.100.0/24 via 192.0.2.252 dev eth0 table 100 prepend
  192.61.100.0/24 via 192.0.2.251 dev eth0 table 100 add
  192.62.100.0/24 dev eth0 table 100 encap ip id 5 dst 192.0.2.9 ttl 9 tos 4
  2001:db8:62::/48 dev eth0 table 100 encap ip6 id 7 dst 2001:db8::9 hoplimit 8
}
static_rules {
  from 192.0.2.0/24 table 100 realms 30/20 preference 400
  to 198.51.100.0/24 table 100 suppress_ifgroup 7 preference 401
  from 192.0.2.0/24 ipproto udp table 100 preference 402
}
`,
  );
  t.deepEqual(
    ops(ns, [...routes.map((r) => ({ m: 'addRoute', a: [r] })), ...rules.map((r) => ({ m: 'addRule', a: [r] }))]),
    [ok('added'), ok('added'), ok('added'), ok('added'), ok('added'), ok('present'), ok('added'), ok('added'), ok('added'), ok('added'), ok('added')],
  );
  const v4 = ipj(ns, ['route', 'show', 'table', '100']);
  t.like(v4.find((x) => x['dst'] === '192.60.100.0/24'), {
    metrics: [{ rtt: 300, rttvar: 250, rto_min: 250 }],
  } as Record<string, unknown>);
  const text = nsExec(ns, ['ip', 'route', 'show', 'table', '100', '192.60.100.0/24']);
  t.regex(text, /rttvar lock 250ms/);
  t.regex(text, /congctl lock reno/);
  t.regex(text, /realms 30\/20/);
  // prepend goes before the route there already, append after; add of a fourth finds it there
  t.deepEqual(
    v4.filter((x) => x['dst'] === '192.61.100.0/24').map((x) => x['gateway']),
    ['192.0.2.252', '192.0.2.254', '192.0.2.253'],
  );
  t.regex(nsExec(ns, ['ip', 'route', 'show', 'table', '100', '192.62.100.0/24']), /encap ip id 5 src 0\.0\.0\.0 dst 192\.0\.2\.9 ttl 9 tos (4|0x4)/);
  t.regex(nsExec(ns, ['ip', '-6', 'route', 'show', 'table', '100', '2001:db8:62::/48']), /encap ip6 id 7 src :: dst 2001:db8::9 hoplimit 8/);
  const six = nsExec(ns, ['ip', '-6', 'route', 'show', 'table', '100', '2001:db8:60::/48']);
  t.regex(six, /pref high/);
  const exp = /expires (\d+)sec/.exec(six);
  t.true(exp !== null && Number(exp[1]) > 590 && Number(exp[1]) <= 600, six);
  const rl = ipj(ns, ['rule', 'show']);
  const byPref = (p: number): Record<string, unknown> | undefined => rl.find((x) => x['priority'] === p);
  t.regex(nsExec(ns, ['ip', 'rule', 'show', 'pref', '400']), /realms 30\/20/);
  t.like(byPref(401), { suppress_ifgroup: '7' } as Record<string, unknown>);
  t.like(byPref(402), { ipproto: 'udp' } as Record<string, unknown>);
  t.deepEqual(
    ops(ns, [...routes.map((r) => ({ m: 'removeRoute', a: [r] })), ...rules.map((r) => ({ m: 'removeRule', a: [r] }))]).map((x) => ('ok' in x ? x.ok : x.code)),
    ['removed', 'removed', 'removed', 'removed', 'removed', 'absent', 'removed', 'removed', 'removed', 'removed', 'removed'],
  );
  t.deepEqual(ipj(ns, ['route', 'show', 'table', '100']), []);
});
