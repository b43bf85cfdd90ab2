import test from 'ava';
import * as check from '../../../src/check/targets.ts';
import * as lvs from '../../../src/lvs/keys.ts';
import { ipKey, rs, vs } from './build.ts';

// Check results reach the LVS layer keyed by the checkers' realServerKey: the two must agree.
test('realServerKey and virtualServerKey agree with the checkers', (t) => {
  const servers = [
    vs(ipKey('10.0.0.1', 80), [rs('192.168.1.2', 8080)]),
    vs(ipKey('2001:db8::1', 443), [rs('2001:db8::2', 443)], { protocol: 'UDP' }),
    vs({ kind: 'fwmark', fwmark: 7, family: 4 }, [rs('192.168.1.3', 0)]),
    vs({ kind: 'group', name: 'web' }, [rs('192.168.1.4', 80)]),
  ];
  for (const v of servers) {
    t.is(lvs.virtualServerKey(v), check.virtualServerKey(v));
    for (const r of v.realServers) t.is(lvs.realServerKey(v, r), check.realServerKey(v, r));
  }
});
