import test from 'ava';
import { diags, instance, ok, parse } from './helpers.ts';

test('vrrp_track_process: every keyword; parameters imply an exact command-line match', (t) => {
  const c = ok(
    'vrrp_track_process nginx {\n process nginx\n weight -20 reverse\n quorum 2\n quorum_max 4\n fork_delay 0.5\n terminate_delay 2\n}\n' +
      'vrrp_track_process hap {\n process /usr/sbin/haproxy -f "/etc/haproxy/a b.cfg"\n delay 1\n}\n' +
      'vrrp_track_process init {\n process /sbin/init -x\n param_match initial\n full_command\n}\n' +
      'vrrp_track_process bare {\n process /usr/bin/app\n param_match\n}\n' +
      instance('A', ' track_process {\n  nginx\n  hap weight 0\n  init\n  bare\n }'),
  );
  t.like(c.trackProcesses?.[0], { name: 'nginx', process: 'nginx', params: [], paramMatch: 'none', fullCommand: false, weight: -20, weightReverse: true, quorum: 2, quorumMax: 4, forkDelayMs: 500, terminateDelayMs: 2000 });
  t.like(c.trackProcesses?.[1], { process: '/usr/sbin/haproxy', params: ['-f', '/etc/haproxy/a b.cfg'], paramMatch: 'exact', fullCommand: true, weight: 1, quorum: 1, forkDelayMs: 1000, terminateDelayMs: 1000 });
  t.like(c.trackProcesses?.[2], { paramMatch: 'initial', params: ['-x'], fullCommand: true });
  t.like(c.trackProcesses?.[3], { paramMatch: 'exact', params: [], fullCommand: true });
  t.is(c.trackProcesses?.[0]?.quorumMax, 4);
  t.is(c.trackProcesses?.[1]?.quorumMax, undefined);
  t.like(c.vrrpInstances[0]?.trackProcesses, [{ name: 'nginx' }, { name: 'hap', weight: 0 }, { name: 'init' }, { name: 'bare' }]);
});

test('vrrp_track_process errors and warnings', (t) => {
  t.deepEqual(diags('vrrp_track_process x {\n weight 2\n}\n'), [['missing-keyword', 'error', 1, 20]]);
  t.deepEqual(diags(instance('A', ' track_process {\n  nope\n }')), [['unknown-reference', 'error', 8, 3]]);
  t.deepEqual(diags('vrrp_track_process x {\n process a\n quorum 3\n quorum_max 2\n}\n'), [['range', 'error', 4, 13]]);
  t.deepEqual(diags('vrrp_track_process x {\n process a\n weight 300\n}\n'), [['range', 'error', 3, 9]]);
  t.deepEqual(diags('vrrp_track_process x {\n process a-very-long-process-name\n}\n'), [['truncated', 'warning', 2, 10]]);
  t.is(parse('vrrp_track_process x {\n process a-very-long-process-name\n}\n').config?.trackProcesses?.[0]?.process, 'a-very-long-pro');
  t.is(parse('vrrp_track_process x {\n process a\n}\n').diagnostics.filter((d) => d.code.startsWith('unsupported')).length, 0);
});
