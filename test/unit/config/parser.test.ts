import test from 'ava';
import type { HttpCheck, MiscCheck, DnsCheck, TcpCheck } from '../../../src/config/model.ts';
import { diags, diags as diagsAll, instance, ok, parse } from './helpers.ts';

/** What a virtual_server must set for keepalived to stay quiet about defaults (check_data.c). */
const LVS_SET = ' lb_algo wlc\n lb_kind NAT\n protocol TCP\n';

test('global_defs: every modelled keyword, and keepalived defaults when absent', (t) => {
  const empty = ok('global_defs {\n}\n').globalDefs;
  t.like(empty, {
    smtpConnectTimeoutMs: 30000,
    vrrpVersion: 2,
    vrrpMcastGroup4: '224.0.0.18',
    vrrpMcastGroup6: 'ff02::12',
    vrrpGarpMasterDelayMs: 5000,
    vrrpGarpMasterRepeat: 5,
    vrrpGarpMasterRefreshMs: 0,
    vrrpGarpMasterRefreshRepeat: 1,
    vrrpGarpIntervalMs: 0,
    vrrpGnaIntervalMs: 0,
    vrrpStrict: false,
    vrrpSkipCheckAdvAddr: false,
    enableScriptSecurity: false,
  });
  t.deepEqual(empty.notificationEmail, []);
  const g = ok(`global_defs {
  notification_email {
    root@localhost
    ops@example.com
  }
  notification_email_from kaadmin@localhost
  smtp_server 127.0.0.1 2525
  smtp_helo_name vigil.example
  smtp_connect_timeout 12
  smtp_alert
  smtp_alert_vrrp off
  smtp_alert_checker yes
  router_id lvs_devel
  vrrp_version 3
  vrrp_mcast_group4 224.0.0.19
  vrrp_mcast_group6 FF02::0:13
  vrrp_garp_master_delay 2
  vrrp_garp_master_repeat 3
  vrrp_garp_master_refresh 60
  vrrp_garp_master_refresh_repeat 2
  vrrp_garp_lower_prio_delay 4
  vrrp_garp_lower_prio_repeat 6
  vrrp_garp_interval 0.001
  vrrp_gna_interval 0.25
  vrrp_strict
  vrrp_skip_check_adv_addr
  enable_script_security
  script_user nobody nogroup
  lvs_timeouts tcp 900 tcpfin 120 udp 300
  notify_fifo /run/k.fifo
  vrrp_notify_fifo /run/v.fifo
  lvs_notify_fifo /run/l.fifo
  max_auto_priority 10
}
`).globalDefs;
  t.deepEqual(g.notificationEmail, ['root@localhost', 'ops@example.com']);
  t.like(g, {
    notificationEmailFrom: 'kaadmin@localhost',
    smtpServer: { host: '127.0.0.1', port: 2525 },
    smtpHeloName: 'vigil.example',
    smtpConnectTimeoutMs: 12000,
    smtpAlert: true,
    smtpAlertVrrp: false,
    smtpAlertChecker: true,
    routerId: 'lvs_devel',
    vrrpVersion: 3,
    vrrpMcastGroup4: '224.0.0.19',
    vrrpMcastGroup6: 'ff02::13',
    vrrpGarpMasterDelayMs: 2000,
    vrrpGarpMasterRepeat: 3,
    vrrpGarpMasterRefreshMs: 60000,
    vrrpGarpMasterRefreshRepeat: 2,
    vrrpGarpLowerPrioDelayMs: 4000,
    vrrpGarpLowerPrioRepeat: 6,
    vrrpGarpIntervalMs: 1,
    vrrpGnaIntervalMs: 250,
    vrrpStrict: true,
    vrrpSkipCheckAdvAddr: true,
    enableScriptSecurity: true,
    scriptUser: { user: 'nobody', group: 'nogroup' },
    lvsTimeouts: { tcpMs: 900000, tcpFinMs: 120000, udpMs: 300000 },
    notifyFifo: '/run/k.fifo',
    vrrpNotifyFifo: '/run/v.fifo',
    lvsNotifyFifo: '/run/l.fifo',
  });
  t.is(g.maxAutoPriority, 10);
  t.deepEqual(ok('global_defs {\n smtp_server mail.example\n}\n').globalDefs.smtpServer, { host: 'mail.example', port: 25 });
});

test('global_defs: bad values are errors at the value', (t) => {
  t.deepEqual(diags('global_defs {\n vrrp_version 4\n smtp_connect_timeout x\n vrrp_mcast_group4 ff02::12\n lvs_timeouts tcp\n smtp_alert maybe\n}\n'), [
    ['range', 'error', 2, 15],
    // keepalived: "smtp_connect_timeout 'x' must be in [0, 4294] - ignoring"
    ['range', 'warning', 3, 23],
    ['bad-address', 'error', 4, 20],
    ['missing-value', 'error', 5, 15],
    // keepalived: "Invalid value 'maybe' for global smtp_alert specified", and carries on
    ['bad-value', 'warning', 6, 13],
  ]);
  // vrrp_strict, vrrp_skip_check_adv_addr and enable_script_security read no value in keepalived
  t.deepEqual(diags('global_defs {\n vrrp_strict off\n vrrp_skip_check_adv_addr vrrp_skip_check_adv_addr\n}\n'), []);
  t.like(ok('global_defs {\n vrrp_strict off\n}\n').globalDefs, { vrrpStrict: true });
});

test('smtp_connect_timeout: whole seconds 0..4294 as keepalived reads them; 0 is 1 s, the rest ignored (30 s)', (t) => {
  const g = (v: string): number => parse(`global_defs {\n smtp_connect_timeout ${v}\n}\n`).parsed.globalDefs.smtpConnectTimeoutMs;
  t.is(g('4294'), 4_294_000);
  t.deepEqual(diags('global_defs {\n smtp_connect_timeout 4294\n}\n'), []);
  // keepalived: "smtp_conect_timeout must be greater than 0, setting to 1"
  t.is(g('0'), 1000);
  t.deepEqual(diags('global_defs {\n smtp_connect_timeout 0\n}\n'), [['range', 'warning', 2, 23]]);
  // keepalived: "invalid number '1.5'", "number '4294967296' outside unsigned integer range",
  // "negative number '-1'", each "... must be in [0, 4294] - ignoring"
  for (const v of ['1.5', '4295', '4294967296', '-1', '+5']) {
    t.is(g(v), 30_000, v);
    t.deepEqual(diags(`global_defs {\n smtp_connect_timeout ${v}\n}\n`), [['range', 'warning', 2, 23]], v);
    t.regex(parse(`global_defs {\n smtp_connect_timeout ${v}\n}\n`).diagnostics[0]?.message ?? '', /using 30 s/);
  }
});

