/** The checkers added for issue 11: UDP_CHECK, PING_CHECK, SMTP_CHECK, FILE_CHECK, url regex. */
import test from 'ava';
import type { HttpCheck, UdpCheck } from '../../../src/config/model.ts';
import { parseHexStr } from '../../../src/config/hex-str.ts';
import { checkTask, unsupportedOptions } from '../../../src/check/targets.ts';
import { runsIn } from '../../../src/check/registry.ts';
import { computeDesired } from '../../../src/lvs/desired.ts';
import { diags as allDiags, parse } from './helpers.ts';
import type { Config } from '../../../src/config/model.ts';

/**
 * These configs leave out lb_algo, lb_kind and protocol, which keepalived defaults with a
 * warning that the parser tests cover; here only the checkers' own diagnostics count.
 */
const DEFAULTED = new Set(['default-scheduler', 'default-lb-kind', 'default-protocol']);
function ok(text: string): Config {
  const r = parse(text);
  const rest = r.diagnostics.filter((d) => !DEFAULTED.has(d.code));
  if (rest.length > 0 || r.config === undefined) {
    throw new Error(`unexpected diagnostics:\n${rest.map((d) => `${d.loc.line}:${d.loc.col} ${d.severity} ${d.code} ${d.message}`).join('\n')}`);
  }
  return r.config;
}
const diags = (text: string): Array<[string, string, number, number]> => allDiags(text).filter((d) => !DEFAULTED.has(d[0]));

const rs = (checker: string): string => `virtual_server 10.0.0.1 53 {\n protocol UDP\n real_server 10.0.0.2 53 {\n${checker}\n }\n}\n`;

test("HEX_STR as keepalived.conf(5) reads it: pairs from the left, an odd last digit alone, X ignores four bits", (t) => {
  t.deepEqual([...parseHexStr('Ab12f 3 456 546443123', false)!.data], [0xab, 0x12, 0x0f, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03]);
  const r = parseHexStr('01x2 Xf', true)!;
  t.deepEqual([...r.data], [0x01, 0x02, 0x0f]);
  t.deepEqual([...r.mask!], [0x00, 0xf0, 0xf0]);
  t.is(parseHexStr('01x2', false), undefined, 'no wildcard in a payload');
  t.is(parseHexStr('0g', true), undefined);
  t.is(parseHexStr('   ', true), undefined);
});

test('UDP_CHECK: payload, require_reply with a pattern, reply lengths; defaults as keepalived', (t) => {
  const plain = ok(rs('  UDP_CHECK {\n   connect_timeout 3\n  }')).virtualServers[0]!.realServers[0]!.checkers[0] as UdpCheck;
  t.like(plain, { type: 'UDP_CHECK', requireReply: false, minReplyLength: 0, maxReplyLength: 255, connectTimeoutMs: 3000, retry: 1, delayBeforeRetryMs: 1000 });
  t.is(plain.payload, undefined);
  const full = ok(rs('  UDP_CHECK {\n   payload 0102 03\n   require_reply 01 xx\n   min_reply_length 2\n   max_reply_length 10\n  }')).virtualServers[0]!.realServers[0]!
    .checkers[0] as UdpCheck;
  t.deepEqual(full.payload, [1, 2, 3]);
  t.deepEqual(full.reply, { data: [1, 0], mask: [0, 0xff] });
  t.like(full, { requireReply: true, minReplyLength: 2, maxReplyLength: 10 });
  const bare = ok(rs('  UDP_CHECK {\n   require_reply\n  }')).virtualServers[0]!.realServers[0]!.checkers[0] as UdpCheck;
  t.like(bare, { requireReply: true });
  t.is(bare.reply, undefined);
});

