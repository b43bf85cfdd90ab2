/**
 * VRRP sockets on a real wire: two namespaces joined by a veth pair, a fixture in each
 * running openVrrpSocket inside a worker thread (as the VRRP worker does) or the main
 * thread, and tcpdump on the receiving side to see the headers the kernel wrote.
 */
import test from 'ava';
import { nsExec, requireRoot, waitFor } from '../../helpers/netns.ts';
import { readPcap } from './pcap.ts';
import { MAC_A, makePair, runFixture, startCapture, terminate, type Pair } from './lab.ts';

const V2_ADVERT = '213396010101da300ad300643131313100000000'; // vectors/vrrpv2_advert.hex, IP header stripped
const V3_ADVERT_6 = '3133960a0000000020010db8000000000000000000000064'; // a v3 advert for 2001:db8::64 (checksum left 0: the codec's job)

type Line = Record<string, unknown>;
const events = (out: Line[], e: string): Line[] => out.filter((l) => l['event'] === e);

async function withPair(t: { teardown(fn: () => void): void }): Promise<Pair> {
  const pair = await makePair();
  t.teardown(() => pair.lab.removeAll());
  return pair;
}

function ipv4Of(frame: Buffer): { tos: number; ttl: number; df: boolean; proto: number; src: string; dst: string; payload: Buffer } | undefined {
  if (frame.readUInt16BE(12) !== 0x0800) return undefined;
  const ip = frame.subarray(14);
  const hl = (ip[0]! & 0x0f) * 4;
  return {
    tos: ip[1]!,
    ttl: ip[8]!,
    df: (ip.readUInt16BE(6) & 0x4000) !== 0,
    proto: ip[9]!,
    src: [...ip.subarray(12, 16)].join('.'),
    dst: [...ip.subarray(16, 20)].join('.'),
    payload: ip.subarray(hl, ip.readUInt16BE(2)),
  };
}

for (const thread of ['worker', 'main'] as const) {
  test.serial(`IPv4 multicast (${thread} thread): TOS 0xc0, TTL 255, no DF, to 224.0.0.18, payload intact, no loopback`, async (t) => {
    if (!requireRoot(t)) return t.pass();
    const pair = await withPair(t);
    const cap = await startCapture(pair, pair.b, ['ip', 'proto', '112']);
    const sock = { family: 4, ifname: 'eth0', group: '224.0.0.18', unicast: false };
    const rx = runFixture(pair, pair.b, 'vrrp-peer', { thread, socket: sock });
    await waitFor('receiver ready', () => events(rx.out, 'ready').length > 0, 20_000);
    const tx = runFixture(pair, pair.a, 'vrrp-peer', {
      thread,
      socket: { ...sock, src: '10.211.0.1' },
      send: { dst: ['224.0.0.18'], payloadHex: V2_ADVERT, count: 3, everyMs: 50 },
    });
    await waitFor('3 packets received', () => events(rx.out, 'packet').length >= 3, 20_000);
    await cap.stop();
    t.deepEqual(events(tx.out, 'ready')[0]?.['src'], '10.211.0.1');
    for (const p of events(rx.out, 'packet')) {
      t.like(p, { family: 4, src: '10.211.0.1', dst: '224.0.0.18', ttl: 255, payload: V2_ADVERT });
    }
    t.deepEqual(events(tx.out, 'packet'), [], 'multicast loop is off: the sender does not hear itself');
    t.deepEqual([...events(rx.out, 'error'), ...events(tx.out, 'error')], [], rx.stderr() + tx.stderr());
    const frames = readPcap(cap.file);
    t.true(frames.length >= 3);
    for (const f of frames) {
      t.is(f.data.subarray(0, 6).toString('hex'), '01005e000012', 'multicast MAC of 224.0.0.18');
      t.is(f.data.subarray(6, 12).toString('hex'), MAC_A.replaceAll(':', ''));
      t.like(ipv4Of(f.data), { tos: 0xc0, ttl: 255, df: false, proto: 112, src: '10.211.0.1', dst: '224.0.0.18' });
      t.is(ipv4Of(f.data)?.payload.toString('hex'), V2_ADVERT);
    }
    // close() releases the raw socket.
    await Promise.all([terminate(tx.child), terminate(rx.child)]);
    for (const out of [tx.out, rx.out]) {
      const closed = events(out, 'closed')[0];
      t.truthy(closed, 'the fixture reported close');
      t.is(closed?.['before'], 1, 'the kernel lists our raw socket');
      t.is(closed?.['after'], 0, `close() released it: ${JSON.stringify(closed)}`);
      t.log(`raw socket released ${Math.round(closed?.['releasedMs'] as number)} ms after close()`);
    }
  });
}

