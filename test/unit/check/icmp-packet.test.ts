import test from 'ava';
import { decodeAnswer, encodeEcho, inetChecksum } from '../../../src/check/icmp-packet.ts';

test('an IPv4 echo request checksums to zero over itself; ICMPv6 leaves the checksum to the kernel', (t) => {
  const p = encodeEcho(4, 0x1234, 7);
  t.is(p[0], 8);
  t.is(p.readUInt16BE(4), 0x1234);
  t.is(p.readUInt16BE(6), 7);
  t.is(inetChecksum(p), 0);
  const p6 = encodeEcho(6, 0x1234, 7);
  t.is(p6[0], 128);
  t.is(p6.readUInt16BE(2), 0);
});

/** An IPv4 header of `ihl` words around an ICMP message. */
function ip4(icmp: Uint8Array, ihl = 5): Buffer {
  const h = Buffer.alloc(ihl * 4);
  h[0] = 0x40 | ihl;
  return Buffer.concat([h, icmp]);
}

test('an IPv4 echo reply is found behind the IP header, options included; other ICMP is not an answer', (t) => {
  const reply = Buffer.from(encodeEcho(4, 0xbeef, 9));
  reply[0] = 0;
  t.deepEqual(decodeAnswer(4, ip4(reply)), { kind: 'reply', id: 0xbeef, seq: 9 });
  t.deepEqual(decodeAnswer(4, ip4(reply, 6)), { kind: 'reply', id: 0xbeef, seq: 9 });
  t.is(decodeAnswer(4, ip4(encodeEcho(4, 1, 1))), undefined, 'a request (ours, looped back) is no answer');
  t.is(decodeAnswer(4, Buffer.alloc(10)), undefined);
});

test('a destination unreachable answers the echo it quotes (v4 and v6)', (t) => {
  const quoted4 = ip4(encodeEcho(4, 0xabcd, 3));
  const unreach4 = Buffer.concat([Buffer.from([3, 1, 0, 0, 0, 0, 0, 0]), quoted4]);
  t.deepEqual(decodeAnswer(4, ip4(unreach4)), { kind: 'unreachable', id: 0xabcd, seq: 3, code: 1 });
  const quoted6 = Buffer.concat([Buffer.alloc(40), encodeEcho(6, 0xabcd, 4)]);
  const unreach6 = Buffer.concat([Buffer.from([1, 3, 0, 0, 0, 0, 0, 0]), quoted6]);
  t.deepEqual(decodeAnswer(6, unreach6), { kind: 'unreachable', id: 0xabcd, seq: 4, code: 3 });
  const reply6 = Buffer.from(encodeEcho(6, 5, 6));
  reply6[0] = 129;
  t.deepEqual(decodeAnswer(6, reply6), { kind: 'reply', id: 5, seq: 6 });
});