test('vrrp_script: keywords, defaults, user, argv split', (t) => {
  const c = ok(`vrrp_script chk_nginx {
  script "killall -0 nginx"
}
vrrp_script chk2 {
  script "/bin/sh -c 'test -e /run/x && exit 0'"
  interval 3
  timeout 1
  weight -20 reverse
  fall 3
  rise 2
  user nobody nogroup
  init_fail
}
`);
  const [a, b] = c.vrrpScripts;
  t.like(a, { name: 'chk_nginx', intervalMs: 1000, timeoutMs: 1000, weight: 0, weightReverse: false, fall: 1, rise: 1, initFail: false });
  t.deepEqual(a!.script.argv, ['killall', '-0', 'nginx']);
  t.is(a!.script.raw, 'killall -0 nginx');
  t.like(b, { intervalMs: 3000, timeoutMs: 1000, weight: -20, weightReverse: true, fall: 3, rise: 2, initFail: true });
  t.deepEqual(b!.script.argv, ['/bin/sh', '-c', 'test -e /run/x && exit 0']);
  t.like(b!.script, { user: 'nobody', group: 'nogroup' });
  t.deepEqual(a!.loc, { file: 't.conf', line: 1, col: 13 });
});

test('vrrp_script: the seed notes typo `inerval` suggests `interval`', (t) => {
  const r = parse('vrrp_script chk_nginx{\nscript "killall -0 nginx"\ninerval 1\n}\n');
  t.is(r.diagnostics.length, 1);
  t.like(r.diagnostics[0], { code: 'unknown-keyword', severity: 'warning', loc: { line: 3, col: 1 } });
  t.regex(r.diagnostics[0]!.message, /did you mean `interval`\?/);
  t.truthy(r.config);
});

test('vrrp_script without script is an error at its name', (t) => {
  t.deepEqual(diags('vrrp_script x {\n interval 1\n}\n'), [['missing-keyword', 'error', 1, 13]]);
});

test('vrrp_instance: every keyword of the model', (t) => {
  const c = ok(`vrrp_script chk { 
 script /bin/true
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 2
  authentication {
    auth_type PASS
    auth_pass 1111
  }
  virtual_ipaddress {
    192.168.1.103
    192.168.1.104/24 dev eth1 label eth1:vip scope global brd 192.168.1.255
    192.168.1.105/32 peer 192.168.1.1 noprefixroute
  }
  virtual_ipaddress_excluded {
    2001:db8::1/64 dev eth0
  }
  virtual_routes {
    10.1.0.0/16 via 192.168.1.254 dev eth0 table 100 metric 5
    src 192.168.1.103 to 10.2.0.0/16 gw 192.168.1.254
    blackhole 10.3.0.0/16
    default via 192.168.1.1
  }
  nopreempt
  preempt_delay 300
  unicast_src_ip 192.168.1.10
  unicast_peer {
    192.168.1.11
    192.168.1.12
  }
  mcast_src_ip 192.168.1.10
  track_interface {
    eth1
    eth2 weight -10
  }
  track_script {
    chk
    chk weight 20 reverse
  }
  dont_track_primary
  notify_master "/path/notify.sh master"
  notify_backup /path/to_backup.sh
  notify_fault "/path/fault.sh VG_1" root wheel
  notify_stop /path/stop.sh
  notify /path/notify.sh
  smtp_alert
  use_vmac
  vmac_xmit_base
  garp_master_delay 10
  garp_master_repeat 1
  garp_master_refresh 60
  garp_master_refresh_repeat 2
  garp_lower_prio_delay 10
  garp_lower_prio_repeat 1
  no_accept
  strict_mode off
}
`.replace('chk weight 20 reverse', 'chk2 weight 20 reverse').replace('vrrp_instance', 'vrrp_script chk2 {\n script /bin/false\n}\nvrrp_instance'));
  const i = c.vrrpInstances[0]!;
  t.like(i, {
    name: 'VI_1',
    initialState: 'BACKUP',
    interface: 'eth0',
    virtualRouterId: 51,
    priority: 150,
    advertIntMs: 2000,
    version: 2,
    family: 4,
    authentication: { type: 'PASS', pass: '1111' },
    nopreempt: true,
    preemptDelayMs: 300000,
    unicastSrcIp: '192.168.1.10',
    mcastSrcIp: '192.168.1.10',
    dontTrackPrimary: true,
    smtpAlert: true,
    useVmac: { name: 'vrrp.51' },
    vmacXmitBase: true,
    garpMasterDelayMs: 10000,
    garpMasterRepeat: 1,
    garpMasterRefreshMs: 60000,
    garpMasterRefreshRepeat: 2,
    garpLowerPrioDelayMs: 10000,
    garpLowerPrioRepeat: 1,
    accept: false,
    strictMode: false,
  });
  t.deepEqual(
    i.virtualIpaddress.map(({ loc: _l, ...v }) => v),
    [
      { address: '192.168.1.103', prefixLen: 32, family: 4 },
      { address: '192.168.1.104', prefixLen: 24, family: 4, dev: 'eth1', label: 'eth1:vip', scope: 'global', broadcast: '192.168.1.255' },
      { address: '192.168.1.105', prefixLen: 32, family: 4, peer: '192.168.1.1', noPrefixRoute: true },
    ],
  );
  t.deepEqual(i.virtualIpaddress[1]!.loc, { file: 't.conf', line: 19, col: 5 });
  t.like(i.virtualIpaddressExcluded[0], { address: '2001:db8::1', prefixLen: 64, family: 6, dev: 'eth0' });
  t.deepEqual(
    i.virtualRoutes.map(({ loc: _l, ...r }) => r),
    [
      { to: '10.1.0.0', prefixLen: 16, family: 4, via: '192.168.1.254', dev: 'eth0', table: 100, metric: 5 },
      { src: '192.168.1.103', to: '10.2.0.0', prefixLen: 16, family: 4, via: '192.168.1.254' },
      { type: 'blackhole', to: '10.3.0.0', prefixLen: 16, family: 4 },
      { to: '0.0.0.0', prefixLen: 0, family: 4, via: '192.168.1.1' },
    ],
  );
  t.deepEqual(i.unicastPeers, ['192.168.1.11', '192.168.1.12']);
  t.deepEqual(i.trackInterfaces.map(({ loc: _l, ...r }) => r), [{ name: 'eth1' }, { name: 'eth2', weight: -10 }]);
  t.deepEqual(i.trackScripts.map(({ loc: _l, ...r }) => r), [{ name: 'chk' }, { name: 'chk2', weight: 20, weightReverse: true }]);
  t.deepEqual(i.notifyMaster?.argv, ['/path/notify.sh', 'master']);
  t.deepEqual(i.notifyBackup?.argv, ['/path/to_backup.sh']);
  t.like(i.notifyFault, { raw: '/path/fault.sh VG_1', argv: ['/path/fault.sh', 'VG_1'], user: 'root', group: 'wheel' });
  t.deepEqual(i.notifyStop?.argv, ['/path/stop.sh']);
  t.deepEqual(i.notify?.argv, ['/path/notify.sh']);
});

