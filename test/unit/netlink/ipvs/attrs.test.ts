import test from 'ava';
import {
  describeDest,
  describeService,
  destKey,
  fromIpvsAttrs,
  IpvsCmd,
  normalizeDest,
  normalizeService,
  serviceKey,
  toIpvsAttrs,
} from '../../../../src/netlink/ipvs/attrs.ts';
import { IpvsError } from '../../../../src/netlink/ipvs/errors.ts';
import { nlaBe16, nlaBytes, nlaNested, nlaString, nlaU16, nlaU32, parseAttrs, u32Bytes } from '../../../../src/netlink/ipvs/nlattr.ts';
import type { IpvsService } from '../../../../src/netlink/ipvs/types.ts';

const web: IpvsService = { family: 4, protocol: 'TCP', address: '10.0.0.1', port: 80, scheduler: 'wlc' };

/** Little-endian hosts only (x86, arm64): the byte vectors below are written that way. */
const hex = (b: Buffer[]): string => Buffer.concat(b).toString('hex');

test('add-service encodes every attribute NEW_SERVICE needs, in the kernel layout', (t) => {
  const w = toIpvsAttrs({ op: 'add-service', service: { ...web, persistent: { timeoutS: 300, netmask: '255.255.255.0' } } });
  t.is(w.cmd, IpvsCmd.NEW_SERVICE);
  t.false(w.dump);
  t.is(w.object, 'service 10.0.0.1:80/tcp');
  const expected =
    // nested IPVS_CMD_ATTR_SERVICE (1 | NLA_F_NESTED), length 4 + 8+8+20+8+8+12+8+8 = 84
    '5400' + '0180' +
    '0600' + '0100' + '0200' + '0000' + // AF = AF_INET (u16, padded)
    '0600' + '0200' + '0600' + '0000' + // PROTOCOL = 6
    '1400' + '0300' + '0a000001' + '00'.repeat(12) + // ADDR: 16 bytes, IPv4 first
    '0600' + '0400' + '0050' + '0000' + // PORT = 80, big-endian
    '0800' + '0600' + '776c6300' + // SCHED_NAME "wlc\0"
    '0c00' + '0700' + '01000000' + 'ffffffff' + // FLAGS {flags: PERSISTENT, mask: ~0}
    '0800' + '0800' + '2c010000' + // TIMEOUT = 300 s
    '0800' + '0900' + 'ffffff00'; // NETMASK 255.255.255.0 as __be32
  t.is(hex(w.payload), expected);
});

test('dest requests carry the service identity and every dest field; delete only the identity', (t) => {
  const d = { address: '10.0.1.2', family: 4 as const, port: 8080, forward: 'DR' as const, weight: 5, upperThreshold: 100 };
  const add = toIpvsAttrs({ op: 'add-dest', service: web, dest: d });
  t.is(add.cmd, IpvsCmd.NEW_DEST);
  t.is(add.object, 'dest 10.0.1.2:8080 of service 10.0.0.1:80/tcp');
  const top = parseAttrs(Buffer.concat(add.payload));
  if (!top.ok) return t.fail(top.detail);
  const dest = parseAttrs(top.value.get(2)!);
  if (!dest.ok) return t.fail(dest.detail);
  t.is(dest.value.get(3)!.readUInt32LE(0), 3, 'FWD_METHOD DROUTE');
  t.is(dest.value.get(4)!.readUInt32LE(0), 5, 'WEIGHT');
  t.is(dest.value.get(5)!.readUInt32LE(0), 100, 'U_THRESH');
  t.is(dest.value.get(6)!.readUInt32LE(0), 0, 'L_THRESH');
  t.is(dest.value.get(2)!.readUInt16BE(0), 8080, 'PORT is big-endian');
  t.is(dest.value.get(11)!.readUInt16LE(0), 2, 'ADDR_FAMILY AF_INET');
  const del = toIpvsAttrs({ op: 'del-dest', service: web, dest: d });
  t.is(del.cmd, IpvsCmd.DEL_DEST);
  const delTop = parseAttrs(Buffer.concat(del.payload));
  if (!delTop.ok) return t.fail(delTop.detail);
  const delDest = parseAttrs(delTop.value.get(2)!);
  if (!delDest.ok) return t.fail(delDest.detail);
  t.deepEqual([...delDest.value.keys()].sort((x, y) => x - y), [1, 2, 11]);
});

