import test from 'ava';
import { rt, parseAttributes } from 'netlink';
import {
  broadcastBytes,
  fromAddressMessage,
  ipBytes,
  scopeName,
  scopeNumber,
  sameAddress,
  toAddressMessage,
} from '../../../src/netlink/addresses.ts';
import { encodeRtMessage } from '../../../src/netlink/rtnl.ts';
import { NetlinkError } from '../../../src/netlink/errors.ts';
import type { AddressSpec } from '../../../src/netlink/net-control.ts';

const v4: AddressSpec = { ifname: 'eth0', address: '192.0.2.10', prefixLen: 24, family: 4 };
const v6: AddressSpec = { ifname: 'eth0', address: '2001:db8::10', prefixLen: 64, family: 6 };

/** The attributes of an encoded message as type → payload (after the 8-byte ifaddrmsg). */
function attrsOf(m: rt.AddressMessage): Map<number, Buffer> {
  const buf = Buffer.concat(encodeRtMessage(m));
  const out = new Map<number, Buffer>();
  parseAttributes(buf.subarray(8), (a) => out.set(a.type, a.data));
  return out;
}

function invalid(t: import('ava').ExecutionContext, f: () => unknown, re: RegExp): void {
  const e = t.throws(f, { instanceOf: NetlinkError });
  t.is(e?.code, 'VIGIL_NL_INVALID_SPEC');
  t.regex(e?.message ?? '', re);
}

test('scope names and numbers as iproute2 spells them', (t) => {
  t.is(scopeNumber('global'), 0);
  t.is(scopeNumber('universe'), 0);
  t.is(scopeNumber('site'), 200);
  t.is(scopeNumber('link'), 253);
  t.is(scopeNumber('HOST'), 254);
  t.is(scopeNumber('nowhere'), 255);
  t.is(scopeNumber('17'), 17);
  t.is(scopeNumber('256'), undefined);
  t.is(scopeNumber('galaxy'), undefined);
  t.is(scopeName(0), 'global');
  t.is(scopeName(254), 'host');
  t.is(scopeName(17), '17');
});

test('IPv4 add: IFA_LOCAL and IFA_ADDRESS are the address, ifaddrmsg carries family/prefix/index', (t) => {
  const m = toAddressMessage(v4, 7, 'add');
  t.deepEqual(m.data, { family: 2, prefixlen: 24, index: 7 });
  const buf = Buffer.concat(encodeRtMessage(m));
  // struct ifaddrmsg: family u8, prefixlen u8, flags u8, scope u8, index u32 (host order)
  t.is(buf[0], 2);
  t.is(buf[1], 24);
  t.is(buf[2], 0);
  t.is(buf[3], 0);
  t.is(buf.readUInt32LE(4), 7);
  const a = attrsOf(m);
  t.deepEqual(a.get(2), Buffer.from([192, 0, 2, 10])); // IFA_LOCAL
  t.deepEqual(a.get(1), Buffer.from([192, 0, 2, 10])); // IFA_ADDRESS
  t.false(a.has(3)); // no IFA_LABEL
  t.false(a.has(4)); // no IFA_BROADCAST unless asked (keepalived)
  t.false(a.has(8)); // no IFA_FLAGS
});

test('IPv4 add with every option: label, scope, broadcast, peer, noprefixroute', (t) => {
  const m = toAddressMessage(
    { ...v4, label: 'eth0:vip', scope: 'link', broadcast: '192.0.2.255', peer: '192.0.2.99', noPrefixRoute: true },
    3,
    'add',
  );
  t.is(m.data.scope, 253);
  const a = attrsOf(m);
  t.deepEqual(a.get(2), Buffer.from([192, 0, 2, 10])); // IFA_LOCAL = the address
  t.deepEqual(a.get(1), Buffer.from([192, 0, 2, 99])); // IFA_ADDRESS = the peer
  t.is(a.get(3)?.toString('latin1'), 'eth0:vip\0');
  t.deepEqual(a.get(4), Buffer.from([192, 0, 2, 255]));
  t.is(a.get(8)?.readUInt32LE(0), 0x200); // IFA_F_NOPREFIXROUTE, in IFA_FLAGS (does not fit ifa_flags)
});

test('IPv6 add carries IFA_F_NODAD (keepalived: usable at once, never dadfailed), no label', (t) => {
  const m = toAddressMessage({ ...v6, label: 'eth0:six' }, 4, 'add');
  t.deepEqual(m.data, { family: 10, prefixlen: 64, index: 4 });
  const a = attrsOf(m);
  t.deepEqual(a.get(2), Buffer.from('20010db8000000000000000000000010', 'hex'));
  t.is(a.get(8)?.readUInt32LE(0), 0x02); // IFA_F_NODAD
  t.false(a.has(3), 'the kernel has no IPv6 labels');
  const np = attrsOf(toAddressMessage({ ...v6, noPrefixRoute: true }, 4, 'add'));
  t.is(np.get(8)?.readUInt32LE(0), 0x202);
  t.false(a.has(6), 'no IFA_CACHEINFO below /128');
});

