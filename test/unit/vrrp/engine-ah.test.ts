/**
 * The engine with `auth_type AH`: it opens an AH socket, sends whole IPv4 packets whose
 * sequence number and id step once per advert, and counts what it refuses (wrong key,
 * replayed sequence number) without acting on it.
 */
import test from 'ava';
import { IPC_VERSION } from '../../../src/ipc/messages.ts';
import { ahKey, encodeAhPacket, verifyAhPacket } from '../../../src/vrrp/ah.ts';
import { VrrpEngine, type EnginePacket, type EngineSocketOptions } from '../../../src/vrrp/engine.ts';
import { decodeAdvert, encodeAdvert } from '../../../src/vrrp/packet.ts';
import { fakeIo } from './fake-io.ts';
import { engineLink, engineSpec, instance } from './fixtures.ts';

const KEY = ahKey('secret12');
const ah = { type: 'AH' as const, pass: 'secret12' };

function lab(priority: number): {
  engine: VrrpEngine;
  f: ReturnType<typeof fakeIo>;
  opened: EngineSocketOptions[];
  deliver(pkt: Buffer): void;
} {
  const f = fakeIo();
  const opened: EngineSocketOptions[] = [];
  let onPacket: ((p: EnginePacket) => void) | undefined;
  const open = f.io.openSocket;
  f.io.openSocket = (opts, cb, onError) => {
    opened.push(opts);
    onPacket = cb;
    return open(opts, cb, onError);
  };
  const engine = new VrrpEngine(f.io);
  engine.handle({ type: 'init', version: IPC_VERSION, instances: [engineSpec(instance({ name: 'A', priority, authentication: ah }))], syncGroups: [] });
  return {
    engine,
    f,
    opened,
    deliver: (pkt) => onPacket!({ family: 4, src: '10.0.0.2', dst: '224.0.0.18', ttl: 255, payload: pkt.subarray(20), packet: pkt }),
  };
}

const advertFrom = (priority: number, seq: number, key = KEY): Buffer =>
  encodeAhPacket(
    encodeAdvert({ version: 2, vrid: 51, priority, advertIntMs: 1000, addresses: ['10.211.0.100'], authType: 2 }, { family: 4, src: '10.0.0.2', dst: '224.0.0.18' }),
    { src: '10.0.0.2', dst: '224.0.0.18', id: seq, seq, key, unicast: false },
  );

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('a master sends AH packets on an AH socket; sequence number and IP id step per advert', async (t) => {
  const { engine, f, opened } = lab(200);
  t.true(opened[0]?.ah);
  await tick();
  f.run(1000 + 10_000);
  t.is(engine.status()[0]!.state, 'MASTER');
  t.true(f.sends.length >= 5);
  f.sends.forEach((s, i) => {
    const v = verifyAhPacket(s.payload, KEY, false);
    if (!v.ok) return t.fail(`${v.reason}: ${v.detail}`);
    t.is(v.value.seq, i + 1);
    t.is(s.payload.readUInt16BE(4), i + 1, 'IP id');
    t.is(s.payload.subarray(12, 16).join('.'), engineLink.primaryAddress);
    const a = decodeAdvert(v.value.vrrp, { family: 4, src: engineLink.primaryAddress, dst: '224.0.0.18', ttlOrHopLimit: 255 });
    t.true(a.ok && a.value.authType === 2 && a.value.priority === 200);
  });
});

test('a backup follows a master, counts a wrong key and a replay, and does not act on them', async (t) => {
  const { engine, f, deliver } = lab(100);
  await tick();
  deliver(advertFrom(150, 7));
  f.run(1000 + 2000);
  deliver(advertFrom(150, 8));
  deliver(advertFrom(150, 8)); // replayed
  deliver(advertFrom(150, 3)); // older
  deliver(advertFrom(0, 9, ahKey('wrong'))); // a forged release
  f.run(1000 + 3000);
  const s = engine.status()[0]!;
  t.is(s.state, 'BACKUP');
  t.is(s.advertsReceived, 2);
  t.deepEqual(s.dropped, { 'ah-replay': 2, auth: 1 });
  // Silence from the master: the backup takes over and continues above the master's numbers.
  f.run(1000 + 8000);
  t.is(engine.status()[0]!.state, 'MASTER');
  const first = f.sends[0];
  const v = first && verifyAhPacket(first.payload, KEY, false);
  t.true(v?.ok && v.value.seq === 9, 'first sequence number after the master');
  // not a buffer that fails to decode as a whole packet: garbage and truncations are counted
  deliver(Buffer.from('4500', 'hex'));
  deliver(Buffer.alloc(0));
  t.is(engine.status()[0]!.state, 'MASTER');
});