test('UDP_CHECK: a bad hex string or reply length range is an error at its line', (t) => {
  t.deepEqual(diags(rs('  UDP_CHECK {\n   payload 01zz\n  }')), [['bad-value', 'error', 5, 12]]);
  t.deepEqual(diags(rs('  UDP_CHECK {\n   payload\n  }')), [['missing-value', 'error', 5, 4]]);
  t.deepEqual(diags(rs('  UDP_CHECK {\n   min_reply_length 9\n   max_reply_length 2\n  }')), [['bad-value', 'error', 4, 3]]);
});

test('UDP_CHECK becomes a udp task: connect_ip/port, payload and pattern as bytes', (t) => {
  const c = ok(rs('  UDP_CHECK {\n   connect_ip 10.0.0.9\n   connect_port 5353\n   payload 0a0b\n   require_reply xa\n  }'));
  const vs = c.virtualServers[0]!;
  const task = checkTask(vs, vs.realServers[0]!, vs.realServers[0]!.checkers[0]!);
  t.deepEqual(task, {
    kind: 'udp',
    address: '10.0.0.9',
    port: 5353,
    connectTimeoutMs: 5000,
    payload: Uint8Array.from([10, 11]),
    requireReply: true,
    reply: { data: Uint8Array.from([0x0a]), mask: Uint8Array.from([0xf0]) },
    minReplyLength: 0,
    maxReplyLength: 255,
  });
  t.is(runsIn(task), 'checker-pool');
});

test('PING_CHECK: the common options; the task pings connect_ip, else the real server, in the spawner', (t) => {
  const c = ok('virtual_server 10.0.0.1 1358 {\n protocol UDP\n real_server 10.0.0.6 1358 {\n  PING_CHECK {\n   retry 4\n  }\n  PING_CHECK {\n   connect_ip 10.0.0.7\n   connect_timeout 2\n  }\n }\n}\n');
  const vs = c.virtualServers[0]!;
  const rs0 = vs.realServers[0]!;
  t.like(rs0.checkers[0], { type: 'PING_CHECK', retry: 4, connectTimeoutMs: 5000, delayBeforeRetryMs: 1000 });
  const a = checkTask(vs, rs0, rs0.checkers[0]!);
  t.deepEqual(a, { kind: 'ping', address: '10.0.0.6', connectTimeoutMs: 5000 });
  t.deepEqual(checkTask(vs, rs0, rs0.checkers[1]!), { kind: 'ping', address: '10.0.0.7', connectTimeoutMs: 2000 });
  t.is(runsIn(a), 'spawner');
});

test('SMTP_CHECK: helo_name, and host blocks become one checker each, as keepalived does', (t) => {
  const vs = ok(
    'virtual_server 10.0.0.100 25 {\n real_server 172.16.1.10 25 {\n  SMTP_CHECK {\n   connect_timeout 30\n   retry 2\n  }\n }\n' +
      ' real_server 172.16.1.11 25 {\n  SMTP_CHECK {\n   connect_timeout 10\n   delay_before_retry 5\n   helo_name foo.bar.com\n   host {\n    connect_ip 172.16.1.11\n   }\n   host {\n    connect_ip 192.168.155.10\n    connect_port 587\n    bindto 192.168.155.2\n   }\n  }\n }\n' +
      ' real_server 172.16.1.12 25 {\n  SMTP_CHECK {\n   helo_name "a.b"\n   host {\n    connect_ip 192.168.155.11\n    connect_timeout 2\n   }\n  }\n }\n}\n',
  ).virtualServers[0]!;
  const [a, b, c] = vs.realServers;
  t.is(a!.checkers.length, 1);
  t.like(checkTask(vs, a!, a!.checkers[0]!), { kind: 'smtp', address: '172.16.1.10', port: 25, heloName: 'smtpchecker.keepalived.org', connectTimeoutMs: 30000 });
  t.like(a!.checkers[0], { retry: 2 });
  // connect_timeout is a connection option of the checker's own: it stays, and each host adds one
  t.deepEqual(
    b!.checkers.map((ch) => checkTask(vs, b!, ch)),
    [
      { kind: 'smtp', address: '172.16.1.11', port: 25, connectTimeoutMs: 10000, heloName: 'foo.bar.com' },
      { kind: 'smtp', address: '172.16.1.11', port: 25, connectTimeoutMs: 10000, heloName: 'foo.bar.com' },
      { kind: 'smtp', address: '192.168.155.10', port: 587, bindTo: '192.168.155.2', connectTimeoutMs: 10000, heloName: 'foo.bar.com' },
    ],
  );
  t.true(b!.checkers.every((ch) => ch.delayBeforeRetryMs === 5000));
  // no connection option of its own: the first host takes the checker's place
  t.deepEqual(
    c!.checkers.map((ch) => checkTask(vs, c!, ch)),
    [{ kind: 'smtp', address: '192.168.155.11', port: 25, connectTimeoutMs: 2000, heloName: 'a.b' }],
  );
});