test.serial('IPv4 unicast: from unicast_src_ip to the peer, TTL 255, only to the bound address', async (t) => {
  if (!requireRoot(t)) return t.pass();
  const pair = await withPair(t);
  const cap = await startCapture(pair, pair.b, ['ip', 'proto', '112']);
  const rx = runFixture(pair, pair.b, 'vrrp-peer', {
    thread: 'worker',
    socket: { family: 4, ifname: 'eth0', group: '224.0.0.18', unicast: true, src: '10.211.0.2' },
  });
  const mrx = runFixture(pair, pair.b, 'vrrp-peer', {
    thread: 'worker',
    socket: { family: 4, ifname: 'eth0', group: '224.0.0.18', unicast: false },
  });
  await waitFor('receivers ready', () => events(rx.out, 'ready').length > 0 && events(mrx.out, 'ready').length > 0, 20_000);
  const tx = runFixture(pair, pair.a, 'vrrp-peer', {
    thread: 'worker',
    socket: { family: 4, ifname: 'eth0', group: '224.0.0.18', unicast: true, src: '10.211.0.1' },
    send: { dst: ['10.211.0.2'], payloadHex: V2_ADVERT, count: 3, everyMs: 50 },
  });
  await waitFor('3 unicast packets received', () => events(rx.out, 'packet').length >= 3, 20_000);
  await cap.stop();
  for (const p of events(rx.out, 'packet')) t.like(p, { family: 4, src: '10.211.0.1', dst: '10.211.0.2', ttl: 255, payload: V2_ADVERT });
  t.deepEqual(events(mrx.out, 'packet'), [], 'a multicast socket (bound to the group) does not see unicast VRRP');
  t.deepEqual(events(tx.out, 'error'), [], tx.stderr());
  const frames = readPcap(cap.file);
  t.true(frames.length >= 3);
  for (const f of frames) t.like(ipv4Of(f.data), { tos: 0xc0, ttl: 255, df: false, src: '10.211.0.1', dst: '10.211.0.2' });
});

test.serial('IPv6 multicast: hop limit 255 delivered, from the link-local, traffic class 0xc0, bytes untouched', async (t) => {
  if (!requireRoot(t)) return t.pass();
  const pair = await withPair(t);
  const cap = await startCapture(pair, pair.b, ['ip6', 'proto', '112']);
  const sock = { family: 6, ifname: 'eth0', group: 'ff02::12', unicast: false };
  const rx = runFixture(pair, pair.b, 'vrrp-peer', { thread: 'worker', socket: sock });
  await waitFor('receiver ready', () => events(rx.out, 'ready').length > 0, 20_000);
  const tx = runFixture(pair, pair.a, 'vrrp-peer', {
    thread: 'worker',
    socket: sock,
    send: { dst: ['ff02::12'], payloadHex: V3_ADVERT_6, count: 3, everyMs: 50 },
  });
  await waitFor('3 packets received', () => events(rx.out, 'packet').length >= 3, 20_000);
  await cap.stop();
  t.is(events(tx.out, 'ready')[0]?.['src'], pair.ll.a, 'the default source is the link-local address');
  for (const p of events(rx.out, 'packet')) {
    t.like(p, { family: 6, src: pair.ll.a, dst: 'ff02::12', ttl: 255, payload: V3_ADVERT_6 });
  }
  t.deepEqual(events(tx.out, 'packet'), [], 'multicast loop is off');
  t.deepEqual([...events(rx.out, 'error'), ...events(tx.out, 'error')], [], rx.stderr() + tx.stderr());
  const frames = readPcap(cap.file);
  t.true(frames.length >= 3);
  for (const f of frames) {
    t.is(f.data.subarray(0, 6).toString('hex'), '333300000012', 'multicast MAC of ff02::12');
    t.is(f.data.readUInt16BE(12), 0x86dd);
    const ip = f.data.subarray(14);
    t.is((ip.readUInt32BE(0) >>> 20) & 0xff, 0xc0, 'traffic class 0xc0');
    t.is(ip[6], 112, 'next header VRRP (no extension headers)');
    t.is(ip[7], 255, 'hop limit 255');
    t.is(ip.subarray(40).toString('hex'), V3_ADVERT_6, 'the kernel did not rewrite the checksum field');
  }
});

test.serial('IPv6 unicast to a link-local peer', async (t) => {
  if (!requireRoot(t)) return t.pass();
  const pair = await withPair(t);
  const rx = runFixture(pair, pair.b, 'vrrp-peer', {
    thread: 'worker',
    socket: { family: 6, ifname: 'eth0', group: 'ff02::12', unicast: true, src: pair.ll.b },
  });
  await waitFor('receiver ready', () => events(rx.out, 'ready').length > 0, 20_000);
  runFixture(pair, pair.a, 'vrrp-peer', {
    thread: 'worker',
    socket: { family: 6, ifname: 'eth0', group: 'ff02::12', unicast: true, src: pair.ll.a },
    send: { dst: [pair.ll.b], payloadHex: V3_ADVERT_6, count: 2, everyMs: 50 },
  });
  await waitFor('2 packets received', () => events(rx.out, 'packet').length >= 2, 20_000);
  for (const p of events(rx.out, 'packet')) t.like(p, { family: 6, src: pair.ll.a, dst: pair.ll.b, ttl: 255, payload: V3_ADVERT_6 });
});

