import test from 'ava';
import { readFileSync } from 'node:fs';
import { ipv6PseudoHeader, internetChecksum, onesComplementSum, vrrpChecksum } from '../../../src/vrrp/checksum.ts';
import {
  DROP_REASONS,
  decodeAdvert,
  decodeIpv4Packet,
  encodeAdvert,
  sameAdvert,
  sameBytes,
  type Advert,
  type DecodeCtx,
  type Decoded,
} from '../../../src/vrrp/packet.ts';

const VECTORS = '/work/shared/vectors';

interface VectorJson {
  ip_src: string;
  ip_dst: string;
  ip_ttl: number;
  vrrp: {
    version: 2 | 3;
    vrid: number;
    priority: number;
    count_ip: number;
    ips: string[];
    checksum: string;
    adver_int_s?: number;
    adver_int_cs?: number;
    auth_type?: number;
    auth_data?: string;
  };
}

function vector(name: string): { packet: Buffer; json: VectorJson } {
  const hex = readFileSync(`${VECTORS}/${name}.hex`, 'utf8').trim();
  const json = JSON.parse(readFileSync(`${VECTORS}/${name}.json`, 'utf8')) as VectorJson;
  return { packet: Buffer.from(hex, 'hex'), json };
}

function ok<T>(t: { fail(m: string): void }, d: Decoded<T>): T {
  if (!d.ok) {
    t.fail(`${d.reason}: ${d.detail}`);
    throw new Error('unreachable');
  }
  return d.value;
}

const GOLDEN = ['vrrpv2_advert', 'vrrpv2_advert_prio0', 'vrrpv3_advert', 'vrrpv3_advert_prio0'] as const;

for (const name of GOLDEN) {
  test(`golden ${name}: decodes to the captured fields and re-encodes byte for byte`, (t) => {
    const { packet, json } = vector(name);
    const ip = ok(t, decodeIpv4Packet(packet));
    t.is(ip.src, json.ip_src);
    t.is(ip.dst, json.ip_dst);
    t.is(ip.ttl, 255);
    const v = json.vrrp;
    const expect =
      v.version === 2
        ? { vrid: 51, version: 2 as const, authType: 1 as const, authPass: '1111', advertIntMs: 1000, addresses: ['10.211.0.100'] }
        : { vrid: 51, version: 3 as const, addresses: ['10.211.0.100'] };
    const advert = ok(t, decodeAdvert(ip.payload, { family: 4, src: ip.src, dst: ip.dst, ttlOrHopLimit: ip.ttl, unicast: false, expect }));
    t.is(advert.version, v.version);
    t.is(advert.vrid, v.vrid);
    t.is(advert.priority, v.priority);
    t.deepEqual(advert.addresses, v.ips);
    if (v.version === 2) {
      t.is(advert.advertIntMs, (v.adver_int_s ?? 0) * 1000);
      t.is(advert.authType, 1);
      t.is(advert.authData, '1111');
    } else {
      t.is(advert.advertIntMs, (v.adver_int_cs ?? 0) * 10);
      t.is(advert.authType, 0);
      t.is(advert.authData, undefined);
    }
    const again = encodeAdvert(advert, { family: 4, src: ip.src, dst: ip.dst });
    t.is(again.toString('hex'), ip.payload.toString('hex'));
    t.is(`0x${again.readUInt16BE(6).toString(16)}`, v.checksum);
  });
}

test('v3 IPv4 checksum needs the pseudo-header: the captured packet fails without it', (t) => {
  const { packet } = vector('vrrpv3_advert');
  const payload = packet.subarray(20);
  t.not(vrrpChecksum(payload), payload.readUInt16BE(6));
});

test('RFC 1071 checksum: the RFC §3 example sums to 0xddf2, and odd lengths pad with zero', (t) => {
  // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (one's complement).
  t.is(onesComplementSum(Buffer.from('0001f203f4f5f6f7', 'hex')), 0xddf2);
  t.is(internetChecksum(Buffer.from('0001f203f4f5f6f7', 'hex')), 0x220d);
  t.is(onesComplementSum(Buffer.from('01', 'hex')), 0x0100);
});

