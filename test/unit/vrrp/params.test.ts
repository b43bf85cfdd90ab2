import test from 'ava';
import { decodeExpectFor, toRouterParams } from '../../../src/vrrp/params.ts';
import { instance, loc } from './fixtures.ts';

test('toRouterParams maps the instance and takes the primary address as given', (t) => {
  const p = toRouterParams(
    instance({ authentication: { type: 'PASS', pass: '1111' }, virtualIpaddress: [
      { address: '10.211.0.100', prefixLen: 24, family: 4, loc },
      { address: '2001:db8::1', prefixLen: 64, family: 6, loc },
    ] }),
    '10.211.0.1',
  );
  t.deepEqual(p, {
    name: 'VI_1',
    vrid: 51,
    version: 2,
    family: 4,
    priority: 100,
    advertIntMs: 1000,
    preempt: true,
    preemptDelayMs: 0,
    initialState: 'BACKUP',
    addresses: ['10.211.0.100'],
    primaryAddress: '10.211.0.1',
    unicast: false,
    authPass: '1111',
  });
  t.deepEqual(decodeExpectFor(p), { vrid: 51, version: 2, authType: 1, authPass: '1111', advertIntMs: 1000, addresses: ['10.211.0.100'] });
});

test('keepalived corrections: owner and state MASTER clear nopreempt; state MASTER clears preempt_delay; nopreempt drops preempt_delay', (t) => {
  t.true(toRouterParams(instance({ priority: 255, nopreempt: true }), '10.0.0.1').preempt);
  const m = toRouterParams(instance({ initialState: 'MASTER', nopreempt: true, preemptDelayMs: 5000 }), '10.0.0.1');
  t.true(m.preempt);
  t.is(m.preemptDelayMs, 0);
  const n = toRouterParams(instance({ nopreempt: true, preemptDelayMs: 5000 }), '10.0.0.1');
  t.false(n.preempt);
  t.is(n.preemptDelayMs, 0);
  t.is(toRouterParams(instance({ preemptDelayMs: 5000 }), '10.0.0.1').preemptDelayMs, 5000);
});

test('v3: no authentication, interval in centiseconds; v2 interval in whole seconds; unicast from peers', (t) => {
  const v3 = toRouterParams(instance({ version: 3, advertIntMs: 104, authentication: { type: 'PASS', pass: 'x' }, unicastPeers: ['10.0.0.2'] }), '10.0.0.1');
  t.is(v3.advertIntMs, 100);
  t.is(v3.authPass, undefined);
  t.true(v3.unicast);
  t.deepEqual(decodeExpectFor(v3), { vrid: 51, version: 3, authType: 0, addresses: ['10.211.0.100'] });
  t.is(toRouterParams(instance({ advertIntMs: 1500 }), '10.0.0.1').advertIntMs, 2000);
  t.is(toRouterParams(instance({ authentication: { type: 'AH', pass: 'x' } }), '10.0.0.1').authPass, undefined);
});

test('AH: the key goes to authAh, adverts expect auth type 2, and state MASTER starts as BACKUP below 255 (keepalived)', (t) => {
  const auth = { type: 'AH' as const, pass: 'secret12' };
  const p = toRouterParams(instance({ authentication: auth, initialState: 'MASTER', priority: 200 }), '10.0.0.1');
  t.is(p.authAh, 'secret12');
  t.is(p.authPass, undefined);
  t.is(p.initialState, 'BACKUP');
  t.is(decodeExpectFor(p).authType, 2);
  t.is(toRouterParams(instance({ authentication: auth, initialState: 'MASTER', priority: 255 }), '10.0.0.1').initialState, 'MASTER');
  t.is(toRouterParams(instance({ version: 3, authentication: auth }), '10.0.0.1').authAh, undefined);
});
