import test from 'ava';
import { diffConfigs, RESTART_FIELDS, realServerKey, sameValue, virtualServerKey } from '../../../src/config/diff.ts';
import type { Config } from '../../../src/config/model.ts';
import { ok } from './helpers.ts';

const base = `global_defs {
 router_id a
}
vrrp_script chk {
 script /bin/true
}
vrrp_sync_group G {
 group {
  VI_1 VI_2
 }
}
vrrp_instance VI_1 {
 interface eth0
 virtual_router_id 51
 priority 100
 virtual_ipaddress {
  10.0.0.1/24
  10.0.0.2/24
 }
 track_script {
  chk
 }
}
vrrp_instance VI_2 {
 interface eth0
 virtual_router_id 52
 virtual_ipaddress {
  10.0.1.1/24
 }
}
virtual_server 10.0.0.100 80 {
 lb_algo rr
 lb_kind NAT
 protocol TCP
 real_server 10.0.0.11 80 {
  TCP_CHECK {
   connect_timeout 3
  }
 }
 real_server 10.0.0.12 80 {
 }
}
`;

function edit(text: string, from: string, to: string): Config {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${from}`);
  return ok(text.replace(from, to));
}

test('identical configs give an empty plan, even when blocks move to other lines', (t) => {
  const a = ok(base);
  const moved = ok('\n\n# comment\n' + base.replace(/\n /g, '\n   '));
  const p = diffConfigs(a, moved);
  t.true(p.empty);
  t.deepEqual(p.vrrpInstances.unchanged, ['VI_1', 'VI_2']);
  t.deepEqual(p.virtualServers.unchanged, ['10.0.0.100:80/TCP']);
  t.deepEqual(p.globalDefs, []);
});

test('priority, VIPs and tracking change in place; the VIP delta is listed', (t) => {
  const next = edit(base, ' priority 100\n virtual_ipaddress {\n  10.0.0.1/24\n  10.0.0.2/24', ' priority 120\n virtual_ipaddress {\n  10.0.0.1/24\n  10.0.0.3/24');
  const p = diffConfigs(ok(base), next);
  t.false(p.empty);
  t.deepEqual(p.vrrpInstances.unchanged, ['VI_2']);
  const c = p.vrrpInstances.changed[0]!;
  t.like(c, { name: 'VI_1', restart: false });
  t.deepEqual(c.fields, ['priority', 'virtualIpaddress']);
  t.deepEqual(c.vipsAdded.map((v) => v.address), ['10.0.0.3']);
  t.deepEqual(c.vipsRemoved.map((v) => v.address), ['10.0.0.2']);
  const adv = diffConfigs(ok(base), edit(base, ' priority 100\n', ' priority 100\n advert_int 2\n notify /bin/n\n'));
  t.deepEqual(adv.vrrpInstances.changed[0]!.fields, ['advertIntMs', 'notify']);
  t.false(adv.vrrpInstances.changed[0]!.restart);
});

test('VRID, interface, version, family changes need a restart', (t) => {
  for (const [from, to, field] of [
    ['virtual_router_id 51', 'virtual_router_id 61', 'virtualRouterId'],
    [' interface eth0\n virtual_router_id 51', ' interface eth1\n virtual_router_id 51', 'interface'],
    [' priority 100\n', ' priority 100\n version 3\n', 'version'],
    [' priority 100\n', ' priority 100\n use_vmac\n', 'useVmac'],
    [' priority 100\n', ' priority 100\n unicast_peer {\n  10.0.0.9\n }\n', 'unicastPeers'],
  ] as const) {
    const p = diffConfigs(ok(base), edit(base, from, to));
    const c = p.vrrpInstances.changed.find((x) => x.name === 'VI_1')!;
    t.true(c.fields.includes(field), field);
    t.true(c.restart, field);
    t.true(RESTART_FIELDS.has(field));
  }
  const fam = diffConfigs(ok(base), edit(base, '  10.0.1.1/24', '  2001:db8::1/64'));
  const c = fam.vrrpInstances.changed.find((x) => x.name === 'VI_2')!;
  t.deepEqual(c.fields, ['version', 'family', 'virtualIpaddress']);
  t.true(c.restart);
});

test('instances, scripts and groups added and removed by name', (t) => {
  const next = ok(
    base
      .replace('vrrp_script chk {', 'vrrp_script other {\n script /bin/false\n}\nvrrp_script chk {')
      .replace(/vrrp_instance VI_2 \{[^}]*\}\n\}\n/, 'vrrp_instance VI_3 {\n interface eth0\n virtual_router_id 53\n virtual_ipaddress {\n  10.0.3.1\n }\n}\n')
      .replace('VI_1 VI_2', 'VI_1 VI_3'),
  );
  const p = diffConfigs(ok(base), next);
  t.deepEqual(p.vrrpInstances.added, ['VI_3']);
  t.deepEqual(p.vrrpInstances.removed, ['VI_2']);
  t.deepEqual(p.vrrpScripts.added, ['other']);
  t.deepEqual(p.vrrpScripts.unchanged, ['chk']);
  t.deepEqual(p.vrrpSyncGroups.changed, [{ name: 'G', fields: ['members'] }]);
});

test('vrrp_script and global_defs changes are listed by field', (t) => {
  const p = diffConfigs(ok(base), edit(base, 'script /bin/true', 'script /bin/true\n interval 5'));
  t.deepEqual(p.vrrpScripts.changed, [{ name: 'chk', fields: ['intervalMs', 'timeoutMs'] }]);
  const g = diffConfigs(ok(base), edit(base, 'router_id a', 'router_id b\n smtp_connect_timeout 5'));
  t.deepEqual(g.globalDefs, ['smtpConnectTimeoutMs', 'routerId']);
});

test('virtual servers by key and protocol; real servers by address:port; checkers structurally', (t) => {
  const next = base.replace('connect_timeout 3', 'connect_timeout 4').replace(' real_server 10.0.0.12 80 {\n }', ' real_server 10.0.0.13 80 {\n }');
  t.not(next, base);
  const p = diffConfigs(ok(base), ok(next));
  const c = p.virtualServers.changed[0]!;
  t.is(c.name, '10.0.0.100:80/TCP');
  t.false(c.serviceChanged);
  t.deepEqual(c.realServers.added, ['10.0.0.13:80']);
  t.deepEqual(c.realServers.removed, ['10.0.0.12:80']);
  t.deepEqual(c.realServers.changed, [{ name: '10.0.0.11:80', fields: ['checkers'] }]);
  const svc = diffConfigs(ok(base), edit(base, ' lb_algo rr', ' lb_algo wrr'));
  t.true(svc.virtualServers.changed[0]!.serviceChanged);
  t.deepEqual(svc.virtualServers.changed[0]!.fields, ['lbAlgo']);
  const proto = diffConfigs(ok(base), edit(base, ' protocol TCP', ' protocol UDP'));
  t.deepEqual(proto.virtualServers.added, ['10.0.0.100:80/UDP']);
  t.deepEqual(proto.virtualServers.removed, ['10.0.0.100:80/TCP']);
});

test('keys and structural equality helpers', (t) => {
  const c = ok('virtual_server fwmark 5 {\n lb_algo rr\n lb_kind NAT\n persistence_timeout 60\n real_server 2001:db8::2 {\n }\n}\nvirtual_server_group G {\n 10.0.0.1 80\n}\nvirtual_server group G {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 10.0.0.2 80 {\n }\n}\nvirtual_server 2001:db8::1 443 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 2001:db8::2 443 {\n }\n}\n');
  t.deepEqual(c.virtualServers.map(virtualServerKey), ['fwmark 5/v6/TCP', 'group G/TCP', '[2001:db8::1]:443/TCP']);
  t.is(realServerKey(c.virtualServers[0]!.realServers[0]!), '[2001:db8::2]:0');
  t.true(sameValue({ a: [1, { b: 2, loc: 1 }] }, { a: [1, { b: 2, loc: 9 }] }));
  t.false(sameValue({ a: [1, 2] }, { a: [1, 2, 3] }));
  t.false(sameValue({ a: 1 }, { a: 1, b: 2 }));
  t.false(sameValue([1], { 0: 1 }));
  t.false(sameValue(null, {}));
  const p = diffConfigs(c, c);
  t.true(p.empty);
  t.deepEqual(p.virtualServerGroups.unchanged, ['G']);
});
