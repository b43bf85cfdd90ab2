import test from 'ava';
import { diags as allDiags, instance, parse } from './helpers.ts';

/**
 * Diagnostics without the "no protocol / lb_algo / lb_kind set, using the default" warnings
 * (parser.test.ts covers those): these tests are about ranges and references.
 */
const DEFAULTS = new Set(['default-protocol', 'default-scheduler', 'default-lb-kind']);
const diags = (text: string, opts?: Parameters<typeof allDiags>[1]): ReturnType<typeof allDiags> => allDiags(text, opts).filter((d) => !DEFAULTS.has(d[0]));

const vs = (head: string, body: string): string => `virtual_server ${head} {\n${body}\n}\n`;
const rs = (addr = '10.0.0.2 80', body = ''): string => ` real_server ${addr} {\n${body}\n }`;

test('virtual_router_id and priority ranges, at the value', (t) => {
  // keepalived: "(A): VRID '256' not valid - must be between 1 & 255" at the value, then "(A) the
  // virtual router id must be set" for the instance, which it drops
  for (const v of ['256', '0', 'abc', '4294967296', '+5']) {
    t.deepEqual(diags(instance('A', '').replace('virtual_router_id 51', `virtual_router_id ${v}`)), [
      ['missing-keyword', 'error', 1, 15],
      ['range', 'warning', 3, 20],
    ], v);
  }
  // a bad second virtual_router_id leaves the first, as in keepalived
  t.is(parse(instance('A', ' virtual_router_id 300')).config?.vrrpInstances[0]?.virtualRouterId, 51);
  // keepalived: "Priority not valid! must be between 1 & 255. Using default 100"
  t.deepEqual(diags(instance('A', ' priority 0')), [['range', 'warning', 7, 11]]);
  t.deepEqual(diags(instance('A', ' priority 256')), [['range', 'warning', 7, 11]]);
  t.is(parse(instance('A', ' priority 256')).config?.vrrpInstances[0]!.priority, 100);
  t.deepEqual(diags(instance('A', ' priority 255\n state MASTER')), []);
  t.deepEqual(diags(instance('A', ' priority 255')), [['owner-backup', 'warning', 7, 11]]);
});

test('advert_int: > 0; VRRPv2 1..255 s; VRRPv3 0.01..40.95 s', (t) => {
  // keepalived: "Advert interval (X) not valid! Must be > 0 - ignoring" (0.01..255 s)
  t.deepEqual(diags(instance('A', ' advert_int 0')), [['range', 'warning', 7, 13]]);
  t.deepEqual(diags(instance('A', ' advert_int 256')), [['range', 'warning', 7, 13]]);
  t.deepEqual(diags(instance('A', ' advert_int 255')), []);
  t.deepEqual(diags(instance('A', ' version 3\n advert_int 41')), [['range', 'error', 8, 13]]);
  t.deepEqual(diags(instance('A', ' version 3\n advert_int 40.95')), []);
  t.deepEqual(diags(instance('A', ' version 3\n advert_int 0.01')), []);
  t.deepEqual(diags(instance('A', ' advert_int -1')), [['bad-value', 'error', 7, 13]]);
});

test('weights -253..253 on vrrp_script and track overrides', (t) => {
  const s = 'vrrp_script s {\n script /bin/true\n weight 254\n}\n';
  t.deepEqual(diags(s), [['range', 'error', 3, 9]]);
  const ok = 'vrrp_script s {\n script /bin/true\n weight -253\n}\n';
  t.deepEqual(diags(ok), []);
  t.deepEqual(diags(ok + instance('A', ' track_script {\n  s weight -300\n }')), [['range', 'error', 12, 12]]);
  t.deepEqual(diags(instance('A', ' track_interface {\n  eth0 weight 300\n }')), [['range', 'error', 8, 15]]);
});

test('vrrp_script interval and timeout 0 are 1 s, fall and rise 0 are 1; out of range or fractional values are ignored (keepalived 2.2)', (t) => {
  t.deepEqual(diags('vrrp_script s {\n script /bin/true\n interval 0\n timeout 0\n fall 0\n rise 0\n}\n'), [
    ['range', 'warning', 3, 11],
    ['range', 'warning', 4, 10],
    ['range', 'warning', 5, 7],
    ['range', 'warning', 6, 7],
  ]);
  const r = parse('vrrp_script s {\n script /bin/true\n interval 1.5\n timeout 5000\n}\n');
  t.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.loc.line]), [['range', 'warning', 3], ['range', 'warning', 4]]);
  t.like(r.config!.vrrpScripts[0], { intervalMs: 1000, timeoutMs: 1000 });
});