test('vrrp_instance defaults follow keepalived and global_defs', (t) => {
  const c = ok(`global_defs {
 vrrp_garp_master_delay 1
 vrrp_garp_master_repeat 2
 vrrp_strict
}
${instance('A', '')}`);
  t.like(c.vrrpInstances[0], {
    initialState: 'BACKUP',
    priority: 100,
    advertIntMs: 1000,
    version: 2,
    family: 4,
    nopreempt: false,
    preemptDelayMs: 0,
    garpMasterDelayMs: 1000,
    garpMasterRepeat: 2,
    garpMasterRefreshMs: 0,
    garpMasterRefreshRepeat: 1,
    strictMode: true,
    accept: false,
    dontTrackPrimary: false,
  });
  t.is(c.vrrpInstances[0]!.authentication, undefined);
  t.like(ok(instance('B', ' use_vmac vrrp_b\n accept')).vrrpInstances[0], { useVmac: { name: 'vrrp_b' }, accept: true, strictMode: false });
});

test('vrrp_instance: family from the first VIP; IPv6 defaults to VRRPv3; version keyword', (t) => {
  const v6 = ok(instance('V6', ' advert_int 0.1', 'fe80::1/64')).vrrpInstances[0]!;
  t.like(v6, { family: 6, version: 3, advertIntMs: 100 });
  t.like(parse(instance('N', ' native_ipv6\n version 3', '')).config?.vrrpInstances[0], { family: 6, version: 3 });
  t.like(ok(`global_defs {\n vrrp_version 3\n}\n${instance('G', '')}`).vrrpInstances[0], { version: 3 });
  t.like(ok(instance('E', ' version 3\n advert_int 0.05')).vrrpInstances[0], { version: 3, advertIntMs: 50 });
  const noVip = parse(instance('NoVip', '', ''));
  t.like(noVip.config?.vrrpInstances[0], { family: 4 });
  t.deepEqual(noVip.diagnostics.map((d) => d.code), ['no-vip']);
});

test('vrrp_instance: v2 advert_int is rounded to whole seconds with a warning; v3 to centiseconds', (t) => {
  const r = parse(instance('A', ' advert_int 1.4'));
  t.like(r.config?.vrrpInstances[0], { advertIntMs: 1000 });
  // at the instance, as keepalived ("(A) VRRPv2 advertisement interval 1.400000s must be an integer. rounding")
  t.deepEqual(r.diagnostics.map((d) => [d.code, d.loc.line, d.loc.col]), [['advert-int-rounded', 1, 15]]);
  const r3 = parse(instance('A', ' version 3\n advert_int 0.123'));
  t.like(r3.config?.vrrpInstances[0], { advertIntMs: 120 });
  t.is(r3.diagnostics[0]!.code, 'advert-int-rounded');
});

test('vrrp_instance: VRRPv2 over IPv6 is an error; v3 ignores authentication with a warning', (t) => {
  t.deepEqual(diags(instance('A', ' version 2', 'fe80::1')), [['version-family', 'error', 7, 10]]);
  t.deepEqual(diags(instance('A', ' version 3\n authentication {\n  auth_type AH\n }')), [['auth-v3', 'warning', 8, 2]]);
});

test('vrrp_instance: a VIP of the other family is dropped with a warning (keepalived ignores it)', (t) => {
  const r = parse('vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n  2001:db8::1\n }\n}\n');
  t.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.loc.line, d.loc.col]), [['family-mismatch', 'warning', 6, 3]]);
  t.deepEqual(r.config?.vrrpInstances[0]!.virtualIpaddress.map((v) => v.address), ['10.0.0.1']);
});

test('vrrp_instance: state and auth_type are upper case, as keepalived compares them; otherwise BACKUP / no authentication, with a warning', (t) => {
  t.is(ok(instance('A', ' state MASTER')).vrrpInstances[0]!.initialState, 'MASTER');
  for (const s of ['master', 'Master', 'slave']) {
    const r = parse(instance('A', ` state ${s}`));
    t.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.loc.line, d.loc.col]), [['bad-value', 'warning', 7, 8]]);
    t.is(r.config!.vrrpInstances[0]!.initialState, 'BACKUP');
  }
  t.is(ok(instance('A', ' authentication {\n  auth_type PASS\n  auth_pass x\n }')).vrrpInstances[0]!.authentication?.type, 'PASS');
  t.is(ok(instance('A', ' authentication {\n  auth_type AH\n }')).vrrpInstances[0]!.authentication?.type, 'AH');
  for (const a of ['pass', 'Pass', 'PASS;']) {
    const r = parse(instance('A', ` authentication {\n  auth_type ${a}\n  auth_pass x\n }`));
    t.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.loc.line]), [['bad-value', 'warning', 8]]);
    t.is(r.config!.vrrpInstances[0]!.authentication, undefined);
  }
});

test('vrrp_instance: auth_pass over 8 bytes is truncated with a warning', (t) => {
  const r = parse(instance('A', ' authentication {\n  auth_type PASS\n  auth_pass 123456789\n }'));
  t.is(r.config?.vrrpInstances[0]!.authentication?.pass, '12345678');
  t.deepEqual(r.diagnostics.map((d) => [d.code, d.loc.line, d.loc.col]), [['truncated', 9, 13]]);
});

