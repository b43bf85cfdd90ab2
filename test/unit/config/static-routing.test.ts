import test from 'ava';
import { diffConfigs } from '../../../src/config/diff.ts';
import { diags, instance, ok, parse } from './helpers.ts';

test('static_ipaddress, static_routes, static_rules are kept in the config', (t) => {
  const c = ok(
    'static_ipaddress {\n 192.168.200.16/24 dev eth0 scope link\n 2001:db8::5/64\n}\n' +
      'static_routes {\n src 192.168.100.1 192.168.209.0/24 via 192.168.200.254 dev eth0 table 100 metric 5 proto bird\n 192.168.213.0/24 dev eth1 scope link\n}\n' +
      'static_rules {\n from 192.168.100.0/24 table 1 priority 10\n}\n' +
      instance('A', ''),
  );
  t.like(c.staticIpaddress, [{ address: '192.168.200.16', prefixLen: 24, dev: 'eth0', scope: 'link' }, { address: '2001:db8::5', family: 6 }]);
  t.like(c.staticRoutes, [
    { to: '192.168.209.0', prefixLen: 24, src: '192.168.100.1', via: '192.168.200.254', dev: 'eth0', table: 100, metric: 5, protocol: 12 },
    { to: '192.168.213.0', dev: 'eth1', scope: 'link' },
  ]);
  t.deepEqual(c.staticRules?.map(({ loc: _l, ...r }) => r), [{ family: 4, from: { address: '192.168.100.0', prefixLen: 24 }, table: 1, priority: 10 }]);
});

test('virtual_routes: `via A or B` and proto; virtual_rules with every modelled selector', (t) => {
  const c = ok(
    instance(
      'A',
      ' virtual_routes {\n  192.168.113.0/24 via 192.168.100.252 or 192.168.100.253\n  10.1.0.0/16 dev eth0 proto 99\n }\n' +
        ' virtual_rules {\n  not from 10.0.0.0/8 to 10.2.0.0/16 iif eth0 oif eth1 fwmark 0x10/0xff tos 4 preference 50 lookup 7\n  to 2001:db8::/32 priority 51 goto 60\n  from all priority 52 blackhole no_track\n  inet6 priority 53 table main\n }',
    ),
  );
  const inst = c.vrrpInstances[0]!;
  t.like(inst.virtualRoutes, [{ via: '192.168.100.252', orVia: '192.168.100.253' }, { protocol: 99 }]);
  t.deepEqual(
    inst.virtualRules?.map(({ loc: _l, ...r }) => r),
    [
      { family: 4, invert: true, from: { address: '10.0.0.0', prefixLen: 8 }, to: { address: '10.2.0.0', prefixLen: 16 }, iif: 'eth0', oif: 'eth1', fwmark: 16, fwmask: 255, tos: 4, priority: 50, table: 7 },
      { family: 6, to: { address: '2001:db8::', prefixLen: 32 }, priority: 51, goto: 60 },
      { family: 4, priority: 52, action: 'blackhole', noTrack: true },
      { family: 6, priority: 53, table: 254 },
    ],
  );
});

test('rules: no preference is a warning with keepalived numbering (16384 down); bad addresses and no action are errors; nothing is "not implemented"', (t) => {
  const r = parse('static_rules {\n from 192.168.100.0/24 table 1\n}\n' + instance('A', ' virtual_rules {\n  to 10.0.0.0/8 table 2\n }'));
  t.deepEqual(r.config?.staticRules?.[0]?.priority, 16384);
  t.deepEqual(r.config?.vrrpInstances[0]?.virtualRules?.[0]?.priority, 16383);
  t.deepEqual(r.diagnostics.map((d) => d.code), ['rule-preference', 'rule-preference']);
  t.deepEqual(diags('static_rules {\n to 192.168.100./24 table 1 priority 3\n}\n'), [['bad-address', 'error', 2, 5]]);
  t.deepEqual(diags('static_rules {\n from 10.0.0.0/8 priority 3\n}\n'), [['missing-value', 'error', 2, 2]]);
  t.deepEqual(diags('static_rules {\n from 10.0.0.0/8 to 2001:db8::/32 table 1 priority 3\n}\n'), [['family-mismatch', 'error', 2, 21]]);
  t.deepEqual(diags(instance('A', ' virtual_routes {\n  10.0.0.0/8 or 10.0.0.1\n }')), [['missing-value', 'error', 8, 3]]);
});

