import test from 'ava';
import { rt, parseAttributes } from 'netlink';
import {
  addrGenModeNoneMessage,
  checkIfname,
  linkKind,
  linkUpMessage,
  lowerIndex,
  sameLinkState,
  toLinkInfo,
} from '../../../src/netlink/links.ts';
import { macText, macvlanCreateMessage, macvlanState, MACVLAN_MODE_PRIVATE, vrrpVirtualMac } from '../../../src/netlink/macvlan.ts';
import { encodeRtMessage } from '../../../src/netlink/rtnl.ts';
import { NetlinkError } from '../../../src/netlink/errors.ts';

function attrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  parseAttributes(buf, (a) => out.set(a.type, a.data));
  return out;
}

test('vrrpVirtualMac: 00:00:5e:00:01:VRID for IPv4, 00:00:5e:00:02:VRID for IPv6 (RFC 5798 §7.3)', (t) => {
  t.is(macText(vrrpVirtualMac(51, 4)), '00:00:5e:00:01:33');
  t.is(macText(vrrpVirtualMac(1, 6)), '00:00:5e:00:02:01');
  t.is(macText(vrrpVirtualMac(255, 4)), '00:00:5e:00:01:ff');
  for (const bad of [0, 256, 1.5, -1]) {
    const e = t.throws(() => vrrpVirtualMac(bad, 4), { instanceOf: NetlinkError });
    t.is(e?.code, 'VIGIL_NL_INVALID_SPEC');
  }
});

test('macvlan create: IFLA_LINKINFO{kind macvlan, data{mode private}}, IFLA_LINK, IFLA_IFNAME, IFLA_ADDRESS', (t) => {
  const mac = vrrpVirtualMac(5, 4);
  const buf = Buffer.concat(encodeRtMessage(macvlanCreateMessage(7, 'vrrp.5', mac)));
  // struct ifinfomsg is 16 bytes
  const a = attrs(buf.subarray(16));
  t.is(a.get(3)?.toString('latin1'), 'vrrp.5\0'); // IFLA_IFNAME
  t.deepEqual(a.get(1), mac); // IFLA_ADDRESS
  t.is(a.get(5)?.readUInt32LE(0), 7); // IFLA_LINK
  const li = attrs(a.get(18)!); // IFLA_LINKINFO
  t.is(li.get(1)?.toString('latin1'), 'macvlan'); // IFLA_INFO_KIND
  const data = attrs(li.get(2)!); // IFLA_INFO_DATA
  t.is(data.get(1)?.readUInt32LE(0), MACVLAN_MODE_PRIVATE); // IFLA_MACVLAN_MODE
  // And the same message read back the way a kernel dump is read:
  const st = macvlanState(rt.parseLinkMessage(buf));
  t.deepEqual(st, { parentIndex: 7, mode: MACVLAN_MODE_PRIVATE, mac });
  t.throws(() => macvlanCreateMessage(7, 'x', Buffer.alloc(5)), { instanceOf: NetlinkError });
});

test('a malformed IFLA_LINKINFO reads as a plain device, never as a macvlan of ours', (t) => {
  const m: rt.LinkMessage = { kind: 'link', data: { index: 2 }, attrs: { ifname: 'x', linkinfo: Buffer.from([0xff, 0x00, 0x01]) } };
  t.is(linkKind(m), undefined);
  t.is(macvlanState(m), undefined);
});

test('a plain device is not a macvlan', (t) => {
  const m: rt.LinkMessage = { kind: 'link', data: { index: 2 }, attrs: { ifname: 'eth0' } };
  t.is(linkKind(m), undefined);
  t.is(macvlanState(m), undefined);
  t.is(lowerIndex(m), undefined);
});

test('link up sets IFF_UP in flags and change; addr_gen_mode none nests AF_INET6', (t) => {
  const up = Buffer.concat(encodeRtMessage(linkUpMessage(9)));
  t.is(up.readInt32LE(4), 9);
  t.is(up.readUInt32LE(8), 1); // ifi_flags = IFF_UP
  t.is(up.readUInt32LE(12), 1); // ifi_change = IFF_UP
  const gm = Buffer.concat(encodeRtMessage(addrGenModeNoneMessage(9)));
  const spec = attrs(attrs(gm.subarray(16)).get(26)!); // IFLA_AF_SPEC
  const inet6 = attrs(spec.get(10)!); // AF_INET6
  t.deepEqual(inet6.get(8), Buffer.from([1])); // IFLA_INET6_ADDR_GEN_MODE = NONE
});

test('toLinkInfo reads index, name, MAC, IFF_UP, IFF_RUNNING and MTU', (t) => {
  const m: rt.LinkMessage = {
    kind: 'link',
    data: { index: 4, flags: { up: true, broadcast: true, running: true } },
    attrs: { ifname: 'eth0', address: Buffer.from('020000000001', 'hex'), mtu: 1500 },
  };
  const l = toLinkInfo(m);
  t.deepEqual(l, { ifindex: 4, ifname: 'eth0', mac: Buffer.from('020000000001', 'hex'), up: true, running: true, mtu: 1500 });
  const down = toLinkInfo({ ...m, data: { index: 4, flags: {} } });
  t.false(down?.up);
  t.false(down?.running);
  t.false(sameLinkState(l!, down!));
  t.true(sameLinkState(l!, toLinkInfo(m)!));
  t.is(toLinkInfo({ kind: 'link', data: {}, attrs: { ifname: 'x' } }), undefined);
  t.deepEqual(toLinkInfo({ kind: 'link', data: { index: 1 }, attrs: { ifname: 'lo' } })?.mac, Buffer.alloc(0));
});

test('interface names are checked as the kernel does', (t) => {
  t.notThrows(() => checkIfname('eth0', 'op'));
  t.notThrows(() => checkIfname('vrrp.255', 'op'));
  for (const bad of ['', '.', '..', 'a/b', 'eth0:1', 'has space', 'sixteen-chars-xx']) {
    const e = t.throws(() => checkIfname(bad, 'get link'), { instanceOf: NetlinkError });
    t.is(e?.code, 'VIGIL_NL_INVALID_SPEC');
  }
});