test('vrrp_instance: missing interface / virtual_router_id are errors (keepalived drops the instance); authentication without auth_type or auth_pass is none', (t) => {
  t.deepEqual(diags('vrrp_instance A {\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n'), [
    ['missing-keyword', 'error', 1, 15],
    ['missing-keyword', 'error', 1, 15],
  ]);
  // a value block without its `{` reads the lines up to the next `}`, which closes the
  // instance too; the instance's own `}` is then the error, as in keepalived ("Extra '}' found")
  const vb = parse('vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress\n  10.0.0.1\n }\n}\n');
  t.deepEqual(vb.diagnostics.map((d) => [d.code, d.severity, d.loc.line, d.loc.col]), [['extra-brace', 'error', 7, 1]]);
  t.is(vb.parsed.vrrpInstances[0]!.virtualIpaddress[0]!.address, '10.0.0.1');
  // keepalived runs an instance whose authentication has no auth_type without authentication,
  // silently; PASS without auth_pass: "(A) Authentication specified but no password given. Ignoring"
  const noType = parse(instance('A', ' authentication {\n  auth_pass 1\n }'));
  t.deepEqual(noType.diagnostics, []);
  t.is(noType.config!.vrrpInstances[0]!.authentication, undefined);
  t.deepEqual(diags(instance('A', ' authentication {\n  auth_type PASS\n }')), [['missing-keyword', 'warning', 1, 15]]);
  // a keyword given with a bad value is reported once, at the value
  t.deepEqual(diags(instance('A', '').replace('virtual_router_id 51', 'virtual_router_id')), [['missing-value', 'error', 3, 2]]);
});

test('vrrp_instance: bad VIP, route and peer syntax is reported at the token', (t) => {
  const diags = (text: string) => diagsAll(text).filter((d) => d[0] !== 'no-vip');
  // keepalived: "VRRP parsed invalid IP … skipping IP…"
  t.deepEqual(diags(instance('A', '', '10.0.0.300/24')), [['bad-address', 'warning', 5, 3]]);
  t.deepEqual(diags(instance('A', '', '10.0.0.1/33')), [['bad-address', 'error', 5, 3]]);
  t.deepEqual(diags(instance('A', '', '10.0.0.1 dev')), [['missing-value', 'error', 5, 12]]);
  // keepalived: "Unknown configuration entry 'colour' for ip address - ignoring", per word; the address stays
  t.deepEqual(diags(instance('A', '', '10.0.0.1 colour red')), [
    ['bad-value', 'warning', 5, 12],
    ['bad-value', 'warning', 5, 19],
  ]);
  t.deepEqual(diags(instance('A', '', '10.0.0.1 peer fe80::1')), [['family-mismatch', 'error', 5, 17]]);
  t.deepEqual(diags(instance('A', '', '10.0.0.1 home')), [['unsupported-option', 'warning', 5, 12]]);
  t.deepEqual(diags(instance('A', ' virtual_routes {\n  10.1.0.0/16 via fe80::1\n }')), [['family-mismatch', 'error', 8, 3]]);
  t.deepEqual(diags(instance('A', ' virtual_routes {\n  via 10.0.0.1\n }')), [['missing-value', 'error', 8, 3]]);
  t.deepEqual(diags(instance('A', ' virtual_routes {\n  10.1.0.0/16 via 10.0.0.1 bogus\n }')), [['bad-value', 'error', 8, 28]]);
  t.deepEqual(diags(instance('A', ' virtual_routes {\n  10.1.0.0/16 table x\n }')), [['bad-value', 'error', 8, 21]]);
  t.deepEqual(diags(instance('A', ' unicast_peer {\n  10.0.0.999\n }')), [['bad-address', 'error', 8, 3]]);
  t.deepEqual(diags(instance('A', ' unicast_peer {\n  10.0.0.2 min_ttl 1\n }')), []);
  const peer = ok(instance('A', ' unicast_peer {\n  10.0.0.2 min_ttl 1\n  10.0.0.3 max_ttl 300\n }\n unicast_ttl 7')).vrrpInstances[0]!;
  t.like(peer, { unicastTtl: 7, checkUnicastSrc: true, unicastPeerTtl: { '10.0.0.2': { min: 1, max: 255 } } });
  t.deepEqual(diags(instance('A', ' unicast_peer {\n  10.0.0.2 min_ttl 9 max_ttl 3\n }')), [['range', 'warning', 8, 3]]);
  t.deepEqual(diags(instance('A', ' unicast_ttl 256')).map((d) => d[0]), ['range']);
  t.deepEqual(diags(instance('A', ' unicast_ttl 5')).map((d) => d[0]), ['unicast-ttl']);
  t.deepEqual(diags(instance('A', ' track_interface {\n  eth1 wait 3\n }')), [['bad-value', 'error', 8, 8]]);
  t.deepEqual(diags(instance('A', ' track_interface {\n  eth1 weight\n }')), [['missing-value', 'error', 8, 8]]);
  t.deepEqual(diags(instance('A', ' priority high')), [['range', 'warning', 7, 11]]);
  t.deepEqual(diags(instance('A', ' priority')), [['missing-value', 'error', 7, 2]]);
  // keepalived ignores words after a value in silence, and so does vigil; after a block keyword
  // it says "Block X has extra parameters"
  t.deepEqual(diags(instance('A', ' priority 100 200')), []);
  t.deepEqual(diags(instance('A', '').replace('virtual_ipaddress {', 'virtual_ipaddress foo {')), [['extra-argument', 'warning', 4, 20]]);
  t.deepEqual(diags(instance('A', '').replace('virtual_ipaddress {', 'virtual_ipaddress foo\n {')), [['extra-argument', 'warning', 4, 20]]);
  t.deepEqual(diags(instance('A', ' track_script chk\n {\n }')), [['extra-argument', 'warning', 7, 15]]);
  t.deepEqual(diags(instance('A', ' notify_master /bin/echo hello')), [['script-user', 'warning', 7, 26]]);
});

test('vrrp_sync_group: members, tracking, notify scripts; instances learn their group', (t) => {
  const c = ok(`vrrp_script up {
 script /bin/true
}
vrrp_sync_group G1 {
  group {
    A
    B
  }
  track_script {
    up weight 10
  }
  track_interface {
    eth1
  }
  notify_master "/n.sh master"
  notify_backup "/n.sh backup"
  notify_fault "/n.sh fault"
  notify_stop "/n.sh stop"
  notify /n.sh
  smtp_alert
}
${instance('A', '')}${instance('B', '').replace('51', '52')}`);
  const g = c.vrrpSyncGroups[0]!;
  t.deepEqual(g.members, ['A', 'B']);
  t.deepEqual(g.trackScripts.map((r) => [r.name, r.weight]), [['up', 10]]);
  t.deepEqual(g.trackInterfaces.map((r) => r.name), ['eth1']);
  t.deepEqual([g.notifyMaster?.argv, g.notifyBackup?.argv, g.notifyFault?.argv, g.notifyStop?.argv, g.notify?.argv], [
    ['/n.sh', 'master'],
    ['/n.sh', 'backup'],
    ['/n.sh', 'fault'],
    ['/n.sh', 'stop'],
    ['/n.sh'],
  ]);
  t.true(g.smtpAlert);
  t.deepEqual(c.vrrpInstances.map((i) => i.syncGroup), ['G1', 'G1']);
});

