import test from 'ava';
import { diags, instance, ok } from './helpers.ts';

test('garp_group: the instance on a listed interface gets its intervals; others the global ones; none, no pacing', (t) => {
  const c = ok(
    'global_defs {\n vrrp_garp_interval 0.001\n}\n' +
      'garp_group {\n garp_interval 0.05\n gna_interval 0.2\n interfaces {\n  eth1\n  eth2\n }\n}\n' +
      instance('A', ' interface eth1') +
      instance('B', ' interface eth3').replace('51', '52'),
  );
  t.deepEqual(c.vrrpInstances[0]?.garpPacing, { group: 'garp_group eth1,eth2', arpIntervalMs: 50, naIntervalMs: 200 });
  t.deepEqual(c.vrrpInstances[1]?.garpPacing, { group: 'eth3', arpIntervalMs: 1, naIntervalMs: 0 });
  t.is(ok(instance('A', '')).vrrpInstances[0]?.garpPacing, undefined);
  t.deepEqual(ok('garp_group {\n garp_interval 1\n interface eth0\n}\n' + instance('A', '')).vrrpInstances[0]?.garpPacing, { group: 'garp_group eth0', arpIntervalMs: 1000, naIntervalMs: 0 });
});

test('garp_group without an interface is an error; nothing about it is "not implemented"', (t) => {
  t.deepEqual(diags('garp_group {\n garp_interval 1\n}\n'), [['missing-keyword', 'error', 1, 1]]);
});
