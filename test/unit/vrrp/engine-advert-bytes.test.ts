/**
 * The engine encodes an advert once and sends the same bytes every interval until
 * something in it changes: the priority (tracking), the VIPs or interval (reload), or the
 * destination (unicast peers each get their own, the v3 checksum covers the destination).
 * Every buffer sent must decode as what the router meant.
 */
import test from 'ava';
import { IPC_VERSION, type VrrpInstanceSpec } from '../../../src/ipc/messages.ts';
import type { VrrpInstance } from '../../../src/config/model.ts';
import { VrrpEngine } from '../../../src/vrrp/engine.ts';
import { decodeAdvert } from '../../../src/vrrp/packet.ts';
import { fakeIo, type FakeSend } from './fake-io.ts';
import { engineLink, engineSpec, instance, loc } from './fixtures.ts';

const spec = (over: Partial<VrrpInstance>): VrrpInstanceSpec =>
  engineSpec(instance({ name: 'A', virtualRouterId: 9, initialState: 'MASTER', priority: 255, advertIntMs: 1000, ...over }));
const decoded = (s: FakeSend): { priority: number; addresses: readonly string[]; advertIntMs: number } => {
  const d = decodeAdvert(s.payload, { family: 4, src: engineLink.primaryAddress, dst: s.dst, ttlOrHopLimit: 255, unicast: s.dst !== '224.0.0.18' });
  if (!d.ok) throw new Error(`${d.reason}: ${d.detail}`);
  return d.value;
};

test('a steady master sends the same buffer every interval; a priority change makes new, valid bytes', async (t) => {
  const f = fakeIo();
  const engine = new VrrpEngine(f.io);
  engine.handle({ type: 'init', version: IPC_VERSION, instances: [spec({ version: 3, priority: 200 })], syncGroups: [] });
  await new Promise((r) => setImmediate(r));
  f.run(1000 + 10_000);
  const steady = f.sends.slice(-5);
  t.true(steady.length === 5 && steady.every((s) => s.payload === steady[0]!.payload), 'one buffer, sent again');
  t.is(decoded(steady[0]!).priority, 200);

  engine.handle({ type: 'track', instance: 'A', priority: 150, fault: false, reason: 'script down' });
  f.run(1000 + 13_000);
  const after = f.sends.filter((s) => s.priority === 150);
  t.true(after.length >= 3);
  t.not(after[0]!.payload, steady[0]!.payload);
  t.is(decoded(after[0]!).priority, 150, 'checksum and priority of the new bytes are right');
  t.true(after.every((s) => s.payload === after[0]!.payload));
});

test('a reload that changes the VIPs or the interval changes the bytes; unicast peers each get their own', async (t) => {
  const f = fakeIo();
  const engine = new VrrpEngine(f.io);
  const peers = ['10.0.0.2', '10.0.0.3'];
  engine.handle({ type: 'init', version: IPC_VERSION, instances: [spec({ version: 3, unicastPeers: peers })], syncGroups: [] });
  await new Promise((r) => setImmediate(r));
  f.run(1000 + 5000);
  const last = (dst: string): FakeSend => f.sends.filter((s) => s.dst === dst).at(-1)!;
  t.not(last(peers[0]!).payload, last(peers[1]!).payload, 'the v3 checksum covers the destination');
  for (const p of peers) t.is(decoded(last(p)).priority, 255);

  const vip = { address: '10.211.0.200', prefixLen: 24, family: 4 as const, loc };
  engine.handle({
    type: 'reconfigure',
    requestId: 1,
    instances: [spec({ version: 3, unicastPeers: peers, advertIntMs: 500, virtualIpaddress: [...instance().virtualIpaddress, vip] })],
    keep: [],
    syncGroups: [],
  });
  await new Promise((r) => setImmediate(r));
  f.run(1000 + 8000);
  const now = decoded(last(peers[1]!));
  t.deepEqual([...now.addresses].sort(), ['10.211.0.100', '10.211.0.200']);
  t.is(now.advertIntMs, 500);
});
