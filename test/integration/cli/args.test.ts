/** parseArgs is pure; these are its unit tests, kept next to the CLI process tests. */
import test from 'ava';
import { DEFAULT_CONFIG_FILE, DEFAULT_CONTROL_SOCKET, DEFAULT_PID_FILE, parseArgs, shortHostname, validHostPort } from '../../../src/cli/args.ts';

const env = { hostname: 'lb1' };

test('no arguments: the daemon with keepalived defaults', (t) => {
  const { plan, notices } = parseArgs([], env);
  t.deepEqual(notices, []);
  t.deepEqual(plan, {
    kind: 'daemon',
    options: {
      configFile: DEFAULT_CONFIG_FILE,
      configId: 'lb1',
      vrrpOnly: false,
      checkOnly: false,
      pidFile: DEFAULT_PID_FILE,
      controlSocket: DEFAULT_CONTROL_SOCKET,
      logLevel: 'info',
      logFormat: 'json',
      dontFork: false,
    },
  });
});

test('every daemon flag, long and short, with = and separate values', (t) => {
  const { plan } = parseArgs(['--use-file=/k.conf', '-i', 'n2', '-n', '-l', '-P', '--pid', '/run/v.pid', '--log-level', 'trace', '--log-format=pretty', '--control-socket', '/tmp/s', '--metrics-listen', '127.0.0.1:9650'], env);
  t.deepEqual(plan, {
    kind: 'daemon',
    options: {
      configFile: '/k.conf',
      configId: 'n2',
      vrrpOnly: true,
      checkOnly: false,
      pidFile: '/run/v.pid',
      controlSocket: '/tmp/s',
      logLevel: 'trace',
      logFormat: 'pretty',
      dontFork: true,
      metricsListen: '127.0.0.1:9650',
    },
  });
  const d = parseArgs(['-D', '-C', '-fX'], env).plan;
  t.like(d, { kind: 'daemon', options: { logLevel: 'debug', checkOnly: true, configFile: 'X' } });
});

test('-t and --dump-conf make a check plan', (t) => {
  t.deepEqual(parseArgs(['-t', '-f', 'a.conf'], env).plan, { kind: 'check', configFile: 'a.conf', configId: 'lb1', test: true, dump: false });
  t.deepEqual(parseArgs(['--dump-conf', '--config-id', 'z'], env).plan, { kind: 'check', configFile: DEFAULT_CONFIG_FILE, configId: 'z', test: false, dump: true });
});

test('subcommands', (t) => {
  t.deepEqual(parseArgs(['genhash', '-s', '10.0.0.1', '-p', '80', '-u', '/'], env).plan, { kind: 'genhash', argv: ['-s', '10.0.0.1', '-p', '80', '-u', '/'] });
  t.deepEqual(parseArgs(['status'], env).plan, { kind: 'control', command: 'status', socketPath: DEFAULT_CONTROL_SOCKET, json: false });
  t.deepEqual(parseArgs(['reload', '--control-socket', '/tmp/x'], env).plan, { kind: 'control', command: 'reload', socketPath: '/tmp/x', json: false });
  t.deepEqual(parseArgs(['reload', '--control-socket=/tmp/y'], env).plan, { kind: 'control', command: 'reload', socketPath: '/tmp/y', json: false });
  t.deepEqual(parseArgs(['status', '--json'], env).plan, { kind: 'control', command: 'status', socketPath: DEFAULT_CONTROL_SOCKET, json: true });
  t.like(parseArgs(['status', 'now'], env).plan, { kind: 'error' });
});

test('help and version win; errors for unknown flags, missing values, bad values', (t) => {
  t.deepEqual(parseArgs(['-f', 'x', '-h'], env).plan, { kind: 'help' });
  t.deepEqual(parseArgs(['--version'], env).plan, { kind: 'version' });
  for (const argv of [['-q'], ['--nope'], ['-f'], ['--pid'], ['--dont-fork=yes'], ['stray'], ['--log-format', 'xml'], ['--metrics-listen', 'nohost'], ['-P', '-C'], ['-f', '']]) {
    t.is(parseArgs(argv, env).plan.kind, 'error', argv.join(' '));
  }
});

test('unimplemented keepalived flags are accepted with one notice each', (t) => {
  const { plan, notices } = parseArgs(['-G', '-G', '-r', '/a', '--checkers_pid=/b', '-s', 'ns1', '-V', '-I', '-R', '-a', '-m', '-x', '-u', '077', '-e', '-B', '-S', '1', '-g'], env);
  t.is(plan.kind, 'daemon');
  t.is(notices.length, 14);
  t.is(plan.kind === 'daemon' ? plan.options.namespace : undefined, 'ns1', '-s NAME is the network namespace to run in');
  t.true(notices.every((n) => n.startsWith('vigil: -') && (n.includes('ignored') || n.includes('vigil'))));
  t.is(new Set(notices).size, notices.length);
});

test('helpers', (t) => {
  t.is(shortHostname('lb1.example.com'), 'lb1');
  t.is(shortHostname('lb1'), 'lb1');
  t.true(validHostPort('0.0.0.0:9650'));
  t.true(validHostPort('[::1]:0'));
  t.true(validHostPort('localhost:80'));
  t.false(validHostPort(':80'));
  t.false(validHostPort('h:65536'));
  t.false(validHostPort('[::1]80'));
});