test('fwmark and IPv6 services: identity attributes and the IPv6 netmask as a prefix length', (t) => {
  const fwm = toIpvsAttrs({ op: 'del-service', service: { family: 6, protocol: 'TCP', fwmark: 7, scheduler: 'rr' } });
  t.is(fwm.object, 'service fwmark 7/ipv6');
  t.is(hex(fwm.payload), '1400' + '0180' + '0600' + '0100' + '0a000000' + '0800' + '0500' + '07000000');
  const v6 = toIpvsAttrs({
    op: 'edit-service',
    service: { family: 6, protocol: 'UDP', address: '2001:db8::1', port: 53, scheduler: 'sh', flags: ['sh-port'], persistent: { timeoutS: 60, netmask: '/64' } },
  });
  t.is(v6.cmd, IpvsCmd.SET_SERVICE);
  t.is(v6.object, 'service [2001:db8::1]:53/udp');
  const top = parseAttrs(Buffer.concat(v6.payload));
  if (!top.ok) return t.fail(top.detail);
  const svc = parseAttrs(top.value.get(1)!);
  if (!svc.ok) return t.fail(svc.detail);
  t.is(svc.value.get(9)!.readUInt32LE(0), 64, 'NETMASK prefix length, host order');
  t.is(svc.value.get(7)!.readUInt32LE(0), 0x10 | 0x1, 'SCHED2 | PERSISTENT');
  t.is(svc.value.get(3)!.toString('hex'), '20010db8000000000000000000000001');
});

test('values that cannot be programmed are refused before anything is sent, naming the object', (t) => {
  const cases: Array<[string, () => unknown]> = [
    ['address', () => toIpvsAttrs({ op: 'add-service', service: { ...web, address: '10.0.0.300' } })],
    ['family mismatch', () => toIpvsAttrs({ op: 'add-service', service: { ...web, address: '2001:db8::1' } })],
    ['port', () => toIpvsAttrs({ op: 'add-service', service: { ...web, port: 70000 } })],
    ['scheduler', () => toIpvsAttrs({ op: 'add-service', service: { ...web, scheduler: 'a-very-long-scheduler-name' } })],
    ['flag', () => toIpvsAttrs({ op: 'add-service', service: { ...web, flags: ['bogus'] } })],
    ['netmask', () => toIpvsAttrs({ op: 'add-service', service: { ...web, persistent: { timeoutS: 1, netmask: '255.0.255.0' } } })],
    ['v6 netmask', () => toIpvsAttrs({ op: 'add-service', service: { ...web, family: 6, address: '::1', persistent: { timeoutS: 1, netmask: '129' } } })],
    ['weight', () => toIpvsAttrs({ op: 'add-dest', service: web, dest: { address: '10.0.0.2', family: 4, port: 80, forward: 'NAT', weight: -1 } })],
    ['timeout', () => toIpvsAttrs({ op: 'add-service', service: { ...web, persistent: { timeoutS: 0 } } })],
  ];
  for (const [what, fn] of cases) {
    const e = t.throws(fn, { instanceOf: IpvsError }, what);
    t.is(e?.code, 'VIGIL_IPVS_INVALID', what);
    t.regex(e?.message ?? '', /^VIGIL_IPVS_INVALID (service|dest) /, what);
  }
});

/** A GET_SERVICE reply as ip_vs_genl_fill_service builds it. */
function kernelService(inner: Buffer[]): Buffer {
  return nlaNested(1, inner);
}

