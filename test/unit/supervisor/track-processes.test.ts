import test from 'ava';
import type { TrackProcess } from '../../../src/config/model.ts';
import { processMatches } from '../../../src/supervisor/track-processes.ts';

const loc = { file: 't.conf', line: 1, col: 1 };
const spec = (over: Partial<TrackProcess>): TrackProcess => ({
  name: 'p',
  process: 'nginx',
  params: [],
  paramMatch: 'none',
  fullCommand: false,
  weight: 1,
  weightReverse: false,
  quorum: 1,
  forkDelayMs: 0,
  terminateDelayMs: 0,
  loc,
  ...over,
});

test('by name: the comm must equal the process exactly (not a pgrep regex: ssh does not match sshd)', (t) => {
  t.true(processMatches(spec({}), { comm: 'nginx' }));
  t.false(processMatches(spec({ process: 'ssh' }), { comm: 'sshd' }));
});

test('full_command: argv[0] must equal the process; parameters by param_match', (t) => {
  const argv = ['/usr/sbin/haproxy', '-f', '/etc/haproxy.cfg', '-p', '/run/h.pid'];
  const p = (o: Partial<TrackProcess>): boolean => processMatches(spec({ process: '/usr/sbin/haproxy', fullCommand: true, ...o }), { comm: 'haproxy', argv });
  t.true(p({}), 'no parameters: any');
  t.false(processMatches(spec({ process: 'haproxy', fullCommand: true }), { comm: 'haproxy', argv }), 'argv[0] as written');
  t.true(p({ paramMatch: 'exact', params: ['-f', '/etc/haproxy.cfg', '-p', '/run/h.pid'] }));
  t.false(p({ paramMatch: 'exact', params: ['-f', '/etc/haproxy.cfg'] }));
  t.true(p({ paramMatch: 'partial', params: ['-f', '/etc/haproxy.cfg'] }));
  t.false(p({ paramMatch: 'partial', params: ['-f', '/etc/haproxy'] }), 'partial: whole parameters');
  t.true(p({ paramMatch: 'initial', params: ['-f', '/etc/haproxy'] }), 'initial: the last may be longer');
  t.false(p({ paramMatch: 'exact', params: [] }), 'param_match alone: no parameters allowed');
  t.true(processMatches(spec({ process: '/usr/bin/app', fullCommand: true, paramMatch: 'exact' }), { comm: 'app', argv: ['/usr/bin/app'] }));
  t.false(processMatches(spec({ process: '/usr/bin/app', fullCommand: true }), { comm: 'app', argv: [] }), 'a kernel thread has no command line');
});
