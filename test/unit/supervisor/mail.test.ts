import test from 'ava';
import {
  checkerAlertBody,
  miscAlertBody,
  realServerAlert,
  realServerRemovedAlert,
  virtualServerQuorumAlert,
  vrrpGroupAlert,
  vrrpInstanceAlert,
} from '../../../src/supervisor/mail.ts';

test('VRRP instance and group alerts read as keepalived writes them', (t) => {
  t.deepEqual(vrrpInstanceAlert('lb1', 'VI_1', 'MASTER'), {
    subject: '[lb1] VRRP Instance VI_1 - Entering MASTER state',
    body: '=> VRRP Instance is now owning VRRP VIPs <=',
  });
  t.deepEqual(vrrpInstanceAlert('lb1', 'VI_1', 'BACKUP').body, '=> VRRP Instance is no longer owning VRRP VIPs <=');
  t.deepEqual(vrrpInstanceAlert('lb1', 'VI_1', 'STOP'), { subject: '[lb1] VRRP Instance VI_1 - Stopping', body: '=> VRRP Instance stopping <=' });
  t.deepEqual(vrrpGroupAlert('lb1', 'G1', 'FAULT'), {
    subject: '[lb1] VRRP Group G1 - Entering FAULT state',
    body: '=> All VRRP group instances are now in FAULT state <=',
  });
});

test('checker alerts: real server UP/DOWN subjects and per-checker bodies', (t) => {
  t.deepEqual(realServerAlert('lb1', '[10.0.1.1]:tcp:80', '[10.0.0.1]:tcp:80', false, checkerAlertBody('TCP_CHECK', false)), {
    subject: '[lb1] Realserver [10.0.1.1]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN',
    body: '=> TCP CHECK failed on service <=',
  });
  t.is(checkerAlertBody('HTTP_GET', false), '=> CHECK failed on service : HTTP/SSL request failed <=');
  t.is(checkerAlertBody('SSL_GET', true), '=> CHECK succeed on service <=');
  t.is(checkerAlertBody('DNS_CHECK', true), '=> DNS_CHECK: succeed on service <=');
  t.is(miscAlertBody('timed out'), '=> MISC CHECK timed out on service <=');
  t.is(realServerRemovedAlert('lb1', 'a', 'b', true).body, '=> Shutting down <=');
  t.deepEqual(virtualServerQuorumAlert('lb1', 'FWM 5', { up: true, init: false, quorum: 2, hysteresis: 1, threshold: 3, weightSum: 4 }), {
    subject: '[lb1] Virtualserver FWM 5 - UP',
    body: '=> Gained quorum 2+1=3 <= 4 <=',
  });
});