/*
 * IPv6 VRRPv3 vector, computed by hand (RFC 5798 §5.2.8 + RFC 2460 §8.1 pseudo-header):
 *   src fe80::1, dst ff02::12, VRID 51, prio 100, 1 address 2001:db8::100, advert 100 cs
 *   VRRP message (24 bytes): 31 33 64 01 | 00 64 | cksum | 2001 0db8 0000 … 0100
 *   pseudo-header: fe80 0000 … 0001 | ff02 0000 … 0012 | 0000 0018 | 0000 0070
 * 16-bit words summed:
 *   pseudo: fe80 + 0001 + ff02 + 0012 + 0018 + 0070        = 0x1fe1d
 *   message: 3133 + 6401 + 0064 + 2001 + 0db8 + 0100       = 0x0c451  (checksum word as 0)
 *   total 0x1fe1d + 0x0c451 = 0x2c26e → fold: 0xc26e + 0x2 = 0xc270 → complement 0x3d8f
 */
test('IPv6 v3 checksum matches the hand-computed RFC 2460 pseudo-header vector', (t) => {
  const advert: Advert = { version: 3, vrid: 51, priority: 100, advertIntMs: 1000, addresses: ['2001:db8::100'], authType: 0 };
  const ctx = { family: 6 as const, src: 'fe80::1', dst: 'ff02::12' };
  const buf = encodeAdvert(advert, ctx);
  t.is(buf.length, 24);
  t.is(buf.toString('hex'), '31336401' + '0064' + '3d8f' + '20010db8000000000000000000000100');
  const pseudo = ipv6PseudoHeader(Buffer.from('fe800000000000000000000000000001', 'hex'), Buffer.from('ff020000000000000000000000000012', 'hex'), 24);
  t.is(pseudo.toString('hex'), 'fe800000000000000000000000000001' + 'ff020000000000000000000000000012' + '00000018' + '00000070');
  const back = ok(t, decodeAdvert(buf, { ...ctx, ttlOrHopLimit: 255, expect: { vrid: 51, version: 3, addresses: ['2001:db8::100'] } }));
  t.deepEqual(back, advert);
  // The same bytes from another source fail: the pseudo-header is part of the sum.
  const other = decodeAdvert(buf, { ...ctx, src: 'fe80::2', ttlOrHopLimit: 255 });
  t.like(other, { ok: false, reason: 'checksum' });
});

test('v2 over IPv6 is refused: encode throws a coded error, decode drops with "version"', (t) => {
  const err = t.throws(() =>
    encodeAdvert({ version: 2, vrid: 1, priority: 100, advertIntMs: 1000, addresses: ['2001:db8::1'], authType: 0 }, { family: 6, src: 'fe80::1', dst: 'ff02::12' }),
  );
  t.is((err as { code?: string }).code, 'VRRP_ENCODE_INVALID');
  const v2 = vector('vrrpv2_advert').packet.subarray(20);
  t.like(decodeAdvert(v2, { family: 6, src: 'fe80::1', dst: 'ff02::12', ttlOrHopLimit: 255 }), { ok: false, reason: 'version' });
});

// ---- hostile input ---------------------------------------------------------------------

const v2 = vector('vrrpv2_advert');
const v3 = vector('vrrpv3_advert');
const v2ctx: DecodeCtx = {
  family: 4,
  src: '10.211.0.1',
  dst: '224.0.0.18',
  ttlOrHopLimit: 255,
  unicast: false,
  expect: { vrid: 51, version: 2, authType: 1, authPass: '1111', advertIntMs: 1000, addresses: ['10.211.0.100'] },
};
const v3ctx: DecodeCtx = { family: 4, src: '10.211.0.1', dst: '224.0.0.18', ttlOrHopLimit: 255, unicast: false, expect: { vrid: 51, version: 3, addresses: ['10.211.0.100'] } };

/** Rewrite the VRRP checksum after a mutation, so the check under test is the one that fires. */
function refix(payload: Buffer, version: 2 | 3): Buffer {
  const b = Buffer.from(payload);
  const pseudo =
    version === 3
      ? Buffer.concat([Buffer.from([10, 211, 0, 1, 224, 0, 0, 18, 0, 112]), Buffer.from([b.length >> 8, b.length & 0xff])])
      : undefined;
  b.writeUInt16BE(vrrpChecksum(b, pseudo), 6);
  return b;
}

