import test from 'ava';
import { formatDataDump, formatJsonDump, formatRs, formatStatsDump, formatVs } from '../../../src/supervisor/dumps.ts';
import { sampleStatus } from './status-fixture.ts';

test('data dump: keepalived sections with instances, VIPs, sync groups, real servers', (t) => {
  const text = formatDataDump(sampleStatus);
  const lines = text.split('\n');
  for (const l of [
    '------< Global definitions >------',
    ' Router ID = lb1',
    ' Reloads = 3 applied, 1 refused, 0 failed',
    '------< VRRP Sync groups >------',
    ' VRRP Sync Group = G1, MASTER',
    '------< VRRP Topology >------',
    ' VRRP Instance = VI_1',
    '   State = MASTER',
    '   Priority = 150',
    '   Effective priority = 140',
    '   Advert interval = 1 sec',
    '     10.0.0.100/24 dev eth0',
    '   Master router = fe80::1',
    '   Advert interval = 0.5 sec',
    '------< LVS Topology >------',
    ' VS = [10.0.0.100]:tcp:80',
    '   RS = [10.0.1.2]:tcp:80',
    '     Alive = no',
  ]) t.true(lines.includes(l), l);
  t.true(text.endsWith('\n'));
});

test('stats dump: keepalived vrrp_print_stats layout, drops mapped to its names, unknown reasons kept', (t) => {
  const text = formatStatsDump(sampleStatus);
  const vi1 = text.split('VRRP Instance: VI_6')[0] ?? '';
  t.true(vi1.startsWith('VRRP Instance: VI_1\n  Advertisements:\n    Received: 12\n    Sent: 3600\n  Became master: 2\n  Released master: 1\n  Packet Errors:\n    Length: 0\n    TTL: 3\n'));
  t.regex(vi1, /  Authentication Errors:\n    Invalid Type: 0\n    Type Mismatch: 0\n    Failure: 1\n  Priority Zero:\n    Received: 1\n    Sent: 0\n  Other drops:\n    vrid-mismatch: 5\n$/);
  t.regex(text, /VRRP Instance: VI_6\n  Advertisements:\n    Received: 3600\n    Sent: 0\n  Became master: 0\n  Released master: 0\n/);
});

test('json dump: keepalived array of {data, stats} plus the full vigil status', (t) => {
  const obj = JSON.parse(formatJsonDump(sampleStatus)) as {
    vrrp: { data: Record<string, unknown>; stats: Record<string, unknown> }[];
    vigil: typeof sampleStatus;
  };
  t.is(obj.vrrp.length, 2);
  t.like(obj.vrrp[0]?.data, { iname: 'VI_1', vrid: 51, state: 2, base_priority: 150, effective_priority: 140, vipset: true, adver_int: 1 });
  t.like(obj.vrrp[1]?.data, { iname: 'VI_6', state: 1, version: 3 });
  t.like(obj.vrrp[0]?.stats, { advert_rcvd: 12, advert_sent: 3600, become_master: 2, release_master: 1, pri_zero_rcvd: 1 });
  t.deepEqual(obj.vigil, sampleStatus);
});

test('service names as keepalived prints them', (t) => {
  t.is(formatVs({ key: { kind: 'ip', address: '10.0.0.1', family: 4, port: 80 }, protocol: 'TCP' }), '[10.0.0.1]:tcp:80');
  t.is(formatVs({ key: { kind: 'ip', address: '2001:db8::1', family: 6, port: 53 }, protocol: 'UDP' }), '[2001:db8::1]:udp:53');
  t.is(formatVs({ key: { kind: 'fwmark', fwmark: 5, family: 4 }, protocol: 'TCP' }), 'FWM 5');
  t.is(formatVs({ key: { kind: 'group', name: 'web' }, protocol: 'TCP' }), '[web]:0');
  t.is(formatRs({ address: '10.0.1.1', port: 8080 }, { protocol: 'SCTP' }), '[10.0.1.1]:sctp:8080');
});