test('virtual_server_group: CIDR and range entries expand to one IPVS service per address, as keepalived', (t) => {
  const c = ok(
    'virtual_server_group G {\n 10.0.0.1-3 80\n 10.0.0.0/30 8080\n 10.0.0.254-10.0.1.1 443\n fd00::/126 80\n 10.9.9.9/32 81\n}\n' +
      'virtual_server group G {\n persistence_timeout 50\n real_server 192.168.1.2 80 {\n }\n}\n',
  );
  const r = computeDesired(c, new Map());
  t.deepEqual(
    r.services.map((s) => `${s.service.address}:${s.service.port}`),
    [
      '10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80',
      '10.0.0.0:8080', '10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080',
      '10.0.0.254:443', '10.0.0.255:443', '10.0.1.0:443', '10.0.1.1:443',
      'fd00:::80', 'fd00::1:80', 'fd00::2:80', 'fd00::3:80',
      '10.9.9.9:81',
    ],
  );
});

test('virtual_server_group: a prefix with host bits set, a bad length, a backwards or huge range are errors at their line', (t) => {
  const vsg = (line: string): Array<[string, string, number, number]> => diags(`virtual_server_group G {\n ${line}\n}\n`).filter((d) => d[0] !== 'empty');
  t.deepEqual(vsg('10.0.0.1/29 80'), [['bad-address', 'error', 2, 2]]);
  t.deepEqual(vsg('10.0.0.0/33 80'), [['bad-address', 'error', 2, 2]]);
  t.deepEqual(vsg('10.0.0.0/0 80'), [['bad-address', 'error', 2, 2]]);
  t.deepEqual(vsg('10.0.0.0/8 80'), [['bad-address', 'error', 2, 2]]);
  t.deepEqual(vsg('10.0.1.0-10.0.0.1 80'), [['bad-address', 'error', 2, 2]]);
  t.deepEqual(vsg('10.0.0.0/16 80'), []);
});

test('smtp_alert in real_server and virtual_server: unset, bare (yes) or a boolean', (t) => {
  const vs = ok('virtual_server 10.0.0.1 80 {\n smtp_alert\n real_server 10.0.0.2 80 {\n  smtp_alert no\n }\n real_server 10.0.0.3 80 {\n }\n}\nvirtual_server 10.0.0.1 81 {\n smtp_alert off\n real_server 10.0.0.2 81 {\n }\n}\n').virtualServers;
  t.is(vs[0]!.smtpAlert, true);
  t.is(vs[0]!.realServers[0]!.smtpAlert, false);
  t.is(vs[0]!.realServers[1]!.smtpAlert, undefined);
  t.is(vs[1]!.smtpAlert, false);
  t.deepEqual(diags('virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  smtp_alert maybe\n }\n}\n'), [['bad-value', 'error', 3, 14]]);
});