test('virtual_server: IP PORT, every keyword, defaults, cascade to real servers and checkers', (t) => {
  const c = ok(`virtual_server 10.0.0.10 80 {
  delay_loop 6
  lb_algo RR
  lb_kind dr
  persistence_timeout 300
  persistence_granularity 255.255.255.0
  protocol tcp
  quorum 2
  hysteresis 1
  quorum_up "/q.sh up"
  quorum_down /q.sh
  alpha
  omega
  sorry_server 10.0.0.99 8080
  sorry_server_inhibit
  sorry_server_lvs_method NAT
  virtualhost www.example
  ha_suspend
  sh-port
  sh-fallback
  connect_timeout 7
  retry 4
  real_server 10.0.0.11 8080 {
    weight 5
    inhibit_on_failure
    notify_up "/rs.sh up"
    notify_down "/rs.sh down"
    uthreshold 100
    lthreshold 10
    lb_kind TUN
    HTTP_GET {
      url {
        path /health
        status_code 200-299 301 400-499
        virtualhost app.example
      }
      url {
        path /digest
        digest 9B3A0C85A887A256D6939DA88AABD8CD
      }
      connect_ip 10.0.1.11
      connect_port 8081
      bindto 10.0.0.1
      bind_port 40000
      bind_if eth0
      retry 2
      delay_before_retry 2
      warmup 3
      fwmark 7
    }
  }
  real_server 10.0.0.12 {
    delay_loop 9
    TCP_CHECK {
    }
  }
}
`);
  const vs = c.virtualServers[0]!;
  t.deepEqual(vs.key, { kind: 'ip', address: '10.0.0.10', family: 4, port: 80 });
  t.like(vs, {
    delayLoopMs: 6000,
    lbAlgo: 'rr',
    lbKind: 'DR',
    persistenceTimeoutMs: 300000,
    persistenceGranularity: '255.255.255.0',
    protocol: 'TCP',
    quorum: 2,
    hysteresis: 1,
    alpha: true,
    omega: true,
    sorryServer: { address: '10.0.0.99', port: 8080, lbKind: 'NAT' },
    sorryServerInhibit: true,
    virtualhost: 'www.example',
    haSuspend: true,
  });
  t.deepEqual(vs.schedFlags, ['sh-port', 'sh-fallback']);
  t.deepEqual(vs.quorumUp?.argv, ['/q.sh', 'up']);
  t.deepEqual(vs.quorumDown?.argv, ['/q.sh']);
  const [r1, r2] = vs.realServers;
  t.like(r1, { address: '10.0.0.11', family: 4, port: 8080, weight: 5, inhibitOnFailure: true, upperThreshold: 100, lowerThreshold: 10, lbKind: 'TUN' });
  t.deepEqual(r1!.notifyUp?.argv, ['/rs.sh', 'up']);
  t.deepEqual(r1!.notifyDown?.argv, ['/rs.sh', 'down']);
  const h = r1!.checkers[0] as HttpCheck;
  t.like(h, {
    type: 'HTTP_GET',
    connectIp: '10.0.1.11',
    connectPort: 8081,
    bindTo: '10.0.0.1',
    bindPort: 40000,
    bindIf: 'eth0',
    connectTimeoutMs: 7000,
    retry: 2,
    delayBeforeRetryMs: 2000,
    delayLoopMs: 6000,
    warmupMs: 3000,
    alpha: true,
    fwmark: 7,
    virtualhost: 'www.example',
    enableSni: false,
    tlsVerify: false,
  });
  t.deepEqual(h.urls.map(({ loc: _l, ...u }) => u), [
    { path: '/health', statusCodes: [{ from: 200, to: 299 }, { from: 301, to: 301 }, { from: 400, to: 499 }], virtualhost: 'app.example' },
    { path: '/digest', statusCodes: [], digest: '9b3a0c85a887a256d6939da88aabd8cd' },
  ]);
  t.like(r2, { port: 80, weight: 1, inhibitOnFailure: false });
  t.like(r2!.checkers[0] as TcpCheck, { type: 'TCP_CHECK', delayLoopMs: 9000, connectTimeoutMs: 7000, retry: 4, delayBeforeRetryMs: 1000 });
});

test('virtual_server: persistence_timeout outside 1..2678400 is ignored with a warning (no persistence); bare keyword is 6 minutes', (t) => {
  for (const v of ['0', '2678401', 'x']) {
    const r = parse(`virtual_server 10.0.0.1 80 {\n persistence_timeout ${v}\n real_server 10.0.0.2 80 {\n }\n${LVS_SET}}\n`);
    t.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.loc.line, d.loc.col]), [['range', 'warning', 2, 22]]);
    t.is(r.config!.virtualServers[0]!.persistenceTimeoutMs, undefined);
  }
  t.is(ok(`virtual_server 10.0.0.1 80 {\n persistence_timeout\n real_server 10.0.0.2 80 {\n }\n${LVS_SET}}\n`).virtualServers[0]!.persistenceTimeoutMs, 360000);
});

test('virtual_server: nb_get_retry is retry (deprecated) in HTTP_GET, an unknown keyword in TCP_CHECK, as in keepalived 2.2', (t) => {
  const r = parse(`virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  HTTP_GET {\n   url {\n    path /\n   }\n   nb_get_retry 4\n  }\n  TCP_CHECK {\n   nb_get_retry 4\n  }\n }\n${LVS_SET}}\n`);
  t.deepEqual(r.diagnostics.map((d) => [d.code, d.loc.line]), [['deprecated-keyword', 7], ['unknown-keyword', 10]]);
  const [http, tcp] = r.config!.virtualServers[0]!.realServers[0]!.checkers;
  t.is(http!.retry, 4);
  t.is(tcp!.retry, 1);
});

