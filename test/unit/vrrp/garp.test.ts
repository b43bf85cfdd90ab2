import test from 'ava';
import { readFileSync } from 'node:fs';
import { buildGarpFrame, buildUnsolicitedNaFrame, icmpv6Checksum, ipv6Bytes } from '../../../src/vrrp/garp.ts';

const vectors = new URL('../../../../shared/vectors/', import.meta.url);
const hex = (name: string): Buffer => Buffer.from(readFileSync(new URL(name, vectors), 'utf8').trim(), 'hex');
const MAC = Buffer.from('02ab00000001', 'hex');

test('gratuitous ARP is byte-identical to the frame keepalived 2.2.7 sent', (t) => {
  t.deepEqual(buildGarpFrame(MAC, '10.211.0.100'), hex('vrrpv2_garp.frame.hex'));
});

test('the VRRPv3 capture holds the same gratuitous ARP', (t) => {
  t.deepEqual(buildGarpFrame(MAC, '10.211.0.100'), hex('vrrpv3_garp.frame.hex'));
});

test('gratuitous ARP refuses a bad address or MAC', (t) => {
  t.throws(() => buildGarpFrame(MAC, '10.211.0'), { instanceOf: RangeError });
  t.throws(() => buildGarpFrame(MAC, 'fe80::1'), { instanceOf: RangeError });
  t.throws(() => buildGarpFrame(Buffer.alloc(5), '10.0.0.1'), { instanceOf: RangeError });
});

test('unsolicited NA: RFC 4861 §7.2.6 fields, as keepalived builds it', (t) => {
  const f = buildUnsolicitedNaFrame(MAC, '2001:db8::64');
  t.is(f.length, 14 + 40 + 32);
  t.is(f.subarray(0, 6).toString('hex'), '333300000001', 'to the all-nodes MAC');
  t.deepEqual(f.subarray(6, 12), MAC);
  t.is(f.readUInt16BE(12), 0x86dd);
  const ip = f.subarray(14);
  t.is(ip.readUInt32BE(0), 0x60000000, 'version 6, traffic class 0, flow 0');
  t.is(ip.readUInt16BE(4), 32, 'payload length');
  t.is(ip[6], 58, 'next header ICMPv6');
  t.is(ip[7], 255, 'hop limit 255');
  t.deepEqual(ip.subarray(8, 24), ipv6Bytes('2001:db8::64'), 'source is the VIP');
  t.deepEqual(ip.subarray(24, 40), ipv6Bytes('ff02::1'));
  const icmp = ip.subarray(40);
  t.is(icmp[0], 136, 'Neighbor Advertisement');
  t.is(icmp[1], 0);
  t.is(icmp.readUInt32BE(4), 0x20000000, 'Override set, Solicited and Router clear');
  t.deepEqual(icmp.subarray(8, 24), ipv6Bytes('2001:db8::64'), 'target');
  t.deepEqual([...icmp.subarray(24, 26)], [2, 1], 'Target Link-Layer Address option, 8 bytes');
  t.deepEqual(icmp.subarray(26, 32), MAC);
  // A correct checksum makes the sum over pseudo-header + message (checksum included) 0xffff.
  t.is(icmpv6Checksum(ip.subarray(8, 24), ip.subarray(24, 40), icmp), 0);
});

test('unsolicited NA sets the Router flag on request', (t) => {
  const icmp = buildUnsolicitedNaFrame(MAC, 'fe80::1', { router: true }).subarray(54);
  t.is(icmp.readUInt32BE(4), 0xa0000000);
  t.is(icmpv6Checksum(ipv6Bytes('fe80::1'), ipv6Bytes('ff02::1'), icmp), 0);
});

test('ICMPv6 checksum matches a worked example', (t) => {
  // Echo request fe80::1 -> fe80::2, id 0, seq 0, no data: the 16-bit words of the
  // pseudo-header (both addresses, length 8, next header 58) and of the message, by hand.
  const icmp = Buffer.from('8000000000000000', 'hex');
  const sum = icmpv6Checksum(ipv6Bytes('fe80::1'), ipv6Bytes('fe80::2'), icmp);
  const words = 0xfe80 + 1 + 0xfe80 + 2 + 8 + 58 + 0x8000;
  let folded = words;
  while (folded > 0xffff) folded = (folded & 0xffff) + (folded >>> 16);
  t.is(sum, ~folded & 0xffff);
  icmp.writeUInt16BE(sum, 2);
  t.is(icmpv6Checksum(ipv6Bytes('fe80::1'), ipv6Bytes('fe80::2'), icmp), 0);
});

test('NA refuses IPv4 and zoned addresses', (t) => {
  t.throws(() => buildUnsolicitedNaFrame(MAC, '10.0.0.1'), { instanceOf: RangeError });
  t.throws(() => buildUnsolicitedNaFrame(MAC, 'fe80::1%eth0'), { instanceOf: RangeError });
});