test('references: a track_script naming no vrrp_script is ignored with a warning; duplicate tracking warns', (t) => {
  // keepalived: "(A) track script chk_nginx not found, ignoring..."
  t.deepEqual(diags(instance('A', ' track_script {\n  chk_nginx\n }')), [['unknown-reference', 'warning', 8, 3]]);
  const s = 'vrrp_script s {\n script /bin/true\n}\n';
  t.deepEqual(diags(s + instance('A', ' track_script {\n  s\n  s\n }')), [['duplicate', 'warning', 12, 3]]);
});

test('sync groups: a member naming no instance is ignored with a warning (keepalived), at most one group per instance, single member warns', (t) => {
  const two = instance('A', '') + instance('B', '').replace('virtual_router_id 51', 'virtual_router_id 52');
  t.deepEqual(diags(`vrrp_sync_group G {\n group {\n  A\n  C\n }\n}\n${two}`), [['unknown-reference', 'warning', 4, 3]]);
  t.deepEqual(diags(`vrrp_sync_group G {\n group {\n  A B\n }\n}\nvrrp_sync_group H {\n group {\n  A\n  B\n }\n}\n${two}`), [
    ['duplicate', 'error', 8, 3],
    ['duplicate', 'error', 9, 3],
  ]);
  t.deepEqual(diags(`vrrp_sync_group G {\n group {\n  A\n }\n}\n${two}`), [['single-member', 'warning', 1, 17]]);
  t.deepEqual(diags(`vrrp_sync_group G {\n}\n${two}`), [['missing-keyword', 'error', 1, 17]]);
  t.deepEqual(diags(`vrrp_sync_group G {\n group {\n  A B\n }\n track_script {\n  nope\n }\n}\n${two}`), [['unknown-reference', 'warning', 6, 3]]);
  t.deepEqual(diags(`vrrp_sync_group G {\n group {\n  A B\n }\n}\nvrrp_sync_group G {\n group {\n }\n}\n${two}`).map((d) => d[0]), ['duplicate', 'missing-keyword']);
});

test('duplicates: instance names; same VRID and family on one interface', (t) => {
  const a = instance('A', '');
  t.deepEqual(diags(a + a.replace('virtual_router_id 51', 'virtual_router_id 52')), [['duplicate', 'error', 9, 15]]);
  t.deepEqual(diags(a + instance('B', '')), [['duplicate-vrid', 'error', 11, 20]]);
  // Same VRID on another interface, or for the other family, is fine.
  t.deepEqual(diags(a + instance('B', '').replace('eth0', 'eth1')), []);
  t.deepEqual(diags(a + instance('B', '', 'fe80::1')), []);
  t.deepEqual(diags('vrrp_script s {\n script /bin/true\n}\nvrrp_script s {\n script /bin/true\n}\n'), [['duplicate', 'error', 4, 13]]);
  t.deepEqual(diags(instance('A', '', '10.0.0.1\n  10.0.0.1/24')), [['duplicate', 'warning', 6, 3]]);
});

test('addresses: unicast and mcast sources and peers must match the instance family', (t) => {
  t.deepEqual(diags(instance('A', ' unicast_src_ip fe80::1\n mcast_src_ip 2001:db8::1\n unicast_peer {\n  10.0.0.2\n  2001:db8::2\n }')), [
    ['family-mismatch', 'error', 7, 17],
    ['family-mismatch', 'error', 8, 15],
    ['family-mismatch', 'error', 11, 3],
  ]);
  t.deepEqual(diags(instance('A', ' unicast_src_ip 10.0.0.300')), [['bad-address', 'error', 7, 17]]);
});

test('an interface missing on this host is a warning (instance, VIP dev, track_interface), once per name', (t) => {
  const text = instance('A', ' track_interface {\n  eth9\n  eth0\n }', '10.0.0.1 dev eth9');
  t.deepEqual(diags(text, { interfaces: ['eth0'] }), [['unknown-interface', 'warning', 5, 3]]);
  t.deepEqual(diags(text, { interfaces: [] }), [
    ['unknown-interface', 'warning', 2, 12],
    ['unknown-interface', 'warning', 5, 3],
  ]);
  const r = parse(text, { interfaces: [] });
  t.truthy(r.config, 'a missing interface does not stop the config');
});