test('a reload that changes only static_* or track blocks is not an empty plan', (t) => {
  const a = ok(instance('A', ''));
  const b = ok('static_routes {\n 10.1.0.0/16 dev eth0\n}\n' + instance('A', ''));
  t.true(diffConfigs(a, a).empty);
  t.false(diffConfigs(a, b).empty);
});

test('routes: nexthop lists with dev, weight and onlink; `mtu lock N`; `append`', (t) => {
  const r = parse(
    'static_routes {\n 192.168.100.0/24 table 6909 nexthop via 192.168.101.1 dev eth0 onlink weight 1 nexthop via 192.168.101.2 dev eth1 weight 2\n 10.0.0.0/8 via 10.1.1.1 onlink mtu lock 1400 append\n}\n' + instance('A', ''),
  );
  t.deepEqual(r.config?.staticRoutes?.[0]?.nexthops, [
    { via: '192.168.101.1', dev: 'eth0', onlink: true, weight: 1 },
    { via: '192.168.101.2', dev: 'eth1', weight: 2 },
  ]);
  t.like(r.config?.staticRoutes?.[1], { via: '10.1.1.1', onlink: true });
  t.deepEqual(r.diagnostics, []);
  t.like(r.config?.staticRoutes?.[1], { metrics: { mtu: 1400 }, lockedMetrics: ['mtu'], insert: 'append' });
  t.deepEqual(diags('static_routes {\n 10.0.0.0/8 via 10.1.1.1 nexthop via 10.1.1.2\n}\n'), [['bad-value', 'error', 2, 2]]);
  t.deepEqual(diags('static_routes {\n 10.0.0.0/8 nexthop via 10.1.1.2 weight 0\n}\n'), [['range', 'error', 2, 41]]);
});

test('rules: l3mdev, protocol, uidrange, sport, dport, suppress_prefixlength', (t) => {
  const c = ok(
    'static_rules {\n to 1:2:3:4:5:6:7:0/112 from 7:6:5:4:3:2::/96 table 6908 uidrange 10000-19999 priority 5\n' +
      ' from 10.0.0.0/8 l3mdev protocol bird sport 10-20 dport 80 priority 6\n table main suppress_prefixlength 0 priority 7\n}\n' +
      instance('A', ''),
  );
  t.like(c.staticRules?.[0], { family: 6, uidRange: { start: 10000, end: 19999 }, table: 6908 });
  t.like(c.staticRules?.[1], { l3mdev: true, protocol: 12, sport: { start: 10, end: 20 }, dport: { start: 80, end: 80 } });
  t.like(c.staticRules?.[2], { table: 254, suppressPrefixLength: 0 });
  t.deepEqual(diags('static_rules {\n from 10.0.0.0/8 sport 20-10 table 1 priority 3\n}\n'), [['bad-value', 'error', 2, 24]]);
});

test('routes: tos, metrics (with lock) and features ecn', (t) => {
  const c = ok('static_routes {\n 10.0.0.0/8 via 10.1.1.1 tos 0x04 mtu 1000 advmss lock 101 window 105 initcwnd 10 hoplimit 64 features ecn\n}\n' + instance('A', ''));
  t.like(c.staticRoutes?.[0], { tos: 4, metrics: { mtu: 1000, advmss: 101, window: 105, initcwnd: 10, hoplimit: 64 }, lockedMetrics: ['advmss'], ecn: true });
});

test('routes: rtt/rttvar/rto_min in the kernel\'s units as keepalived converts and clamps them; congctl, realms, pref, expires, add/append/prepend', (t) => {
  const c = ok(
    'static_routes {\n 10.0.0.0/8 via 10.1.1.1 rtt 300ms rttvar lock 1.5s rto_min 250ms congctl lock reno realms 30/0x14 prepend\n' +
      ' 10.2.0.0/16 via 10.1.1.1 rtt 1000 rttvar 50ms append add\n' +
      ' 2001:db8::/32 via 2001:db8::fe pref high expires 600\n 2001:db9::/32 via 2001:db8::fe pref 2\n}\n' +
      instance('A', ''),
  );
  const [a, b, c6, d6] = c.staticRoutes ?? [];
  t.like(a, { metrics: { rtt: 2400, rttvar: 6000, rto_min: 250 }, lockedMetrics: ['rttvar', 'congctl'], congctl: 'reno', realms: (30 << 16) | 20, insert: 'prepend' });
  // a bare number is the kernel's units (rtt 1000 = 125 ms), clamped to 200 ms = 1600; the last of append/add counts
  t.like(b, { metrics: { rtt: 1600, rttvar: 800 } });
  t.is(b?.insert, undefined);
  t.like(c6, { pref: 1, expires: 600 });
  t.like(d6, { pref: 2 });
  t.deepEqual(diags('static_routes {\n 10.0.0.0/8 via 10.1.1.1 rtt 3e2\n}\n'), [['bad-value', 'error', 2, 30]]);
  t.deepEqual(diags('static_routes {\n 10.0.0.0/8 via 10.1.1.1 pref high\n}\n'), [['bad-value', 'error', 2, 2]]);
  t.deepEqual(diags('static_routes {\n 2001:db8::/32 via 2001:db8::1 realms 3\n}\n'), [['bad-value', 'error', 2, 2]]);
  t.deepEqual(diags('static_routes {\n 10.0.0.0/8 via 10.1.1.1 realms 70000\n}\n'), [['bad-value', 'error', 2, 33]]);
  // what stays unbuilt says why
  const w = parse('static_routes {\n 10.0.0.0/8 via 10.1.1.1 vrf blue\n}\n').diagnostics;
  t.deepEqual(w.map((d) => d.code), ['unsupported-option']);
  t.regex(w[0]!.message, /no VRF devices/);
});