/** Rewrite the IPv4 header checksum. */
function refixIp(packet: Buffer): Buffer {
  const b = Buffer.from(packet);
  b.writeUInt16BE(0, 10);
  b.writeUInt16BE(internetChecksum(b.subarray(0, ((b[0] as number) & 0xf) * 4)), 10);
  return b;
}

function reason<T>(d: Decoded<T>): string {
  return d.ok ? 'ok' : d.reason;
}

test('IPv4 layer: each defect is a named reason', (t) => {
  const p = v2.packet;
  t.is(reason(decodeIpv4Packet(p.subarray(0, 19))), 'too-short');
  t.is(reason(decodeIpv4Packet(Buffer.alloc(0))), 'too-short');
  const ver6 = Buffer.from(p);
  ver6[0] = 0x65;
  t.is(reason(decodeIpv4Packet(ver6)), 'ip-header');
  const ihl15 = Buffer.from(p);
  ihl15[0] = 0x4f; // 60-byte header in a 40-byte packet
  t.is(reason(decodeIpv4Packet(ihl15)), 'ip-header');
  const ihl4 = Buffer.from(p);
  ihl4[0] = 0x44;
  t.is(reason(decodeIpv4Packet(ihl4)), 'ip-header');
  const huge = Buffer.from(p);
  huge.writeUInt16BE(0xffff, 2);
  t.is(reason(decodeIpv4Packet(refixIp(huge))), 'length');
  t.is(reason(decodeIpv4Packet(p.subarray(0, 39))), 'length');
  const small = Buffer.from(p);
  small.writeUInt16BE(10, 2);
  t.is(reason(decodeIpv4Packet(refixIp(small))), 'ip-header');
  const badsum = Buffer.from(p);
  badsum[10] = (badsum[10] as number) ^ 0xff;
  t.is(reason(decodeIpv4Packet(badsum)), 'ip-checksum');
  const frag = Buffer.from(p);
  frag.writeUInt16BE(0x2000, 6);
  t.is(reason(decodeIpv4Packet(refixIp(frag))), 'fragment');
  const ah = Buffer.from(p);
  ah[9] = 51;
  const ahd = decodeIpv4Packet(refixIp(ah));
  t.is(reason(ahd), 'protocol');
  t.regex(ahd.ok ? '' : ahd.detail, /AH/);
  const ttl = Buffer.from(p);
  ttl[8] = 64;
  t.is(reason(decodeIpv4Packet(refixIp(ttl))), 'ttl');
  t.is(reason(decodeIpv4Packet(refixIp(ttl), { checkTtl: false })), 'ok');
});