test('virtual_server: keepalived defaults, each said at the virtual server (check_data.c)', (t) => {
  const r = parse('virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  HTTP_GET {\n   url {\n    path /\n   }\n  }\n  SSL_GET {\n   url {\n    path /\n   }\n   enable_sni\n  }\n  MISC_CHECK {\n   misc_path /bin/true\n  }\n  DNS_CHECK {\n  }\n }\n}\n');
  t.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.loc.line]), [
    ['default-protocol', 'warning', 1],
    ['default-scheduler', 'warning', 1],
    ['default-lb-kind', 'warning', 1],
  ]);
  const vs = r.config!.virtualServers[0]!;
  // The kernel takes protocol 0 as UDP, and keepalived 2.2 sets UDP explicitly.
  t.like(vs, { delayLoopMs: 60000, lbAlgo: 'wlc', lbKind: 'NAT', protocol: 'UDP', quorum: 1, hysteresis: 0, alpha: false, omega: false, haSuspend: false, sorryServerInhibit: false });
  const [http, ssl, misc, dns] = vs.realServers[0]!.checkers;
  t.like(http, { type: 'HTTP_GET', connectTimeoutMs: 5000, retry: 1, delayBeforeRetryMs: 3000, delayLoopMs: 60000, alpha: false });
  t.deepEqual((http as HttpCheck).urls[0]!.statusCodes, [{ from: 200, to: 299 }]);
  t.is((http as HttpCheck).warmupMs, undefined);
  t.like(ssl, { type: 'SSL_GET', enableSni: true, delayBeforeRetryMs: 3000 });
  t.like(misc as MiscCheck, { type: 'MISC_CHECK', retry: 0, delayBeforeRetryMs: 1000, miscTimeoutMs: 60000, miscDynamic: false });
  t.like(dns as DnsCheck, { type: 'DNS_CHECK', retry: 3, delayBeforeRetryMs: 60000, queryType: 'SOA', name: '.' });
});

test('MISC_CHECK and DNS_CHECK keywords', (t) => {
  const vs = ok(`virtual_server 10.0.0.1 53 {
 protocol udp
 lb_algo rr
 lb_kind DR
 real_server 10.0.0.2 53 {
  MISC_CHECK {
   misc_path "/usr/bin/check 'a b' c"
   misc_timeout 5
   misc_dynamic
   user nobody nogroup
  }
  DNS_CHECK {
   type aaaa
   name example.com
   retry 1
  }
 }
}
`).virtualServers[0]!;
  const [m, d] = vs.realServers[0]!.checkers as [MiscCheck, DnsCheck];
  t.like(m, { miscTimeoutMs: 5000, miscDynamic: true, miscPath: { user: 'nobody', group: 'nogroup' } });
  t.deepEqual(m.miscPath.argv, ['/usr/bin/check', 'a b', 'c']);
  t.like(d, { queryType: 'AAAA', name: 'example.com', retry: 1 });
  t.is(vs.protocol, 'UDP');
});

test('virtual_server fwmark N and group NAME; virtual_server_group entries', (t) => {
  const c = ok(`virtual_server_group WEB {
  10.0.0.1 80
  10.0.0.10-20 80
  2001:db8::1-ff 443
  fwmark 5
}
virtual_server group WEB {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.0.1.1 80 {
  }
}
virtual_server fwmark 7 {
  lb_algo rr
  lb_kind NAT
  persistence_timeout 60
  real_server 10.0.1.1 {
  }
}
virtual_server fwmark 8 {
  lb_algo rr
  lb_kind NAT
  real_server 2001:db8::5 {
  }
}
`);
  const g = c.virtualServerGroups[0]!;
  t.is(g.name, 'WEB');
  t.deepEqual(g.entries.map(({ loc: _l, ...e }) => e), [
    { kind: 'ip', address: '10.0.0.1', family: 4, port: 80 },
    { kind: 'ip', address: '10.0.0.10', family: 4, port: 80, rangeEnd: '20' },
    { kind: 'ip', address: '2001:db8::1', family: 6, port: 443, rangeEnd: 'ff' },
    { kind: 'fwmark', fwmark: 5 },
  ]);
  t.deepEqual(c.virtualServers.map((v) => v.key), [
    { kind: 'group', name: 'WEB' },
    { kind: 'fwmark', fwmark: 7, family: 4 },
    { kind: 'fwmark', fwmark: 8, family: 6 },
  ]);
  t.is(c.virtualServers[1]!.realServers[0]!.port, 0);
});

