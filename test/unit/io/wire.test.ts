import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  addrBytes,
  in6Pktinfo,
  ipMreqn,
  ipv6Mreq,
  parseIpv4,
  parseIpv6Cmsgs,
  parseSockaddr,
  sockaddrIn,
  sockaddrIn6,
  sockaddrLl,
} from '../../../src/io/wire.ts';

const vectors = new URL('../../../../shared/vectors/', import.meta.url);
const hex = (name: string): Buffer => Buffer.from(readFileSync(new URL(name, vectors), 'utf8').trim(), 'hex');

test('parseIpv4 strips the header of keepalived’s captured advert', (t) => {
  const pkt = hex('vrrpv2_advert.hex');
  const r = parseIpv4(pkt);
  if (!r.ok) return t.fail(r.detail);
  t.is(r.packet.src, '10.211.0.1');
  t.is(r.packet.dst, '224.0.0.18');
  t.is(r.packet.ttl, 255);
  t.is(r.packet.tos, 0xc0);
  t.deepEqual(r.packet.payload, pkt.subarray(20));
});

test('parseIpv4 honours IHL (options) and total length (trailing bytes)', (t) => {
  const base = hex('vrrpv3_advert.hex');
  const withOpts = Buffer.concat([base.subarray(0, 20), Buffer.from([1, 1, 1, 0]), base.subarray(20), Buffer.from([9, 9])]);
  withOpts[0] = 0x46;
  withOpts.writeUInt16BE(base.length + 4, 2);
  const r = parseIpv4(withOpts);
  if (!r.ok) return t.fail(r.detail);
  t.deepEqual(r.packet.payload, base.subarray(20));
});

test('parseIpv4 names what is wrong with a bad header', (t) => {
  const good = hex('vrrpv2_advert.hex');
  const mutate = (f: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(good);
    f(b);
    return b;
  };
  const reason = (b: Buffer): string => {
    const r = parseIpv4(b);
    return r.ok ? 'ok' : r.reason;
  };
  t.is(reason(good.subarray(0, 19)), 'ip-short');
  t.is(reason(mutate((b) => (b[0] = 0x65))), 'ip-version');
  t.is(reason(mutate((b) => (b[0] = 0x44))), 'ip-header-length');
  t.is(reason(mutate((b) => (b[0] = 0x4f))), 'ip-header-length');
  t.is(reason(mutate((b) => b.writeUInt16BE(good.length + 1, 2))), 'ip-total-length');
  t.is(reason(mutate((b) => b.writeUInt16BE(10, 2))), 'ip-total-length');
  t.is(reason(mutate((b) => (b[9] = 17))), 'ip-protocol');
});

test('parseIpv4 never throws on random bytes', (t) => {
  for (let i = 0; i < 20_000; i++) {
    const b = randomBytes(i % 90);
    if (i % 2 === 0 && b.length > 0) b[0] = 0x40 | (b[0]! & 0x0f); // often a plausible version
    t.notThrows(() => parseIpv4(b));
  }
});

test('parseIpv6Cmsgs reads IPV6_HOPLIMIT and IPV6_PKTINFO, 8-byte aligned', (t) => {
  const cmsg = (level: number, type: number, data: Buffer): Buffer => {
    const len = 16 + data.length;
    const b = Buffer.alloc((len + 7) & ~7);
    b.writeBigUInt64LE(BigInt(len), 0);
    b.writeInt32LE(level, 8);
    b.writeInt32LE(type, 12);
    data.copy(b, 16);
    return b;
  };
  const hop = Buffer.alloc(4);
  hop.writeInt32LE(255);
  const ctl = Buffer.concat([cmsg(41, 50, in6Pktinfo(addrBytes('ff02::12', 6)!, 7)), cmsg(41, 52, hop)]);
  t.deepEqual(parseIpv6Cmsgs(ctl), { dst: 'ff02::12', ifindex: 7, hopLimit: 255 });
});

test('parseIpv6Cmsgs stops at a malformed length and never throws', (t) => {
  const b = Buffer.alloc(40);
  b.writeBigUInt64LE(1000n, 0);
  t.deepEqual(parseIpv6Cmsgs(b), {});
  b.writeBigUInt64LE(3n, 0);
  t.deepEqual(parseIpv6Cmsgs(b), {});
  for (let i = 0; i < 5000; i++) t.notThrows(() => parseIpv6Cmsgs(randomBytes(i % 200)));
});

test('socket structures have the kernel layout', (t) => {
  const a4 = addrBytes('10.211.0.1', 4)!;
  t.is(sockaddrIn(a4).toString('hex'), '02000000' + '0ad30001' + '0000000000000000');
  const a6 = addrBytes('fe80::1', 6)!;
  const s6 = sockaddrIn6(a6, 3);
  t.is(s6.length, 28);
  t.is(s6.readUInt16LE(0), 10);
  t.deepEqual(s6.subarray(8, 24), a6);
  t.is(s6.readUInt32LE(24), 3);
  t.is(parseSockaddr(sockaddrIn(a4)), '10.211.0.1');
  t.is(parseSockaddr(s6), 'fe80::1');
  t.is(parseSockaddr(Buffer.alloc(3)), undefined);
  t.is(ipMreqn(addrBytes('224.0.0.18', 4), undefined, 5).toString('hex'), 'e0000012' + '00000000' + '05000000');
  t.is(ipv6Mreq(addrBytes('ff02::12', 6)!, 5).toString('hex'), 'ff020000000000000000000000000012' + '05000000');
  const ll = sockaddrLl(4, 0x0806, Buffer.from('ffffffffffff', 'hex'));
  t.is(ll.toString('hex'), '1100' + '0806' + '04000000' + '0100' + '00' + '06' + 'ffffffffffff0000');
});

test('addrBytes accepts only its own family', (t) => {
  t.is(addrBytes('10.0.0.1', 6), undefined);
  t.is(addrBytes('fe80::1', 4), undefined);
  t.is(addrBytes('10.0.0', 4), undefined);
  t.deepEqual(addrBytes('fe80::1%eth0', 6), addrBytes('fe80::1', 6));
});
