import test from 'ava';
import { lostOwned, type Held } from '../../../src/supervisor/owned-deletion.ts';
import { instance, loc } from '../vrrp/fixtures.ts';

const inst = instance({
  virtualIpaddress: [
    { address: '10.0.0.100', prefixLen: 24, family: 4, loc },
    { address: '10.0.0.101', prefixLen: 24, family: 4, loc, noTrack: true },
  ],
  virtualRoutes: [
    { to: '10.94.0.0', prefixLen: 16, family: 4, dev: 'eth0', loc },
    { to: '10.95.0.0', prefixLen: 16, family: 4, table: 100, loc, noTrack: true },
  ],
  virtualRules: [
    { family: 4, priority: 500, table: 100, loc },
    { family: 4, priority: 501, table: 100, loc, noTrack: true },
  ],
});
const held: Held = {
  addrs: [
    { ifname: 'eth0', address: '10.0.0.100', prefixLen: 24, family: 4 },
    { ifname: 'eth0', address: '10.0.0.101', prefixLen: 24, family: 4 },
  ],
  routes: [
    { to: '10.94.0.0', prefixLen: 16, family: 4, ifname: 'eth0' },
    { to: '10.95.0.0', prefixLen: 16, family: 4, table: 100 },
  ],
  rules: [
    { family: 4, priority: 500, table: 100 },
    { family: 4, priority: 501, table: 100 },
  ],
};

test('a tracked VIP, route or rule that we hold is lost; no_track ones, others\' and other tables/protocols are not', (t) => {
  t.regex(lostOwned(inst, held, { kind: 'address', family: 4, address: '10.0.0.100', ifindex: 2 }) ?? '', /10.0.0.100 deleted/);
  t.is(lostOwned(inst, held, { kind: 'address', family: 4, address: '10.0.0.101', ifindex: 2 }), undefined, 'no_track');
  t.is(lostOwned(inst, held, { kind: 'address', family: 4, address: '10.0.0.1', ifindex: 2 }), undefined, 'not ours');
  t.regex(lostOwned(inst, held, { kind: 'route', family: 4, to: '10.94.0.0', prefixLen: 16, table: 254, protocol: 18 }) ?? '', /10.94.0.0\/16/);
  t.is(lostOwned(inst, held, { kind: 'route', family: 4, to: '10.94.0.0', prefixLen: 16, table: 254, protocol: 4 }), undefined, "an operator's (static) route");
  t.is(lostOwned(inst, held, { kind: 'route', family: 4, to: '10.94.0.0', prefixLen: 16, table: 100, protocol: 18 }), undefined, 'another table');
  t.is(lostOwned(inst, held, { kind: 'route', family: 4, to: '10.95.0.0', prefixLen: 16, table: 100, protocol: 18 }), undefined, 'no_track');
  t.regex(lostOwned(inst, held, { kind: 'rule', family: 4, priority: 500, protocol: 18 }) ?? '', /pref 500/);
  t.is(lostOwned(inst, held, { kind: 'rule', family: 4, priority: 501, protocol: 18 }), undefined, 'no_track');
  t.is(lostOwned(inst, held, { kind: 'rule', family: 6, priority: 500, protocol: 18 }), undefined, 'other family');
  t.is(lostOwned(inst, { addrs: [], routes: [] }, { kind: 'address', family: 4, address: '10.0.0.100', ifindex: 2 }), undefined, 'not held (not master)');
});