test('an IPv6 /128 VIP is added deprecated (preferred 0, valid forever), as keepalived 2.2.7 does', (t) => {
  const a = attrsOf(toAddressMessage({ ...v6, prefixLen: 128 }, 4, 'add'));
  const ci = a.get(6); // IFA_CACHEINFO: ifa_prefered, ifa_valid, cstamp, tstamp (u32 each)
  t.is(ci?.length, 16);
  t.is(ci?.readUInt32LE(0), 0);
  t.is(ci?.readUInt32LE(4), 0xffffffff);
  t.false(attrsOf(toAddressMessage({ ...v6, prefixLen: 128 }, 4, 'del')).has(6));
  t.false(attrsOf(toAddressMessage({ ...v4, prefixLen: 32 }, 4, 'add')).has(6));
});

test('delete sends local+address+prefix (so only the same prefix matches) and no label/flags', (t) => {
  const m = toAddressMessage({ ...v4, label: 'eth0:vip', broadcast: '+', noPrefixRoute: true }, 3, 'del');
  const a = attrsOf(m);
  t.deepEqual([...a.keys()].sort(), [1, 2]);
  t.is(m.data.prefixlen, 24);
  const m6 = toAddressMessage(v6, 3, 'del');
  t.deepEqual([...attrsOf(m6).keys()].sort(), [1, 2]);
});

test('broadcast + and - as iproute2; none for /31 and /32', (t) => {
  t.deepEqual(broadcastBytes({ ...v4, broadcast: '+' }, 'op', 'o'), Buffer.from([192, 0, 2, 255]));
  t.deepEqual(broadcastBytes({ ...v4, broadcast: '-' }, 'op', 'o'), Buffer.from([192, 0, 2, 0]));
  t.deepEqual(broadcastBytes({ ...v4, prefixLen: 20, broadcast: '+' }, 'op', 'o'), Buffer.from([192, 0, 15, 255]));
  t.is(broadcastBytes({ ...v4, prefixLen: 31, broadcast: '+' }, 'op', 'o'), undefined);
  t.is(broadcastBytes({ ...v4, prefixLen: 32, broadcast: '+' }, 'op', 'o'), undefined);
  t.is(broadcastBytes(v4, 'op', 'o'), undefined);
});

test('bad specs are refused before anything is sent, naming the address', (t) => {
  invalid(t, () => toAddressMessage({ ...v4, address: '192.0.2.300' }, 1, 'add'), /192\.0\.2\.300.*not an IP address/);
  invalid(t, () => toAddressMessage({ ...v4, address: '10.1' }, 1, 'add'), /not an IP address/);
  invalid(t, () => toAddressMessage({ ...v4, address: '2001:db8::1' }, 1, 'add'), /not IPv4/);
  invalid(t, () => toAddressMessage({ ...v4, prefixLen: 33 }, 1, 'add'), /prefix length 33/);
  invalid(t, () => toAddressMessage({ ...v6, prefixLen: -1 }, 1, 'add'), /prefix length -1/);
  invalid(t, () => toAddressMessage({ ...v4, scope: 'galaxy' }, 1, 'add'), /scope "galaxy"/);
  invalid(t, () => toAddressMessage({ ...v4, label: 'eth0:much-too-long' }, 1, 'add'), /longer than 15 bytes/);
  invalid(t, () => toAddressMessage({ ...v6, broadcast: '+' }, 1, 'add'), /IPv6 has no broadcast/);
  invalid(t, () => toAddressMessage({ ...v4, peer: 'nope' }, 1, 'add'), /peer "nope"/);
  const e = t.throws(() => toAddressMessage({ ...v4, prefixLen: 40 }, 1, 'add'), { instanceOf: NetlinkError });
  t.regex(e?.message ?? '', /^add address 192\.0\.2\.10\/40 dev eth0: /);
  t.throws(() => ipBytes('::1', 4, 'op', 'o'));
});

test('a dumped address comes back as the spec that made it (round trip through the package codec)', (t) => {
  const spec: AddressSpec = { ...v4, label: 'eth0:vip', scope: 'host', broadcast: '192.0.2.255', peer: '192.0.2.1', noPrefixRoute: true };
  const wire = Buffer.concat(encodeRtMessage(toAddressMessage(spec, 9, 'add')));
  const back = fromAddressMessage(rt.parseAddressMessage(wire), (i) => (i === 9 ? 'eth0' : undefined));
  t.deepEqual(back, { ...spec, ifindex: 9 });
  const wire6 = Buffer.concat(encodeRtMessage(toAddressMessage({ ...v6, address: '2001:0db8:0::0010' }, 9, 'add')));
  const back6 = fromAddressMessage(rt.parseAddressMessage(wire6), () => 'eth0');
  t.is(back6?.address, '2001:db8::10'); // RFC 5952 text
  t.is(back6?.label, undefined);
});

test('the kernel reports the device name as label of an unlabelled address; listed without label', (t) => {
  const m: rt.AddressMessage = {
    kind: 'address',
    data: { family: 2, prefixlen: 32, index: 2 },
    attrs: { local: Buffer.from([10, 0, 0, 1]), address: Buffer.from([10, 0, 0, 1]), label: 'eth0' },
  };
  const a = fromAddressMessage(m, () => 'eth0');
  t.is(a?.label, undefined);
  t.is(a?.peer, undefined);
  t.is(fromAddressMessage({ ...m, data: { ...m.data, family: 17 } }, () => 'eth0'), undefined);
});

test('sameAddress compares normalised text, prefix and interface', (t) => {
  t.true(sameAddress(v6, { ...v6, address: '2001:0db8::0:10' }));
  t.false(sameAddress(v6, { ...v6, prefixLen: 128 }));
  t.false(sameAddress(v4, { ...v4, ifname: 'eth1' }));
});