test('a kernel service reply decodes to the domain form, persistence and flags included', (t) => {
  const payload = kernelService([
    nlaU16(1, 2),
    nlaU16(2, 17),
    nlaBytes(3, Buffer.from('c0a80001' + '00'.repeat(12), 'hex')),
    nlaBe16(4, 53),
    nlaString(6, 'sh'),
    nlaBytes(7, Buffer.concat([u32Bytes(0x1 | 0x2 | 0x8), u32Bytes(0xffffffff)])), // PERSISTENT | HASHED | SCHED1
    nlaU32(8, 120),
    nlaBytes(9, Buffer.from([255, 255, 0, 0])),
    nlaNested(10, [nlaU32(1, 3), nlaU32(2, 10), nlaU32(3, 9), nlaBytes(4, Buffer.from('e803000000000000', 'hex')), nlaBytes(5, Buffer.alloc(8))]),
  ]);
  const d = fromIpvsAttrs(IpvsCmd.NEW_SERVICE, payload);
  if (!d.ok) return t.fail(d.detail);
  t.deepEqual(d.value, {
    kind: 'service',
    service: {
      family: 4,
      protocol: 'UDP',
      address: '192.168.0.1',
      port: 53,
      scheduler: 'sh',
      persistent: { timeoutS: 120, netmask: '255.255.0.0' },
      flags: ['sh-fallback'],
      stats: { conns: 3, inPkts: 10, outPkts: 9, inBytes: 1000, outBytes: 0 },
    },
  });
});

test('a fwmark service reads back without address and with protocol TCP', (t) => {
  const d = fromIpvsAttrs(IpvsCmd.NEW_SERVICE, kernelService([nlaU16(1, 10), nlaU32(5, 42), nlaString(6, 'rr'), nlaBytes(7, Buffer.alloc(8)), nlaU32(8, 0), nlaU32(9, 128)]));
  if (!d.ok) return t.fail(d.detail);
  t.deepEqual(d.value, { kind: 'service', service: { family: 6, protocol: 'TCP', fwmark: 42, scheduler: 'rr' } });
});

test('dest replies decode with counters; the service family fills in a missing ADDR_FAMILY', (t) => {
  const nest = nlaNested(2, [
    nlaBytes(1, Buffer.from('20010db8000000000000000000000002', 'hex')),
    nlaBe16(2, 443),
    nlaU32(3, 0),
    nlaU32(4, 7),
    nlaU32(5, 0),
    nlaU32(6, 0),
    nlaU32(7, 4),
    nlaU32(8, 2),
    nlaU32(9, 1),
  ]);
  t.false(fromIpvsAttrs(IpvsCmd.NEW_DEST, nest).ok, 'no family known');
  const d = fromIpvsAttrs(IpvsCmd.NEW_DEST, nest, { serviceFamily: 6 });
  if (!d.ok) return t.fail(d.detail);
  t.deepEqual(d.value, {
    kind: 'dest',
    dest: { address: '2001:db8::2', family: 6, port: 443, forward: 'NAT', weight: 7, activeConns: 4, inactiveConns: 2, persistConns: 1 },
  });
});

test('info and timeouts replies decode', (t) => {
  const info = fromIpvsAttrs(IpvsCmd.SET_INFO, Buffer.concat([nlaU32(1, 0x010201), nlaU32(2, 4096)]));
  t.deepEqual(info, { ok: true, value: { kind: 'info', info: { version: '1.2.1', connTabSize: 4096 } } });
  const to = fromIpvsAttrs(IpvsCmd.SET_CONFIG, Buffer.concat([nlaU32(4, 900), nlaU32(5, 120), nlaU32(6, 300)]));
  t.deepEqual(to, { ok: true, value: { kind: 'timeouts', timeouts: { tcpS: 900, tcpFinS: 120, udpS: 300 } } });
});