test('nopreempt with state MASTER warns', (t) => {
  t.deepEqual(diags(instance('A', ' state MASTER\n nopreempt')), [['nopreempt-master', 'warning', 7, 8]]);
  // a member whose instance was refused for its own errors is not reported again
  const refusedB = instance('A', '') + instance('B', '').replace(' virtual_router_id 51\n', '');
  t.deepEqual(diags(`vrrp_sync_group G {\n group {\n  A B\n }\n}\n${refusedB}`), [['missing-keyword', 'error', 14, 15]]);
});

test('instance with no VIP warns', (t) => {
  t.deepEqual(diags('vrrp_instance A {\n interface eth0\n virtual_router_id 1\n}\n'), [['no-vip', 'warning', 1, 15]]);
});

test('LVS ranges: ports, weights, status codes, persistence, fwmark, quorum', (t) => {
  t.deepEqual(diags(vs('10.0.0.1 65536', rs())), [['range', 'error', 1, 25]]);
  t.deepEqual(diags(vs('10.0.0.1 80', rs('10.0.0.2 70000'))), [['range', 'error', 2, 23]]);
  // keepalived: "Real server weight X is outside range 0-2147483647", and the weight stays 1
  t.deepEqual(diags(vs('10.0.0.1 80', rs('10.0.0.2 80', '  weight 70000'))), []);
  t.deepEqual(diags(vs('10.0.0.1 80', rs('10.0.0.2 80', '  weight 2147483648'))), [['range', 'warning', 3, 10]]);
  t.deepEqual(diags(vs('10.0.0.1 80', rs('10.0.0.2 80', '  weight -1'))), [['range', 'warning', 3, 10]]);
  t.deepEqual(diags(vs('10.0.0.1 80', rs('10.0.0.2 80', '  HTTP_GET {\n   url {\n    path /\n    status_code 99 200-600\n   }\n  }'))), [
    ['range', 'error', 6, 17],
    ['range', 'error', 6, 20],
  ]);
  t.deepEqual(diags(vs('10.0.0.1 80', rs('10.0.0.2 80', '  TCP_CHECK {\n   connect_port 99999\n   bind_port 70000\n   connect_timeout 0\n   delay_loop 0\n  }'))), [
    ['range', 'error', 4, 17],
    ['range', 'error', 5, 14],
    ['range', 'error', 6, 20],
    ['range', 'error', 7, 15],
  ]);
  t.deepEqual(diags(vs('10.0.0.1 80', ' persistence_timeout 2678401\n' + rs())), [['range', 'warning', 2, 22]]);
  t.deepEqual(diags(vs('fwmark 0', rs('10.0.0.2'))), [['range', 'error', 1, 1]]);
  // keepalived: "Quorum -1 must be in [1, 4294967295]. Setting to 1."; hysteresis: "- ignoring"
  t.deepEqual(diags(vs('10.0.0.1 80', ' quorum -1\n hysteresis -2\n' + rs())), [
    ['range', 'warning', 2, 9],
    ['range', 'warning', 3, 13],
  ]);
  t.deepEqual(diags(vs('10.0.0.1 80', ' quorum 5\n' + rs())), [['quorum-weight', 'warning', 1, 16]]);
  t.deepEqual(diags(vs('10.0.0.1 80', ' hysteresis 1\n' + rs())), [['hysteresis-quorum', 'warning', 1, 16]]);
  t.deepEqual(diags(vs('10.0.0.1 80', ' sorry_server 10.0.0.9 70000\n' + rs())), [['range', 'error', 2, 24]]);
  t.deepEqual(diags('global_defs {\n smtp_server 127.0.0.1 0\n smtp_connect_timeout 0\n}\n'), [
    ['range', 'error', 2, 24],
    ['range', 'warning', 3, 23],
  ]);
});