test('VRRP layer: each defect is a named reason', (t) => {
  const p2 = v2.packet.subarray(20);
  const p3 = v3.packet.subarray(20);
  t.is(reason(decodeAdvert(p2, v2ctx)), 'ok');
  t.is(reason(decodeAdvert(p3, v3ctx)), 'ok');
  t.is(reason(decodeAdvert(p2.subarray(0, 7), v2ctx)), 'too-short');
  t.is(reason(decodeAdvert(p2.subarray(0, 19), v2ctx)), 'length');
  t.is(reason(decodeAdvert(Buffer.concat([p2, Buffer.alloc(4)]), v2ctx)), 'length');

  const mut = (base: Buffer, version: 2 | 3, f: (b: Buffer) => void, fix = true): Buffer => {
    const b = Buffer.from(base);
    f(b);
    return fix ? refix(b, version) : b;
  };
  // The address count lies: says 2 (or 255) where 1 is present.
  t.is(reason(decodeAdvert(mut(p2, 2, (b) => (b[3] = 2)), v2ctx)), 'length');
  t.is(reason(decodeAdvert(mut(p3, 3, (b) => (b[3] = 255)), v3ctx)), 'length');
  // Wrong checksum.
  t.is(reason(decodeAdvert(mut(p2, 2, (b) => (b[7] = (b[7] as number) ^ 1), false), v2ctx)), 'checksum');
  t.is(reason(decodeAdvert(mut(p3, 3, (b) => (b[2] = 200), false), v3ctx)), 'checksum');
  // v3 checksum computed against another destination (pseudo-header) fails.
  t.is(reason(decodeAdvert(p3, { family: 4, src: '10.211.0.1', dst: '224.0.0.19', ttlOrHopLimit: 255 })), 'checksum');
  t.is(reason(decodeAdvert(mut(p2, 2, (b) => (b[0] = 0x41)), v2ctx)), 'version');
  t.is(reason(decodeAdvert(mut(p2, 2, (b) => (b[0] = 0x22)), v2ctx)), 'type');
  t.is(reason(decodeAdvert(p2, { ...v2ctx, ttlOrHopLimit: 254 })), 'ttl');
  t.is(reason(decodeAdvert(p2, { ...v2ctx, ttlOrHopLimit: 64, unicast: true })), 'cast'); // TTL not checked for unicast (keepalived); multicast dst is
  t.is(reason(decodeAdvert(mut(p2, 2, (b) => (b[1] = 0)), v2ctx)), 'vrid');
  t.is(reason(decodeAdvert(mut(p2, 2, (b) => (b[1] = 52)), v2ctx)), 'vrid');
  t.is(reason(decodeAdvert(p2, { ...v2ctx, expect: { ...v2ctx.expect!, version: 3 } })), 'version');
  t.is(reason(decodeAdvert(mut(p2, 2, (b) => (b[4] = 7)), v2ctx)), 'auth-type');
  t.is(reason(decodeAdvert(mut(p2, 2, (b) => (b[4] = 0)), v2ctx)), 'auth-type');
  t.is(reason(decodeAdvert(mut(p2, 2, (b) => (b[4] = 2)), v2ctx)), 'auth-type');
  t.is(reason(decodeAdvert(p2, { ...v2ctx, expect: { ...v2ctx.expect!, authPass: '1112' } })), 'auth');
  t.is(reason(decodeAdvert(p2, { ...v2ctx, expect: { ...v2ctx.expect!, authPass: '11111' } })), 'auth');
  t.is(reason(decodeAdvert(mut(p2, 2, (b) => (b[5] = 2)), v2ctx)), 'advert-int');
  t.is(reason(decodeAdvert(mut(p2, 2, (b) => (b[5] = 0)), v2ctx)), 'advert-int');
  t.is(reason(decodeAdvert(mut(p3, 3, (b) => b.writeUInt16BE(0xf000, 4)), v3ctx)), 'advert-int');
  // v3: the advertised interval is learned, not checked; the reserved bits are ignored.
  const rsvd = decodeAdvert(mut(p3, 3, (b) => b.writeUInt16BE(0xf014, 4)), v3ctx);
  t.like(rsvd, { ok: true, value: { advertIntMs: 200 } });
  t.is(reason(decodeAdvert(p2, { ...v2ctx, expect: { ...v2ctx.expect!, addresses: ['10.211.0.100', '10.211.0.101'] } })), 'addr-count');
  t.is(reason(decodeAdvert(p2, { ...v2ctx, expect: { ...v2ctx.expect!, addresses: ['10.211.0.101'] } })), 'addr-list');
  t.is(reason(decodeAdvert(p3, { ...v3ctx, family: 6 })), 'family');
  t.is(reason(decodeAdvert(p3, { ...v3ctx, src: 'not-an-address' })), 'family');
  t.is(reason(decodeAdvert(p3, { ...v3ctx, family: 5 as unknown as 4 })), 'family');
});

test('v2 multicast instance receiving a unicast-addressed advert drops it as "cast"', (t) => {
  // v2 has no pseudo-header, so the destination does not change the checksum.
  t.is(reason(decodeAdvert(v2.packet.subarray(20), { ...v2ctx, dst: '10.211.0.2' })), 'cast');
  t.is(reason(decodeAdvert(v2.packet.subarray(20), { ...v2ctx, dst: '10.211.0.2', unicast: true })), 'ok');
});

