import test from 'ava';
import type { Checker, Config, RealServer, VirtualServer, VrrpScript } from '../../../src/config/model.ts';
import { checkTask, realServerKey, scriptSpec, targetsFromConfig, unsupportedOptions, virtualServerKey } from '../../../src/check/targets.ts';

const loc = { file: 'keepalived.conf', line: 1, col: 1 };
const common = { loc, connectTimeoutMs: 3000, retry: 2, delayBeforeRetryMs: 500, delayLoopMs: 6000, alpha: false };

const http: Checker = {
  ...common,
  type: 'SSL_GET',
  urls: [
    { path: '/a', statusCodes: [{ from: 200, to: 204 }], digest: 'abc', loc },
    { path: '/b', statusCodes: [], virtualhost: 'b.example', loc },
  ],
  enableSni: true,
  tlsVerify: false,
  connectPort: 8443,
  bindTo: '10.0.0.9',
};
const misc: Checker = {
  ...common,
  type: 'MISC_CHECK',
  miscPath: { raw: '/usr/local/bin/chk --fast', argv: ['/usr/local/bin/chk', '--fast'], user: 'nobody', loc },
  miscTimeoutMs: 2000,
  miscDynamic: true,
};
const rs: RealServer = { loc, address: '192.168.1.2', family: 4, port: 80, weight: 3, inhibitOnFailure: false, checkers: [http, misc] };
const vs: VirtualServer = {
  loc,
  key: { kind: 'ip', address: '10.0.0.1', family: 4, port: 80 },
  delayLoopMs: 60_000,
  lbAlgo: 'wlc',
  lbKind: 'NAT',
  protocol: 'TCP',
  quorum: 1,
  hysteresis: 0,
  alpha: true,
  omega: false,
  sorryServerInhibit: false,
  virtualhost: 'www.example',
  haSuspend: false,
  schedFlags: [],
  realServers: [rs],
};

test('keys name the virtual server and the real server', (t) => {
  t.is(realServerKey(vs, rs), '10.0.0.1:80/TCP|192.168.1.2:80');
  t.is(virtualServerKey({ ...vs, key: { kind: 'fwmark', fwmark: 7, family: 6 } }), 'fwmark:7/v6');
  t.is(virtualServerKey({ ...vs, key: { kind: 'group', name: 'web' } }), 'group:web');
  t.is(realServerKey({ ...vs, key: { kind: 'ip', address: '2001:db8::1', family: 6, port: 443 } }, { ...rs, address: '2001:db8::2', port: 8443 }), '[2001:db8::1]:443/TCP|[2001:db8::2]:8443');
});

test('SSL_GET task: connect_port, bindto, virtualhost from the virtual server, urls copied', (t) => {
  t.deepEqual(checkTask(vs, rs, http), {
    kind: 'http',
    address: '192.168.1.2',
    port: 8443,
    connectTimeoutMs: 3000,
    bindTo: '10.0.0.9',
    ssl: true,
    urls: [
      { path: '/a', statusCodes: [{ from: 200, to: 204 }], digest: 'abc' },
      { path: '/b', statusCodes: [], virtualhost: 'b.example' },
    ],
    virtualhost: 'www.example',
    sni: true,
    tlsVerify: false,
  });
});

test('MISC_CHECK task: argv, misc_timeout, misc_dynamic, and the resolved user', (t) => {
  const task = checkTask(vs, rs, misc, { resolveUser: (cmd) => (cmd.user === 'nobody' ? { uid: 65534, gid: 65534 } : undefined), graceMs: 300 });
  t.deepEqual(task, { kind: 'misc', argv: ['/usr/local/bin/chk', '--fast'], timeoutMs: 2000, dynamic: true, graceMs: 300, uid: 65534, gid: 65534 });
});

test('targetsFromConfig: one target per real server, timing from the checker, alpha from the virtual server', (t) => {
  const config = { virtualServers: [vs] } as unknown as Config;
  const targets = targetsFromConfig(config);
  t.is(targets.length, 1);
  t.is(targets[0]!.key, '10.0.0.1:80/TCP|192.168.1.2:80');
  t.like(targets[0]!.checkers[0], { delayLoopMs: 6000, retry: 2, delayBeforeRetryMs: 500, alpha: true });
  t.is(targets[0]!.checkers.length, 2);
  t.deepEqual(unsupportedOptions({ ...http, bindIf: 'eth0', fwmark: 3 }), ['bind_if', 'fwmark']);
});

test('scriptSpec: vrrp_script to a tracker spec', (t) => {
  const s: VrrpScript = {
    name: 'chk_nginx',
    script: { raw: 'pidof nginx', argv: ['pidof', 'nginx'], loc },
    intervalMs: 2000,
    timeoutMs: 1500,
    weight: -20,
    weightReverse: false,
    fall: 3,
    rise: 2,
    initFail: true,
    loc,
  };
  t.deepEqual(scriptSpec(s), {
    name: 'chk_nginx',
    task: { kind: 'script', argv: ['pidof', 'nginx'], timeoutMs: 1500 },
    intervalMs: 2000,
    fall: 3,
    rise: 2,
    initFail: true,
  });
});