test('LVS syntax errors and warnings point at the token', (t) => {
  const wrap = (body: string): string => `virtual_server 10.0.0.1 80 {\n${body}\n real_server 10.0.0.2 80 {\n }\n${LVS_SET}}\n`;
  // keepalived logs each of these and carries on with its default (NAT, wlc, UDP).
  t.deepEqual(diags(wrap(' lb_kind XX')), [['bad-value', 'warning', 2, 10]]);
  t.deepEqual(diags(wrap(' lb_algo fastest')), [['bad-value', 'warning', 2, 10]]);
  t.deepEqual(diags(wrap(' protocol ICMP')), [['bad-value', 'warning', 2, 11]]);
  t.deepEqual(diags(wrap(' nat_mask 255.255.0.0')), [['obsolete-keyword', 'warning', 2, 2]]);
  t.deepEqual(diags(wrap(' ops')), [['unsupported-keyword', 'warning', 2, 2]]);
  t.deepEqual(diags(wrap(' persistence_granularity x')), [['bad-value', 'error', 2, 26]]);
  t.deepEqual(diags(wrap(' sorry_server 10.0.0.300')), [['bad-address', 'error', 2, 15]]);
  t.deepEqual(diags(wrap(' real_server 10.0.0.3 80 {\n  http_get {\n  }\n }')), [['unknown-keyword', 'warning', 3, 3]]);
  t.regex(parse(wrap(' real_server 10.0.0.3 80 {\n  http_get {\n  }\n }')).diagnostics[0]!.message, /did you mean `HTTP_GET`/);
  t.deepEqual(diags(wrap(' real_server 10.0.0.3 80 {\n  HTTP_GET {\n  }\n }')), [['missing-keyword', 'error', 3, 3]]);
  t.deepEqual(diags(wrap(' real_server 10.0.0.3 80 {\n  HTTP_GET {\n   url {\n   }\n  }\n }')), [
    ['missing-keyword', 'error', 3, 3],
    ['missing-keyword', 'error', 4, 4],
  ]);
  t.deepEqual(diags(wrap(' real_server 10.0.0.3 80 {\n  HTTP_GET {\n   url {\n    path /\n    status_code 2xx 299-200\n   }\n  }\n }')), [
    ['bad-value', 'error', 6, 17],
    ['bad-value', 'error', 6, 21],
  ]);
  t.deepEqual(diags(wrap(' real_server 10.0.0.3 80 {\n  HTTP_GET {\n   url {\n    path /\n    digest abc\n   }\n  }\n }')), [['bad-value', 'error', 6, 12]]);
  t.deepEqual(diags(wrap(' real_server 10.0.0.3 80 {\n  MISC_CHECK {\n  }\n }')), [['missing-keyword', 'error', 3, 3]]);
  t.deepEqual(diags(wrap(' real_server 10.0.0.3 80 {\n  DNS_CHECK {\n   type BOGUS\n  }\n }')), [['bad-value', 'error', 4, 9]]);
  t.deepEqual(diags(wrap(' real_server 10.0.0.3 80 {\n  TCP_CHECK\n }')), [['missing-block', 'warning', 3, 3]]);
  t.deepEqual(diags(wrap(' real_server 10.0.0.3 80 {\n  BFD_CHECK {\n  }\n }')), [['unsupported-keyword', 'warning', 3, 3]]);
  // keepalived: "zero port only valid for persistent services - setting" (360 s)
  t.deepEqual(diags(`virtual_server 10.0.0.1 {\n real_server 10.0.0.2 80 {\n }\n${LVS_SET}}\n`), [['zero-port', 'warning', 1, 16]]);
  t.deepEqual(diags('virtual_server {\n}\n'), [['missing-value', 'error', 1, 1]]);
  t.deepEqual(diags('virtual_server 10.0.0.1 80\n'), [['missing-block', 'error', 1, 1]]);
  t.deepEqual(diags('virtual_server fwmark x {\n}\n'), [['bad-value', 'error', 1, 23]]);
  // 10.0.0.0/29 is a good entry (see checkers.test.ts), so the config is not empty
  t.deepEqual(diags('virtual_server_group G {\n 10.0.0.1-x 80\n 10.0.0.0/29 80\n nope 80\n}\n'), [
    ['bad-address', 'error', 2, 2],
    ['bad-address', 'error', 4, 2],
  ]);
});

test('the *_rlimit_rttime family: vrrp_ is read (µs, 1 becomes 2, the deprecated _rtime spelling said), checker_ and bfd_ are not implemented, never unknown', (t) => {
  const r = parse('global_defs {\n vrrp_rlimit_rttime 10000\n checker_rlimit_rttime 10000\n bfd_rlimit_rttime 10000\n}\n');
  t.deepEqual(r.diagnostics.map((d) => [d.code, d.loc.line]), [
    ['unsupported-keyword', 3],
    ['unsupported-keyword', 4],
  ]);
  t.is(r.config?.globalDefs.vrrpRlimitRttimeUs, 10000);
  const old = parse('global_defs {\n vrrp_rlimit_rtime 1\n}\n');
  t.deepEqual(old.diagnostics.map((d) => [d.code, d.loc.line]), [['deprecated-keyword', 2]]);
  t.is(old.config?.globalDefs.vrrpRlimitRttimeUs, 2);
  t.deepEqual(parse('global_defs {\n vrrp_rlimit_rttime 0\n}\n').diagnostics.map((d) => [d.code, d.severity]), [['range', 'warning']]);
});

test('global_defs nftables keywords in any order make one VIP firewall; vrrp_iptables and vrrp_ipsets run through it with a warning', (t) => {
  const r = parse('global_defs {\n nftables_priority -5\n nftables_counters\n nftables kt\n nftables_ifindex\n}\n');
  t.deepEqual(r.diagnostics, []);
  t.deepEqual(r.config?.globalDefs.vipFirewall, { table: 'kt', priority: -5, counters: true, ifindex: true });
  t.is(parse('global_defs {\n router_id x\n}\n').config?.globalDefs.vipFirewall, undefined);
  const ipt = parse('global_defs {\n vrrp_iptables VIPS\n vrrp_ipsets\n}\n');
  t.deepEqual(ipt.diagnostics.map((d) => [d.code, d.loc.line]), [
    ['iptables-as-nftables', 2],
    ['iptables-as-nftables', 3],
  ]);
  t.deepEqual(ipt.config?.globalDefs.vipFirewall, { table: 'keepalived', priority: -1, counters: false, ifindex: false });
  t.deepEqual(parse('global_defs {\n nftables\n nftables other\n nftables_priority x\n}\n').diagnostics.map((d) => [d.code, d.loc.line]), [
    ['duplicate', 3],
    ['bad-value', 4],
  ]);
});