test('LVS references, duplicates and families', (t) => {
  t.deepEqual(diags(vs('group NOPE', rs())), [['unknown-reference', 'error', 1, 1]]);
  t.deepEqual(diags(vs('10.0.0.1 80', rs()) + vs('10.0.0.1 80', rs())), [['duplicate', 'error', 6, 1]]);
  t.deepEqual(diags(vs('10.0.0.1 80', ' protocol TCP\n' + rs()) + vs('10.0.0.1 80', ' protocol UDP\n' + rs())), []);
  // no protocol is UDP (keepalived 2.2), so this one clashes with the explicit UDP service
  t.deepEqual(diags(vs('10.0.0.1 80', rs()) + vs('10.0.0.1 80', ' protocol UDP\n' + rs())), [['duplicate', 'error', 6, 1]]);
  t.deepEqual(diags(vs('10.0.0.1 80', rs() + '\n' + rs())), [['duplicate', 'error', 5, 2]]);
  t.deepEqual(diags(vs('10.0.0.1 80', rs('2001:db8::2 80'))), [['family-mismatch', 'error', 2, 2]]);
  t.deepEqual(diags(vs('10.0.0.1 80', ' lb_kind TUN\n' + rs('2001:db8::2 80'))), []);
  t.deepEqual(diags(vs('10.0.0.1 80', ' sorry_server 2001:db8::9 80\n' + rs())), [['family-mismatch', 'error', 2, 15]]);
  // keepalived: "Virtual server … has no real servers - ignoring"
  t.deepEqual(diags(vs('10.0.0.1 80', '')), [['no-real-server', 'warning', 1, 16]]);
  t.is(parse(vs('10.0.0.1 80', '')).config?.virtualServers.length, 0);
  t.deepEqual(diags('virtual_server_group G {\n}\nvirtual_server_group G {\n 10.0.0.1 80\n}\n'), [
    ['empty', 'warning', 1, 1],
    ['duplicate', 'error', 3, 1],
  ]);
  t.deepEqual(diags('virtual_server_group G {\n 10.0.0.1 99999\n}\n'), [['range', 'error', 2, 11]]);
});

test('weighted tracking in a sync group member warns (keepalived ignores it)', (t) => {
  const sc = 'vrrp_script s {\n script /bin/true\n weight -10\n}\nvrrp_script z {\n script /bin/true\n}\n';
  const grp = 'vrrp_sync_group G {\n group {\n  A B\n }\n}\n';
  const b = instance('B', '').replace('virtual_router_id 51', 'virtual_router_id 52');
  const a = instance('A', ' track_script {\n  s\n  z\n  z weight 5\n  s weight 0\n }\n track_interface {\n  eth1 weight 3\n  eth2\n }');
  t.deepEqual(diags(sc + grp + a + b), [
    ['sync-group-weight', 'warning', 20, 3],
    ['duplicate', 'warning', 22, 3],
    ['sync-group-weight', 'warning', 22, 3],
    ['duplicate', 'warning', 23, 3],
    ['sync-group-weight', 'warning', 26, 3],
  ]);
});

test('vrrp_strict / strict_mode: what keepalived forbids in RFC-strict operation', (t) => {
  const strict = 'global_defs {\n vrrp_strict\n}\n';
  // authentication is dropped with a warning; a VIP-less instance is an error.
  const r = parse(strict + instance('A', ' authentication {\n  auth_type PASS\n  auth_pass x\n }'));
  t.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.loc.line, d.loc.col]), [['strict-mode', 'warning', 10, 2]]);
  t.is(r.config?.vrrpInstances[0]!.authentication, undefined);
  t.like(r.config?.vrrpInstances[0], { strictMode: true, accept: false });
  t.deepEqual(diags(strict + 'vrrp_instance B {\n interface eth0\n virtual_router_id 6\n}\n'), [['strict-mode', 'error', 4, 15]]);
  t.deepEqual(diags(strict + instance('C', ' unicast_peer {\n  10.0.0.9\n }\n state MASTER\n preempt_delay 5')), [
    ['strict-mode', 'error', 11, 3],
    ['strict-mode', 'warning', 13, 8],
    ['strict-mode', 'warning', 14, 16],
  ]);
  t.deepEqual(diags(strict + instance('D', ' state MASTER\n priority 255')), []);
  t.deepEqual(diags(instance('E', ' strict_mode on\n state MASTER')), [['strict-mode', 'warning', 8, 8]]);
  t.deepEqual(diags(strict + instance('F', ' strict_mode off\n unicast_peer {\n  10.0.0.9\n }')), []);
});

test('a keyword missing its value stops the checks keepalived runs later (it exits there)', (t) => {
  // keepalived: "*** Configuration line starting `lb_algo` is missing a parameter", exit 2: no
  // "no scheduler set, setting default 'wlc'" for the block, no whole-config checks.
  t.deepEqual(allDiags(vs('10.0.0.1 80', ' protocol TCP\n lb_algo\n' + rs())), [['missing-value', 'error', 3, 2]]);
  t.deepEqual(allDiags(vs('10.0.0.1 80', ' lb_algo\n' + rs()) + instance('A', '', '')), [['missing-value', 'error', 2, 2]]);
  // without the missing value, both are reported
  t.deepEqual(allDiags(vs('10.0.0.1 80', ' protocol TCP\n lb_kind DR\n' + rs()) + instance('A', '', '')), [
    ['default-scheduler', 'warning', 1, 16],
    ['no-vip', 'warning', 8, 15],
  ]);
});