test.serial('hostile datagrams: the receiver keeps running, delivers or counts each, and still hears a good one after', async (t) => {
  if (!requireRoot(t)) return t.pass();
  const pair = await withPair(t);
  const rx = runFixture(pair, pair.b, 'vrrp-peer', {
    thread: 'worker',
    socket: { family: 4, ifname: 'eth0', group: '224.0.0.18', unicast: false },
  });
  await waitFor('receiver ready', () => events(rx.out, 'ready').length > 0, 20_000);
  const hostile = runFixture(pair, pair.a, 'hostile-send', { count: 3000, dst: '224.0.0.18', src: '10.211.0.1', marker: 'cafef00d' });
  await waitFor('the hostile sender to finish', () => events(hostile.out, 'done').length > 0, 60_000);
  await waitFor('the marker after the flood', () => events(rx.out, 'packet').some((p) => p['payload'] === 'cafef00d'), 20_000);
  t.is(rx.child.exitCode, null, 'the receiver is still running');
  t.deepEqual(events(rx.out, 'error'), [], rx.stderr());
  const done = events(hostile.out, 'done')[0];
  const sent = (done?.['sent'] as number) + 1; // + the marker
  t.is(done?.['failed'], 0);
  // What the kernel dropped because the socket buffer was full (the drops column of
  // /proc/net/raw): a flood may overrun the receiver; nothing may vanish without a count.
  const kernelDrops = nsExec(pair.b, ['cat', '/proc/net/raw'])
    .split('\n')
    .filter((l) => /^\s*\d+: [0-9A-F]+:0070 /.test(l))
    .reduce((n, l) => n + Number(l.trim().split(/\s+/).at(-1)), 0);
  const delivered = events(rx.out, 'packet').length;
  const counted = events(rx.out, 'drop').length;
  t.log(`sent ${sent}: delivered ${delivered}, dropped with a reason ${counted}, dropped by the kernel (buffer full) ${kernelDrops}`);
  t.is(delivered + counted + kernelDrops, sent, 'every datagram is delivered or counted');
  const withOptions = events(rx.out, 'packet').filter((p) => typeof p['payload'] === 'string' && (p['payload'] as string).startsWith('0badc0de'));
  t.true(withOptions.length > 0, 'datagrams with IP options (IHL > 5) are delivered with the options stripped');
});

test.serial('the receiver reports the TTL and hop limit it really got; error paths carry stable codes', async (t) => {
  if (!requireRoot(t)) return t.pass();
  const pair = await withPair(t);
  const rx4 = runFixture(pair, pair.b, 'vrrp-peer', { thread: 'worker', socket: { family: 4, ifname: 'eth0', group: '224.0.0.18', unicast: false } });
  const rx6 = runFixture(pair, pair.b, 'vrrp-peer', { thread: 'worker', socket: { family: 6, ifname: 'eth0', group: 'ff02::12', unicast: false } });
  await waitFor('receivers ready', () => events(rx4.out, 'ready').length > 0 && events(rx6.out, 'ready').length > 0, 20_000);
  const odd = runFixture(pair, pair.a, 'odd-sender', { ttl4: 7, hops6: 9, payloadHex: 'deadbeef' });
  await waitFor('both odd packets', () => events(rx4.out, 'packet').length > 0 && events(rx6.out, 'packet').length > 0, 20_000);
  t.like(events(rx4.out, 'packet')[0], { family: 4, src: '10.211.0.1', ttl: 7, payload: 'deadbeef' });
  t.like(events(rx6.out, 'packet')[0], { family: 6, src: pair.ll.a, dst: 'ff02::12', ttl: 9, payload: 'deadbeef' });
  await waitFor('the error paths', () => events(odd.out, 'done').length > 0, 20_000);
  t.deepEqual(events(odd.out, 'done')[0]?.['errors'], {
    noInterface: 'VIGIL_SOCK_ARG',
    badGroup: 'VIGIL_SOCK_ARG',
    badSrc: 'VIGIL_SOCK_ARG',
    foreignUnicastSrc: 'VIGIL_SOCK_OPEN',
    foreignUnicastSrcErrno: 'EADDRNOTAVAIL',
    sendBadDst: 'VIGIL_SOCK_ARG',
    sendAfterClose: 'VIGIL_SOCK_SEND',
  }, odd.stderr());
});