test('structure: unmatched braces, misplaced blocks, stray blocks, unknown top-level keywords', (t) => {
  t.deepEqual(diags('}\n'), [['extra-brace', 'error', 1, 1]]);
  // a `}` too many closes the instance early: keepalived says "Extra '}' found", carries on and
  // still runs its checks ("(A) No VIP specified"); so does vigil
  t.deepEqual(diags('vrrp_instance A {\n interface eth0\n virtual_router_id 1\n}\n}\n'), [
    ['no-vip', 'warning', 1, 15],
    ['extra-brace', 'error', 5, 1],
  ]);
  // a `{` without a keyword changes what keepalived sees as blocks: no whole-config checks
  // nor with a block keyword missing its `{`: keepalived reads the lines after it as the block
  // ("Missing '{' at beginning of configuration block"), so the instance keeps its VIP there
  t.deepEqual(diags('vrrp_instance A {\n interface eth0\n virtual_router_id 1\n authentication\n  auth_type PASS\n }\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n').map((d) => d[0]), [
    'missing-block',
    'unknown-keyword',
    'unknown-keyword',
    'extra-brace',
  ]);
  // keepalived creates an instance when it reads `vrrp_instance NAME`, before the missing `{`:
  // a sync group naming it finds it (no "doesn't exist" for the member)
  const sg = parse('vrrp_sync_group G {\n group {\n  A\n  B\n }\n}\nvrrp_instance A\n interface eth0\n}\n');
  t.false(sg.diagnostics.some((d) => d.code === 'unknown-reference' && d.loc.line === 3));
  t.true(sg.diagnostics.some((d) => d.code === 'unknown-reference' && d.loc.line === 4));
  t.deepEqual(sg.refusedInstances, ['A']);
  // (nor "No VIP"; what the anonymous block holds is not the instance's)
  t.deepEqual(diags('vrrp_instance A {\n {\n interface eth0\n virtual_router_id 1\n }\n}\n'), [
    ['missing-keyword', 'error', 1, 15],
    ['missing-keyword', 'error', 1, 15],
    ['syntax', 'error', 2, 2],
  ]);
  t.deepEqual(diags('{\n}\n'), [['syntax', 'error', 1, 1]]);
  // reported where the input ends, as keepalived notices it ("There are 1 missing '}'s")
  t.deepEqual(diags('global_defs {\n router_id x\n'), [['unclosed', 'error', 2, 12]]);
  t.regex(parse('global_defs {\n router_id x\n').diagnostics[0]!.message, /`\{` of `global_defs` at line 1 is never closed/);
  // a missing `{` is reported on the next line, as keepalived ("Missing '{' at beginning of configuration block")
  t.deepEqual(diags('global_defs\n router_id x\n}\n').slice(0, 1), [['missing-block', 'error', 2, 2]]);
  t.deepEqual(diags('global_defs {\n vrrp_instance X {\n }\n}\n'), [['misplaced-block', 'error', 2, 2]]);
  t.deepEqual(diags('global_defs {\n router_id x {\n }\n}\n'), [['unexpected-block', 'warning', 2, 14]]);
  t.deepEqual(diags('global_def {\n}\n'), [['unknown-keyword', 'warning', 1, 1]]);
  t.regex(parse('global_def {\n}\n').diagnostics[0]!.message, /did you mean `global_defs`/);
  t.deepEqual(diags('bfd_instance {\n}\n'), [['unsupported-keyword', 'warning', 1, 1]]);
  t.deepEqual(diags('global_defs\n'), [['missing-block', 'error', 1, 1]]);
  t.deepEqual(diags('vrrp_instance {\n}\n'), [['missing-value', 'error', 1, 1]]);
  t.deepEqual(diags('zzzzzzzzzz\n'), [['unknown-keyword', 'warning', 1, 1]]);
  t.notRegex(parse('zzzzzzzzzz\n').diagnostics[0]!.message, /did you mean/);
});

test('a `{` on the next line opens the block; blocks may share a line with their contents', (t) => {
  const c = ok('vrrp_instance A\n{\n interface eth0\n virtual_router_id 9\n authentication { auth_type PASS\n  auth_pass 12 }\n virtual_ipaddress { 10.0.0.1/24 }\n}\n');
  t.like(c.vrrpInstances[0], { virtualRouterId: 9, authentication: { type: 'PASS', pass: '12' } });
  t.is(c.vrrpInstances[0]!.virtualIpaddress[0]!.address, '10.0.0.1');
});

test('@ conditionals and $ defines through the whole pipeline (one file for two nodes)', (t) => {
  const text = `$VIP=10.0.0.100/24
vrrp_instance VI_1 {
@n1  state MASTER
@n1  priority 150
@^n1 priority 100
     interface eth0
     virtual_router_id 51
     virtual_ipaddress {
        $VIP
     }
}
`;
  const a = parse(text, { configId: 'n1' }).config!.vrrpInstances[0]!;
  const b = parse(text, { configId: 'n2' }).config!.vrrpInstances[0]!;
  t.like(a, { initialState: 'MASTER', priority: 150 });
  t.like(b, { initialState: 'BACKUP', priority: 100 });
  t.deepEqual([a.virtualIpaddress[0]!.address, a.virtualIpaddress[0]!.prefixLen, a.virtualIpaddress[0]!.loc.line, a.virtualIpaddress[0]!.loc.col], ['10.0.0.100', 24, 9, 9]);
});

test('config is undefined when any diagnostic is an error, present with warnings only', (t) => {
  const bad = parse(instance('A', '').replace('virtual_router_id 51', 'virtual_router_id 0'));
  t.is(bad.config, undefined);
  t.truthy(bad.parsed);
  const warn = parse(instance('A', ' bogus_keyword 1'));
  t.truthy(warn.config);
  t.is(warn.diagnostics[0]!.severity, 'warning');
});

test('address syntax: dotted quads without leading zeros; IPv6 in canonical form', async (t) => {
  const { parseIp } = await import('../../../src/config/values.ts');
  t.deepEqual(parseIp('10.0.0.255'), { address: '10.0.0.255', family: 4 });
  t.deepEqual(parseIp('0.0.0.0'), { address: '0.0.0.0', family: 4 });
  for (const bad of ['192.168.001.2', '10.0.0.256', '1.2.3', '1.2.3.4.5', '1..2.3', '1.2.3.', '.1.2.3', '1.2.3.4a', '0x0a.0.0.1', '10', '', '1.2.3.4/24', 'fe80::1::2']) {
    t.is(parseIp(bad), undefined, bad);
  }
  t.deepEqual(parseIp('2001:DB8:0:0:0::1'), { address: '2001:db8::1', family: 6 });
  t.deepEqual(parseIp('::ffff:10.0.0.1'), { address: '::ffff:a00:1', family: 6 });
});

test('unknown keywords inside nested blocks suggest the block\'s own keywords', (t) => {
  const r = parse(instance('A', ' authentication {\n  auth_typ PASS\n  auth_pass x\n }'));
  t.deepEqual(r.diagnostics.map((d) => [d.code, d.loc.line, d.loc.col]), [['unknown-keyword', 8, 3]]);
  t.regex(r.diagnostics[0]!.message, /in authentication; did you mean `auth_type`\?/);
  const u = parse('virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  HTTP_GET {\n   url {\n    pathh /\n    path /\n   }\n  }\n }\n}\n');
  t.regex(u.diagnostics.find((d) => d.code === 'unknown-keyword')!.message, /unknown keyword `pathh` in url; did you mean `path`\?/);
});

test('track weights accept reverse, noreverse and no_reverse (keepalived.conf(5) spells it both ways)', (t) => {
  const c = ok('vrrp_script s {\n script /bin/true\n weight 5 no_reverse\n}\n' + instance('A', ' track_script {\n  s weight 3 no_reverse\n }\n track_interface {\n  eth0 weight 2 reverse\n }'));
  t.false(c.vrrpScripts[0]!.weightReverse);
  t.like(c.vrrpInstances[0]!.trackScripts[0], { weight: 3, weightReverse: false });
  t.like(c.vrrpInstances[0]!.trackInterfaces[0], { weight: 2, weightReverse: true });
  t.deepEqual(diags(instance('A', ' track_interface {\n  eth0 weight 2 sideways\n }')), [['bad-value', 'error', 8, 17]]);
});
