/**
 * AH (auth_type AH) against adverts captured from keepalived 2.2.7
 * (test/fixtures/vrrp-ah/README.md says how): verify, decode, and re-encode byte for byte;
 * wrong keys, altered bytes and malformed AH headers give a reason, never a throw.
 */
import test from 'ava';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AhSequence, ahKey, encodeAhPacket, verifyAhPacket } from '../../../src/vrrp/ah.ts';
import { decodeAdvert, encodeAdvert, type Decoded } from '../../../src/vrrp/packet.ts';

const fixture = (name: string): Buffer =>
  Buffer.from(readFileSync(new URL(`../../fixtures/vrrp-ah/${name}.hex`, import.meta.url), 'utf8').trim(), 'hex');
const MULTICAST = fixture('keepalived-ah-multicast');
const UNICAST = fixture('keepalived-ah-unicast');
const KEY = ahKey('secret12');

function reason<T>(d: Decoded<T>): string {
  return d.ok ? 'ok' : d.reason;
}

for (const [name, pkt, dst, unicast] of [
  ['multicast', MULTICAST, '224.0.0.18', false],
  ['unicast', UNICAST, '10.51.0.2', true],
] as const) {
  test(`keepalived's ${name} AH advert verifies, decodes and re-encodes byte for byte`, (t) => {
    const v = verifyAhPacket(pkt, KEY, unicast);
    if (!v.ok) return t.fail(`${v.reason}: ${v.detail}`);
    t.is(v.value.seq, 1);
    const a = decodeAdvert(v.value.vrrp, {
      family: 4,
      src: '10.51.0.1',
      dst,
      ttlOrHopLimit: 255,
      unicast,
      expect: { vrid: 51, version: 2, authType: 2, advertIntMs: 1000, addresses: ['10.51.0.100'] },
    });
    if (!a.ok) return t.fail(`${a.reason}: ${a.detail}`);
    t.like(a.value, { version: 2, vrid: 51, priority: 150, advertIntMs: 1000, authType: 2 });
    t.deepEqual(a.value.addresses, ['10.51.0.100']);

    // vigil's own encoding of the same advert: the VRRP message, then the whole IPv4 packet.
    const vrrp = encodeAdvert(a.value, { family: 4, src: '10.51.0.1', dst });
    t.deepEqual(vrrp, v.value.vrrp);
    const mine = encodeAhPacket(vrrp, { src: '10.51.0.1', dst, id: 1, seq: 1, key: KEY, unicast });
    t.is(mine.toString('hex'), pkt.toString('hex'));
  });
}

test('a wrong key, or a TTL rule of the other mode, fails the ICV', (t) => {
  t.is(reason(verifyAhPacket(MULTICAST, ahKey('secret13'), false)), 'auth');
  t.is(reason(verifyAhPacket(MULTICAST, ahKey(''), false)), 'auth');
  // keepalived covers a multicast advert's TTL and zeroes a unicast one's
  t.is(reason(verifyAhPacket(MULTICAST, KEY, true)), 'auth');
  t.is(reason(verifyAhPacket(UNICAST, KEY, false)), 'auth');
  // a short password is the same key as its zero padding (HMAC pads keys with zeros)
  const short = encodeAhPacket(MULTICAST.subarray(44), { src: '10.51.0.1', dst: '224.0.0.18', id: 9, seq: 5, key: ahKey('abc'), unicast: false });
  t.is(reason(verifyAhPacket(short, Buffer.from('abc'), false)), 'ok');
});

test('every covered byte is authenticated; the mutable ones (TOS, fragment, checksum) are not', (t) => {
  const mutable = new Set([1, 6, 7, 10, 11]);
  for (let i = 0; i < MULTICAST.length; i++) {
    const p = Buffer.from(MULTICAST);
    p[i] = (p[i] ?? 0) ^ 0x01;
    const r = reason(verifyAhPacket(p, KEY, false));
    if (mutable.has(i)) t.is(r, 'ok', `byte ${i}`);
    else if (i === 20 || i === 21) t.is(r, 'ah-header', `byte ${i}`);
    else if (i === 9) t.is(r, 'protocol', `byte ${i}`);
    else if (i === 0) t.is(r, 'ip-header', `byte ${i}`); // IHL 4 words
    else t.is(r, 'auth', `byte ${i}`);
  }
});

test('SPI must be the source address (keepalived), even under a valid ICV', (t) => {
  // someone with the key signs an advert whose SPI is another router's address
  const p = encodeAhPacket(MULTICAST.subarray(44), { src: '10.51.0.9', dst: '224.0.0.18', id: 1, seq: 1, key: KEY, unicast: false });
  t.is(reason(verifyAhPacket(p, KEY, false)), 'ok');
  Buffer.from([10, 51, 0, 1]).copy(p, 24);
  const h = Buffer.from(p);
  h[1] = 0;
  h.fill(0, 6, 8);
  h.fill(0, 10, 12);
  h.fill(0, 32, 44);
  createHmac('md5', KEY).update(h).digest().copy(p, 32, 0, 12);
  t.is(reason(verifyAhPacket(p, KEY, false)), 'auth');
});

test('truncated and random packets give a reason, never a throw', (t) => {
  for (let n = 0; n < MULTICAST.length; n++) t.not(reason(verifyAhPacket(MULTICAST.subarray(0, n), KEY, false)), 'ok', `length ${n}`);
  let seed = 11;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 2000; i++) {
    const buf = Buffer.from(MULTICAST);
    for (let k = 0; k < 4; k++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
    if (rnd() < 0.3) buf[0] = 0x40 | Math.floor(rnd() * 16);
    t.notThrows(() => verifyAhPacket(buf.subarray(0, Math.floor(rnd() * buf.length) + 1), KEY, false));
  }
});

test("AhSequence: keepalived's single counter, sent and received", (t) => {
  const s = new AhSequence();
  t.is(s.next(), 1);
  t.is(s.next(), 2);
  t.false(s.accept(2), 'not above the counter: a replay');
  t.true(s.accept(40));
  t.false(s.accept(40));
  t.is(s.next(), 41, 'a backup that takes over continues above its master');
  s.syncPast(100);
  t.is(s.next(), 102, 'a master moves past a lower priority');
  s.becomeMaster();
  t.is(s.next(), 103, 'becoming master restarts only a counter that ran out');
  t.true(s.accept(0xfffffffe));
  t.is(s.next(), 0xfffffffe, 'the counter stops at its end');
  s.becomeMaster();
  t.is(s.next(), 1);
});