test('rules: realms (IPv4 only), suppress_ifgroup, ipproto / ip_proto by name or number', (t) => {
  const c = ok(
    'static_rules {\n from 10.0.0.0/8 table 1 realms 30/20 priority 5\n to 10.0.0.0/8 table 1 suppress_ifgroup 7 priority 6\n' +
      ' from 10.0.0.0/8 ip_proto UDP table 1 priority 7\n from 10.0.0.0/8 ipproto 132 table 1 priority 8\n}\n' +
      instance('A', ''),
  );
  t.like(c.staticRules?.[0], { realms: (30 << 16) | 20 });
  t.like(c.staticRules?.[1], { suppressIfgroup: 7 });
  t.like(c.staticRules?.[2], { ipProto: 17 });
  t.like(c.staticRules?.[3], { ipProto: 132 });
  t.deepEqual(diags('static_rules {\n from 2001:db8::/32 table 1 realms 3 priority 5\n}\n'), [['family-mismatch', 'error', 2, 29]]);
});

test('no_track on virtual addresses, routes and rules is kept (owned-deletion.ts acts on it)', (t) => {
  const c = ok(instance('A', ' virtual_routes {\n  10.1.0.0/16 dev eth0 no_track\n }\n virtual_rules {\n  to 10.0.0.0/8 table 2 priority 9 no_track\n }', '10.0.0.1/24 no_track'));
  const i = c.vrrpInstances[0]!;
  t.true(i.virtualIpaddress[0]?.noTrack);
  t.true(i.virtualRoutes[0]?.noTrack);
  t.true(i.virtualRules?.[0]?.noTrack);
});

test('routes: encap ip / ip6 (id, dst, src, tos, ttl, flags); mpls and ila warn with the reason; a tunnel without dst or id is an error', (t) => {
  const c = ok('static_routes {\n 10.0.0.0/8 dev eth0 encap ip id 18446744073709551615 dst 10.1.1.1 src 10.1.1.2 tos 0x10 ttl 9 flags 1 metric 5\n 2001:db8::/32 dev eth0 encap ip6 dst 2001:db8::9 hoplimit 8 tc 3\n}\n' + instance('A', ''));
  t.deepEqual(c.staticRoutes?.[0]?.encap, { type: 'ip', id: '18446744073709551615', dst: '10.1.1.1', src: '10.1.1.2', tos: 16, ttl: 9, flags: 1 });
  t.is(c.staticRoutes?.[0]?.metric, 5, 'route options after the tunnel ones');
  t.deepEqual(c.staticRoutes?.[1]?.encap, { type: 'ip6', dst: '2001:db8::9', ttl: 8, tos: 3 });
  const w = parse('static_routes {\n 10.0.0.0/8 dev eth0 encap mpls 100\n}\n').diagnostics;
  t.deepEqual(w.map((d) => d.code), ['unsupported-option']);
  t.regex(w[0]!.message, /no MPLS or ILA tunnels/);
  t.deepEqual(diags('static_routes {\n 10.0.0.0/8 dev eth0 encap ip ttl 3\n}\n'), [['missing-value', 'error', 2, 22]]);
  t.deepEqual(diags('static_routes {\n 10.0.0.0/8 dev eth0 encap ip dst 2001:db8::1\n}\n'), [['family-mismatch', 'error', 2, 35]]);
});
