import test from 'ava';
import { encodeSockaddrUn, watchdogIntervalMs } from '../../../src/supervisor/sd-notify.ts';

test('sockaddr_un: a path keeps its NUL inside the length; an abstract name starts with NUL', (t) => {
  const p = encodeSockaddrUn('/run/systemd/notify');
  t.is(p.addr.readUInt16LE(0), 1);
  t.is(p.addr.subarray(2, 2 + 19).toString(), '/run/systemd/notify');
  t.is(p.len, 2 + 19 + 1);
  const a = encodeSockaddrUn('@abc');
  t.is(a.addr[2], 0);
  t.is(a.addr.subarray(3, 6).toString(), 'abc');
  t.is(a.len, 2 + 1 + 3);
  t.throws(() => encodeSockaddrUn('/' + 'x'.repeat(107)), { message: /longer/ });
});

test('watchdog interval: half of WATCHDOG_USEC in ms; off without it or for another pid', (t) => {
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 5), 15000);
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '5' }, 5), 15000);
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '6' }, 5), undefined);
  t.is(watchdogIntervalMs({}, 5), undefined);
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: 'x' }, 5), undefined);
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '0' }, 5), undefined);
});
