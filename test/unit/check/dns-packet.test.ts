import test from 'ava';
import { decodeHeader, dnsTypeCode, encodeQuery, judgeResponse } from '../../../src/check/dns-packet.ts';

test('encodeQuery: header with RD, one question, labels, type and class IN', (t) => {
  const q = encodeQuery(0x1234, 'www.example.com', dnsTypeCode('aaaa')!);
  t.true(q.ok);
  if (!q.ok) return;
  t.deepEqual(
    [...q.value],
    [
      0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
      3, ...Buffer.from('www'), 7, ...Buffer.from('example'), 3, ...Buffer.from('com'), 0,
      0, 28, 0, 1,
    ],
  );
});

test('encodeQuery: the root name and a trailing dot', (t) => {
  const root = encodeQuery(1, '.', 2);
  t.true(root.ok && root.value.length === 12 + 1 + 4 && root.value[12] === 0);
  const dotted = encodeQuery(1, 'a.b.', 1);
  const plain = encodeQuery(1, 'a.b', 1);
  t.true(dotted.ok && plain.ok && dotted.value.equals(plain.value));
});

test('encodeQuery refuses bad names with a reason', (t) => {
  t.like(encodeQuery(1, 'a..b', 1), { ok: false, reason: 'name' });
  t.like(encodeQuery(1, `${'x'.repeat(64)}.com`, 1), { ok: false, reason: 'name' });
  t.like(encodeQuery(1, Array.from({ length: 130 }, () => 'a').join('.'), 1), { ok: false, reason: 'name' });
});

test('dnsTypeCode knows keepalived\'s types only', (t) => {
  t.is(dnsTypeCode('A'), 1);
  t.is(dnsTypeCode('dnskey'), 48);
  t.is(dnsTypeCode('SRV'), undefined);
});

test('judgeResponse: pass on NOERROR, fail on RCODE, ignore runts, other ids and queries', (t) => {
  const hdr = (id: number, flags: number): Buffer => {
    const b = Buffer.alloc(12);
    b.writeUInt16BE(id, 0);
    b.writeUInt16BE(flags, 2);
    return b;
  };
  t.deepEqual(judgeResponse(hdr(7, 0x8180), 7), { verdict: 'pass' });
  t.deepEqual(judgeResponse(hdr(7, 0x8183), 7), { verdict: 'fail', rcode: 3 });
  t.deepEqual(judgeResponse(hdr(8, 0x8180), 7), { verdict: 'ignore', reason: 'id' });
  t.deepEqual(judgeResponse(hdr(7, 0x0100), 7), { verdict: 'ignore', reason: 'not-response' });
  t.deepEqual(judgeResponse(Buffer.alloc(5), 7), { verdict: 'ignore', reason: 'short' });
  t.like(decodeHeader(new Uint8Array(3)), { ok: false, reason: 'short' });
});
