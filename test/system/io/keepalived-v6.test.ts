/**
 * The IPv6 path against Debian's keepalived 2.2: what our socket delivers from keepalived's
 * VRRPv3 adverts (source, destination, hop limit) is exactly what the RFC 5798 §5.2.8
 * checksum needs; keepalived (which lets its kernel verify that checksum, IPV6_CHECKSUM 6)
 * accepts our adverts, sent with a checksum over our socket's `src`; and keepalived's own
 * unsolicited NA is byte-identical to the one our builder makes.
 */
import test from 'ava';
import { requireRoot, waitFor } from '../../helpers/netns.ts';
import { RouterDir, globalDefs, hasAddress, instanceBlock, outputOf, startKeepalived } from '../../helpers/routers.ts';
import { buildUnsolicitedNaFrame, ipv6Bytes } from '../../../src/vrrp/garp.ts';
import { readPcap } from './pcap.ts';
import { MAC_A, makePair, runFixture, startCapture } from './lab.ts';

const VIP = '2001:db8::64';
type Line = Record<string, unknown>;
const events = (out: Line[], e: string): Line[] => out.filter((l) => l['event'] === e);

/** RFC 5798 §5.2.8: one's complement of the sum over the RFC 8200 §8.1 pseudo-header and the message. */
function vrrpChecksum(src: string, dst: string, msg: Buffer): number {
  const pseudo = Buffer.alloc(40);
  ipv6Bytes(src).copy(pseudo, 0);
  ipv6Bytes(dst).copy(pseudo, 16);
  pseudo.writeUInt32BE(msg.length, 32);
  pseudo[39] = 112;
  let sum = 0;
  for (const b of [pseudo, msg]) for (let i = 0; i < b.length; i += 2) sum += b.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function conf(state: 'MASTER' | 'BACKUP', priority: number): string {
  return globalDefs('vio_ka') + instanceBlock({ state, priority, vip: `${VIP}/64`, advertInt: '0.1', version: 3 });
}

test.serial('keepalived MASTER → our IPv6 socket: hop limit 255, link-local source, checksum verifies; its NA equals ours', async (t) => {
  if (!requireRoot(t)) return t.pass();
  const pair = await makePair();
  const dir = new RouterDir();
  t.teardown(() => {
    pair.lab.removeAll();
    dir.remove();
  });
  const cap = await startCapture(pair, pair.b, ['icmp6', 'and', 'ip6[40]', '=', '136']);
  const rx = runFixture(pair, pair.b, 'vrrp-peer', { thread: 'worker', socket: { family: 6, ifname: 'eth0', group: 'ff02::12', unicast: false } });
  await waitFor('receiver ready', () => events(rx.out, 'ready').length > 0, 20_000);
  const ka = startKeepalived(pair.lab, pair.a, dir, 'ka', dir.file('ka.conf', conf('MASTER', 150)));
  await waitFor('keepalived to hold the VIP', () => hasAddress(pair.a, 'eth0', VIP), 20_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${outputOf(ka)}`);
  });
  await waitFor('5 adverts', () => events(rx.out, 'packet').length >= 5, 20_000);
  for (const p of events(rx.out, 'packet').slice(0, 5)) {
    t.like(p, { family: 6, src: pair.ll.a, dst: 'ff02::12', ttl: 255 });
    const msg = Buffer.from(p['payload'] as string, 'hex');
    t.is(msg[0], 0x31, 'VRRPv3 advertisement');
    t.is(msg[1], 51);
    t.is(vrrpChecksum(p['src'] as string, p['dst'] as string, msg), 0, 'checksum verifies over the delivered src/dst');
  }
  // keepalived sends its unsolicited NAs right after adding the VIP.
  await waitFor('keepalived’s NA', () => readPcap(cap.file).length > 0, 10_000).catch(() => undefined);
  await cap.stop();
  const nas = readPcap(cap.file).map((f) => f.data).filter((f) => f.subarray(62, 78).equals(ipv6Bytes(VIP)));
  t.true(nas.length > 0, 'keepalived sent an unsolicited NA for the VIP');
  const ours = buildUnsolicitedNaFrame(Buffer.from(MAC_A.replaceAll(':', ''), 'hex'), VIP);
  for (const f of nas) t.deepEqual(f.toString('hex'), ours.toString('hex'));
});

test.serial('our IPv6 adverts → keepalived BACKUP: it accepts them and stays BACKUP, and takes over when they stop', async (t) => {
  if (!requireRoot(t)) return t.pass();
  const pair = await makePair();
  const dir = new RouterDir();
  t.teardown(() => {
    pair.lab.removeAll();
    dir.remove();
  });
  // Our advert: VRRPv3, VRID 51, priority 150, 1 address, 10 cs, checksum over our link-local → ff02::12.
  const msg = Buffer.concat([Buffer.from([0x31, 51, 150, 1, 0x00, 0x0a, 0, 0]), ipv6Bytes(VIP)]);
  msg.writeUInt16BE(vrrpChecksum(pair.ll.b, 'ff02::12', msg), 6);
  const tx = runFixture(pair, pair.b, 'vrrp-peer', {
    thread: 'worker',
    socket: { family: 6, ifname: 'eth0', group: 'ff02::12', unicast: false, src: pair.ll.b },
    send: { dst: ['ff02::12'], payloadHex: msg.toString('hex'), count: 100_000, everyMs: 100 },
  });
  await waitFor('our adverts flowing', () => events(tx.out, 'sent').length >= 3, 20_000);
  t.is(events(tx.out, 'ready')[0]?.['src'], pair.ll.b);
  const ka = startKeepalived(pair.lab, pair.a, dir, 'ka', dir.file('ka.conf', conf('BACKUP', 100)));
  await waitFor('keepalived to enter BACKUP', () => /Entering BACKUP STATE/.test(outputOf(ka)), 20_000);
  // Master_Down_Interval at 100 ms adverts and priority 100 is 3×0.1 + 0.061 s; wait well over it.
  await new Promise((r) => setTimeout(r, 3000));
  t.false(hasAddress(pair.a, 'eth0', VIP), `keepalived took the VIP although we advertise:\n${outputOf(ka)}`);
  t.notRegex(outputOf(ka), /Entering MASTER STATE/);
  // Control: silence us, and keepalived must take over — so it was listening all along.
  tx.child.kill('SIGKILL');
  await waitFor('keepalived to take over once we stop', () => hasAddress(pair.a, 'eth0', VIP), 10_000);
  t.pass();
});
