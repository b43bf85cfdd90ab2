import test from 'ava';
import { rt, parseAttributes } from 'netlink';
import { describeRoute, RTPROT_KEEPALIVED, toRouteMessage } from '../../../src/netlink/routes.ts';
import { encodeRtMessage } from '../../../src/netlink/rtnl.ts';
import { NetlinkError } from '../../../src/netlink/errors.ts';
import type { RouteSpec } from '../../../src/netlink/net-control.ts';

/** struct rtmsg is 12 bytes; then RTA_* attributes. */
function wire(m: rt.RouteMessage): { hdr: Buffer; attrs: Map<number, Buffer> } {
  const buf = Buffer.concat(encodeRtMessage(m));
  const attrs = new Map<number, Buffer>();
  parseAttributes(buf.subarray(12), (a) => attrs.set(a.type, a.data));
  return { hdr: buf.subarray(0, 12), attrs };
}

const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_TABLE = 15;

test('unicast via a gateway: universe scope, main table, proto keepalived, all attributes', (t) => {
  const r: RouteSpec = { to: '198.51.100.0', prefixLen: 24, family: 4, via: '192.0.2.1', src: '192.0.2.10', ifname: 'eth0', metric: 5 };
  const { hdr, attrs } = wire(toRouteMessage(r, 3, 'add'));
  // rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags(u32)
  t.deepEqual([...hdr.subarray(0, 8)], [2, 24, 0, 0, 254, RTPROT_KEEPALIVED, 0, 1]);
  t.deepEqual(attrs.get(RTA_DST), Buffer.from([198, 51, 100, 0]));
  t.deepEqual(attrs.get(RTA_GATEWAY), Buffer.from([192, 0, 2, 1]));
  t.deepEqual(attrs.get(RTA_PREFSRC), Buffer.from([192, 0, 2, 10]));
  t.is(attrs.get(RTA_OIF)?.readUInt32LE(0), 3);
  t.is(attrs.get(RTA_PRIORITY)?.readUInt32LE(0), 5);
  t.is(attrs.get(RTA_TABLE)?.readUInt32LE(0), 254);
});

test('a unicast route without gateway is scope link (iproute2); delete matches any scope', (t) => {
  const r: RouteSpec = { to: '198.51.100.0', prefixLen: 24, family: 4, ifname: 'eth0' };
  t.is(wire(toRouteMessage(r, 3, 'add')).hdr[6], 253);
  t.is(wire(toRouteMessage(r, 3, 'del')).hdr[6], 255);
  t.is(wire(toRouteMessage({ ...r, scope: 'host' }, 3, 'del')).hdr[6], 254);
});

test('blackhole, unreachable, prohibit, local types; table > 255 only in RTA_TABLE', (t) => {
  const bh = wire(toRouteMessage({ to: '203.0.113.0', prefixLen: 24, family: 4, type: 'blackhole', table: 1000 }, undefined, 'add'));
  t.is(bh.hdr[7], 6);
  t.is(bh.hdr[4], 0, 'RT_TABLE_UNSPEC in rtm_table when the id does not fit a u8');
  t.is(bh.attrs.get(RTA_TABLE)?.readUInt32LE(0), 1000);
  t.is(bh.hdr[6], 0);
  t.false(bh.attrs.has(RTA_OIF));
  t.is(wire(toRouteMessage({ to: '203.0.113.0', prefixLen: 24, family: 4, type: 'unreachable' }, undefined, 'add')).hdr[7], 7);
  t.is(wire(toRouteMessage({ to: '203.0.113.0', prefixLen: 24, family: 4, type: 'prohibit' }, undefined, 'add')).hdr[7], 8);
  const local = wire(toRouteMessage({ to: '203.0.113.7', prefixLen: 32, family: 4, type: 'local', ifname: 'lo' }, 1, 'add'));
  t.deepEqual([local.hdr[6], local.hdr[7]], [254, 2]);
});

test('default route has no RTA_DST; IPv6 routes carry 16-byte addresses', (t) => {
  const d = wire(toRouteMessage({ to: '0.0.0.0', prefixLen: 0, family: 4, via: '192.0.2.1' }, undefined, 'add'));
  t.false(d.attrs.has(RTA_DST));
  t.is(d.hdr[1], 0);
  const v6 = wire(toRouteMessage({ to: '2001:db8:1::', prefixLen: 48, family: 6, via: 'fe80::1', ifname: 'eth0' }, 2, 'add'));
  t.is(v6.hdr[0], 10);
  t.is(v6.attrs.get(RTA_DST)?.length, 16);
  t.deepEqual(v6.attrs.get(RTA_GATEWAY), Buffer.from('fe800000000000000000000000000001', 'hex'));
});

test('bad route specs are refused before anything is sent', (t) => {
  const bad: Array<[RouteSpec, RegExp]> = [
    [{ to: '10.0.0.0', prefixLen: 33, family: 4 }, /prefix length 33/],
    [{ to: '10.0.0.0', prefixLen: 8, family: 4, type: 'wormhole' }, /route type "wormhole"/],
    [{ to: '10.0.0.0', prefixLen: 8, family: 4, via: '2001:db8::1' }, /gateway .* not IPv4/],
    [{ to: '10.0.0.0', prefixLen: 8, family: 4, table: 0 }, /table 0/],
    [{ to: '10.0.0.0', prefixLen: 8, family: 4, metric: -1 }, /metric -1/],
    [{ to: '10.0.0.0', prefixLen: 8, family: 4, scope: 'moon' }, /scope "moon"/],
    [{ to: 'ten', prefixLen: 8, family: 4 }, /destination "ten"/],
  ];
  for (const [r, re] of bad) {
    const e = t.throws(() => toRouteMessage(r, undefined, 'add'), { instanceOf: NetlinkError });
    t.is(e?.code, 'VIGIL_NL_INVALID_SPEC');
    t.regex(e?.message ?? '', re);
  }
});

test('describeRoute reads like ip route', (t) => {
  t.is(
    describeRoute({ to: '10.0.0.0', prefixLen: 8, family: 4, via: '192.0.2.1', ifname: 'eth0', table: 100, metric: 3 }),
    '10.0.0.0/8 via 192.0.2.1 dev eth0 table 100 metric 3',
  );
  t.is(describeRoute({ to: '10.0.0.0', prefixLen: 8, family: 4, type: 'blackhole' }), 'blackhole 10.0.0.0/8');
});