test('hostile replies give a reason, never a throw', (t) => {
  const cases: Array<[number, Buffer, string]> = [
    [IpvsCmd.NEW_SERVICE, Buffer.from([0xff, 0x00, 0x01, 0x80]), 'nla-truncated'],
    [IpvsCmd.NEW_SERVICE, Buffer.from([0x02, 0x00, 0x01, 0x80]), 'nla-len'],
    [IpvsCmd.NEW_SERVICE, Buffer.alloc(0), 'no-service-attr'],
    [IpvsCmd.NEW_SERVICE, kernelService([nlaU16(1, 99)]), 'svc-af'],
    [IpvsCmd.NEW_SERVICE, kernelService([nlaU16(1, 2), nlaString(6, 'rr'), nlaU16(2, 250)]), 'svc-protocol'],
    [IpvsCmd.NEW_SERVICE, kernelService([nlaU16(1, 2), nlaString(6, 'rr'), nlaU16(2, 6), nlaBytes(3, Buffer.alloc(2))]), 'svc-addr'],
    [IpvsCmd.NEW_DEST, nlaNested(2, [nlaU16(11, 2), nlaBytes(1, Buffer.alloc(16)), nlaBe16(2, 1), nlaU32(3, 1), nlaU32(4, 1)]), 'dest-fwd'],
    [IpvsCmd.NEW_DEST, nlaNested(2, [nlaU16(11, 2), nlaBytes(1, Buffer.alloc(16)), nlaBe16(2, 1), nlaU32(3, 0)]), 'dest-weight'],
    [IpvsCmd.SET_INFO, Buffer.alloc(0), 'info'],
    [99, Buffer.alloc(0), 'unexpected-cmd'],
  ];
  for (const [cmd, buf, reason] of cases) {
    const d = fromIpvsAttrs(cmd, buf);
    t.false(d.ok, reason);
    if (!d.ok) t.is(d.reason, reason);
  }
  // random garbage never throws
  for (let i = 0; i < 2000; i++) {
    const len = (i * 7919) % 97;
    const b = Buffer.alloc(len);
    for (let j = 0; j < len; j++) b[j] = (i * 31 + j * 17) & 0xff;
    t.notThrows(() => fromIpvsAttrs(i % 2 ? IpvsCmd.NEW_SERVICE : IpvsCmd.NEW_DEST, b, { serviceFamily: 4 }));
  }
});

test('normal forms make equal objects compare equal, and keys name identities', (t) => {
  const a = normalizeService({ family: 6, protocol: 'TCP', address: '2001:DB8:0:0::1', port: 80, scheduler: 'sh', flags: ['flag-2', 'flag-1'], persistent: { timeoutS: 10 } });
  t.deepEqual(a, { family: 6, protocol: 'TCP', address: '2001:db8::1', port: 80, scheduler: 'sh', persistent: { timeoutS: 10, netmask: '128' }, flags: ['sh-fallback', 'sh-port'] });
  t.deepEqual(normalizeService({ ...web, persistent: { timeoutS: 5, netmask: '24' } }).persistent, { timeoutS: 5, netmask: '255.255.255.0' });
  t.deepEqual(normalizeService({ family: 4, protocol: 'UDP', fwmark: 3, address: '1.1.1.1', port: 1, scheduler: 'rr' }), { family: 4, protocol: 'TCP', fwmark: 3, scheduler: 'rr' });
  t.deepEqual(normalizeDest({ address: '10.0.0.2', family: 4, port: 80, forward: 'NAT', weight: 1, upperThreshold: 0 }), { address: '10.0.0.2', family: 4, port: 80, forward: 'NAT', weight: 1 });
  t.is(serviceKey({ ...web, address: '2001:db8::0:1', family: 6 }), serviceKey({ ...web, address: '2001:db8::1', family: 6 }));
  t.not(serviceKey(web), serviceKey({ ...web, protocol: 'UDP' }));
  t.is(serviceKey({ family: 4, protocol: 'UDP', fwmark: 9, scheduler: 'rr' }), serviceKey({ family: 4, protocol: 'TCP', fwmark: 9, scheduler: 'wlc' }));
  t.not(destKey({ address: '10.0.0.2', family: 4, port: 80, forward: 'NAT', weight: 1 }), destKey({ address: '10.0.0.2', family: 4, port: 81, forward: 'NAT', weight: 1 }));
  t.is(describeService({ family: 6, protocol: 'SCTP', address: '::1', port: 9, scheduler: 'rr' }), 'service [::1]:9/sctp');
  t.is(describeDest(web, { address: '::2', family: 6, port: 80, forward: 'TUN', weight: 1 }), 'dest [::2]:80 of service 10.0.0.1:80/tcp');
});