test('url regex: options become RegExp flags; PCRE-only syntax, bad patterns and options JavaScript lacks are diagnosed at their token', (t) => {
  const url = (body: string): string => `virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  HTTP_GET {\n   url {\n    path /\n${body}\n   }\n  }\n }\n}\n`;
  const u = ok(url('    regex "a.b"\n    regex_options caseless dotall utf no_start_optimize\n    regex_no_match\n    regex_min_offset 2\n    regex_max_offset 9\n    regex_stack 1024 65536'))
    .virtualServers[0]!.realServers[0]!.checkers[0]!;
  t.like(u, { type: 'HTTP_GET' });
  t.deepEqual((u as HttpCheck).urls[0]!.regex, { pattern: 'a.b', flags: 'isu', utf8: true, firstline: false, noMatch: true, minOffset: 2, maxOffset: 9 });
  t.deepEqual(diags(url('    regex "\\\\Aok"')), [['bad-value', 'error', 6, 11]]);
  t.deepEqual(diags(url('    regex "(?>a)"')), [['bad-value', 'error', 6, 11]]);
  t.deepEqual(diags(url('    regex "ok"\n    regex_options ungreedy')), [['unsupported-option', 'warning', 7, 19]]);
  t.deepEqual(diags(url('    regex_no_match')), [['ignored-keyword', 'warning', 4, 4]]);
});

test('track_file and FILE_CHECK: the check takes the file\'s weight unless it gives its own; vrrp_track_file is a synonym', (t) => {
  const c = ok(
    'track_file drain {\n file /run/drain\n weight 5 reverse\n init_file 3 overwrite\n}\nvrrp_track_file old {\n file /run/old\n}\n' +
      'virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  FILE_CHECK {\n   track_file drain\n  }\n  FILE_CHECK {\n   track_file old\n   weight 0\n  }\n }\n}\n',
  );
  t.deepEqual(
    c.trackFiles!.map((f) => ({ name: f.name, path: f.file, weight: f.weight, reverse: f.weightReverse, init: f.init })),
    [
      { name: 'drain', path: '/run/drain', weight: 5, reverse: true, init: { value: 3, overwrite: true } },
      { name: 'old', path: '/run/old', weight: 1, reverse: false, init: undefined },
    ],
  );
  const rs0 = c.virtualServers[0]!.realServers[0]!;
  t.is(rs0.checkers.length, 0, 'FILE_CHECK is not a polled checker');
  t.like(rs0.fileChecks, [{ trackFile: 'drain' }, { trackFile: 'old', weight: 0, reverse: false }]);
  t.is(rs0.fileChecks![0]!.weight, undefined);
});

test('FILE_CHECK: an unknown track_file, a missing track_file line or file, a bad weight are errors at their line', (t) => {
  const rsWith = (body: string): string => `virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  FILE_CHECK {\n${body}\n  }\n }\n}\n`;
  t.deepEqual(diags(rsWith('   track_file nope')), [['unknown-reference', 'error', 3, 3]]);
  t.deepEqual(diags(rsWith('   weight 2')), [['missing-keyword', 'error', 3, 3]]);
  t.deepEqual(diags(`track_file a {\n weight 1\n}\n${rsWith('   track_file a')}`), [
    ['missing-keyword', 'error', 1, 12],
    ['unknown-reference', 'error', 6, 3],
  ]);
  t.deepEqual(diags(`track_file a {\n file /x\n}\n${rsWith('   track_file a\n   weight 3 sideways')}`), [['bad-value', 'error', 8, 13]]);
});

test('PING_CHECK bindto is named as not carried (raw-socket cannot bind), as bind_if and fwmark are for every checker', (t) => {
  const vs = ok('virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  PING_CHECK {\n   bindto 10.0.0.9\n  }\n  TCP_CHECK {\n   bindto 10.0.0.9\n  }\n }\n}\n').virtualServers[0]!;
  t.deepEqual(unsupportedOptions(vs.realServers[0]!.checkers[0]!), ['bindto']);
  t.deepEqual(unsupportedOptions(vs.realServers[0]!.checkers[1]!), []);
});