test('every reason returned is listed in DROP_REASONS (metric labels)', (t) => {
  t.true(DROP_REASONS.includes('checksum'));
  t.is(new Set(DROP_REASONS).size, DROP_REASONS.length);
});

/** xorshift32: a seeded generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

test('fuzz: 20 000 mutated vectors and random buffers never throw, and every failure names a listed reason', (t) => {
  const seed = 0x5eed1234;
  const next = rng(seed);
  const bases = GOLDEN.map((n) => vector(n).packet);
  const seen = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    let buf: Buffer;
    const mode = next() % 4;
    const base = bases[next() % bases.length] as Buffer;
    if (mode === 0) {
      buf = Buffer.alloc(next() % 80);
      for (let j = 0; j < buf.length; j++) buf[j] = next() & 0xff;
    } else {
      buf = Buffer.from(base);
      const flips = 1 + (next() % 4);
      for (let f = 0; f < flips; f++) buf[next() % buf.length] = next() & 0xff;
      if (mode === 2) buf = buf.subarray(0, next() % (buf.length + 1));
      if (mode === 3) buf = Buffer.concat([buf, Buffer.alloc(next() % 40, next() & 0xff)]);
    }
    let r1: Decoded<{ src: string; dst: string; ttl: number; payload: Buffer }>;
    try {
      r1 = decodeIpv4Packet(buf);
    } catch (e) {
      t.fail(`decodeIpv4Packet threw on ${buf.toString('hex')} (seed ${seed}, i ${i}): ${String(e)}`);
      return;
    }
    const payload = r1.ok ? r1.value.payload : buf.subarray(Math.min(20, buf.length));
    for (const ctx of [v2ctx, v3ctx, { ...v3ctx, family: 6 as const, src: 'fe80::1', dst: 'ff02::12', expect: { vrid: 51, version: 3 as const } }]) {
      let r2: Decoded<Advert>;
      try {
        r2 = decodeAdvert(payload, ctx);
      } catch (e) {
        t.fail(`decodeAdvert threw on ${payload.toString('hex')} (seed ${seed}, i ${i}): ${String(e)}`);
        return;
      }
      const key = r2.ok ? 'ok' : r2.reason;
      if (!r2.ok) t.true((DROP_REASONS as readonly string[]).includes(r2.reason));
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    if (!r1.ok) seen.set(`ip:${r1.reason}`, (seen.get(`ip:${r1.reason}`) ?? 0) + 1);
  }
  // The loop exercised many distinct paths, not one early exit.
  t.true(seen.size >= 8, JSON.stringify([...seen]));
});

test('sameAdvert: equal fields (addresses compared by value) are the same advert; any field differing is not', (t) => {
  const a: Advert = { version: 3, vrid: 7, priority: 100, advertIntMs: 1000, addresses: ['10.0.0.1', '10.0.0.2'], authType: 0 };
  t.true(sameAdvert(a, a));
  t.true(sameAdvert(a, { ...a, addresses: ['10.0.0.1', '10.0.0.2'] }));
  for (const b of [
    { ...a, priority: 101 },
    { ...a, vrid: 8 },
    { ...a, version: 2 as const },
    { ...a, advertIntMs: 100 },
    { ...a, addresses: ['10.0.0.2', '10.0.0.1'] },
    { ...a, addresses: ['10.0.0.1'] },
    { ...a, authType: 1 as const, authData: 'secret' },
  ]) {
    t.false(sameAdvert(a, b), JSON.stringify(b));
  }
  t.false(sameAdvert({ ...a, version: 2, authType: 1, authData: 'one' }, { ...a, version: 2, authType: 1, authData: 'two' }));
});

test('sameBytes: equal bytes only, wherever they differ, and never across lengths', (t) => {
  const a = Buffer.from('31313131000000', 'hex');
  t.true(sameBytes(a, Buffer.from(a)));
  t.true(sameBytes(new Uint8Array(0), new Uint8Array(0)));
  for (let i = 0; i < a.length; i++) {
    const b = Buffer.from(a);
    b[i]! ^= 0x80;
    t.false(sameBytes(a, b), `byte ${i}`);
  }
  t.false(sameBytes(a, a.subarray(0, 6)));
});
