/**
 * keepalived's answer, as MASTER, to a lower-priority advert (vrrp_state_master_rx): an
 * advert at once unless lower_prio_no_advert, and garp_lower_prio_repeat gratuitous ARPs now
 * and again after garp_lower_prio_delay (defaults: garp_master_repeat / garp_master_delay).
 * And the spacing of gratuitous ARPs (vrrp_garp_interval, garp_group).
 */
import test from 'ava';
import { IPC_VERSION, type FromVrrp } from '../../../src/ipc/messages.ts';
import type { VrrpInstance } from '../../../src/config/model.ts';
import { VrrpEngine, type EnginePacket } from '../../../src/vrrp/engine.ts';
import { encodeAdvert } from '../../../src/vrrp/packet.ts';
import { fakeIo } from './fake-io.ts';
import { engineSpec, instance } from './fixtures.ts';

interface LabOptions {
  /** how long the n-th timer of at most 100 ms really waits (a busy thread's late timer) */
  late?: (ms: number, n: number) => number;
  /** more instances beside A, on the same interface */
  others?: Partial<VrrpInstance>[];
}

interface Lab {
  run(ms: number): void;
  /** when each gratuitous ARP went out, and for which address */
  arps: number[];
  arpAddresses: string[];
  sends: () => number;
  /** an advert from 10.0.0.2 for `vrid` (default A's, 51) at `priority` (default 100, lower than A's) */
  advert(vrid?: number, priority?: number, addresses?: string[]): void;
}

function lab(over: Partial<VrrpInstance>, opts: LabOptions = {}): Lab {
  const f = fakeIo();
  const { late } = opts;
  if (late) {
    const baseSet = f.io.setTimer;
    let n = 0;
    f.io.setTimer = (fn, ms) => baseSet(fn, ms > 0 && ms <= 100 ? late(ms, n++) : ms);
  }
  const arps: number[] = [];
  const arpAddresses: string[] = [];
  const clock = f.io.now;
  let deliver: ((p: EnginePacket) => void) | undefined;
  const baseOpen = f.io.openSocket;
  f.io.openSocket = (o, onPacket, onError) => {
    deliver = onPacket;
    return baseOpen(o, onPacket, onError);
  };
  const sendArp = (address: string): void => {
    arps.push(clock());
    arpAddresses.push(address);
  };
  f.io.openGarp = () => ({ sendArp, sendNa: () => undefined, close: () => undefined });
  const engine = new VrrpEngine(f.io);
  const basePost = f.io.post;
  f.io.post = (m: FromVrrp) => {
    basePost(m);
    // the supervisor's answer to a take-over: the addresses are in
    if (m.type === 'take-over') setImmediate(() => engine.handle({ type: 'vips-done', requestId: m.requestId, ok: true }));
  };
  const instances = [{ name: 'A', initialState: 'MASTER' as const, priority: 255, ...over }, ...(opts.others ?? [])].map((o) => engineSpec(instance(o)));
  engine.handle({ type: 'init', version: IPC_VERSION, instances, syncGroups: [] });
  return {
    run: (ms) => f.run(ms),
    arps,
    arpAddresses,
    sends: () => f.sends.length,
    advert: (vrid = 51, priority = 100, addresses = ['10.211.0.100']) => {
      const payload = encodeAdvert({ version: 2, vrid, priority, advertIntMs: 1000, addresses, authType: 0 }, { family: 4, src: '10.0.0.2', dst: '224.0.0.18' });
      deliver!({ family: 4, src: '10.0.0.2', dst: '224.0.0.18', ttl: 255, payload });
    },
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('defaults: garp_master_repeat ARPs at once and after garp_master_delay, with an advert back', async (t) => {
  const l = lab({ garpMasterRepeat: 3, garpMasterDelayMs: 5000 });
  await tick();
  l.run(1000 + 100);
  await tick();
  l.run(1000 + 20_000); // the take-over rounds are done
  const before = l.arps.length;
  const sent = l.sends();
  l.advert();
  t.is(l.arps.length - before, 3, 'garp_master_repeat at once');
  t.is(l.sends() - sent, 1, 'an advert back (forcing new election)');
  l.advert(); // a second one within the delay: its own burst, no second delayed round
  t.is(l.arps.length - before, 6);
  l.run(1000 + 20_000 + 5000);
  t.is(l.arps.length - before, 9, 'one delayed round after garp_master_delay');
});

test('garp_lower_prio_repeat / _delay and lower_prio_no_advert', async (t) => {
  const l = lab({ garpMasterRepeat: 3, garpMasterDelayMs: 5000, garpLowerPrioRepeat: 1, garpLowerPrioDelayMs: 2000, lowerPrioNoAdvert: true });
  await tick();
  l.run(1000 + 100);
  await tick();
  l.run(1000 + 20_000);
  const before = l.arps.length;
  const sent = l.sends();
  l.advert();
  t.is(l.arps.length - before, 1);
  t.is(l.sends() - sent, 0, 'no advert back');
  l.run(1000 + 20_000 + 2000);
  t.is(l.arps.length - before, 2);
});

test('garp pacing (vrrp_garp_interval / garp_group): one gratuitous ARP per interval on the group, the rest wait', async (t) => {
  const vips = ['10.211.0.100', '10.211.0.101', '10.211.0.102'].map((address) => ({ address, prefixLen: 24, family: 4 as const, loc: { file: 't', line: 1, col: 1 } }));
  const l = lab({ garpMasterRepeat: 2, garpMasterDelayMs: 0, virtualIpaddress: vips, garpPacing: { group: 'eth0', arpIntervalMs: 100, naIntervalMs: 0 } });
  await tick();
  l.run(1000 + 1);
  await tick();
  l.run(1000 + 5000);
  t.is(l.arps.length, 6, 'two rounds of three');
  const gaps = l.arps.slice(1).map((x, i) => x - l.arps[i]!);
  t.true(gaps.every((g) => g >= 100 - 1e-9), `gaps ${gaps.join(', ')}`);
  t.true(l.arps[5]! - l.arps[0]! < 600, 'and no slower than the interval');
});

test('garp pacing: a timer that fires late does not bring the next gratuitous ARP closer than the interval', async (t) => {
  const vips = ['10.211.0.100', '10.211.0.101', '10.211.0.102'].map((address) => ({ address, prefixLen: 24, family: 4 as const, loc: { file: 't', line: 1, col: 1 } }));
  // the first paced wait (100 ms) fires 70 ms late, as a busy thread's timer may
  const l = lab({ garpMasterRepeat: 2, garpMasterDelayMs: 0, virtualIpaddress: vips, garpPacing: { group: 'eth0', arpIntervalMs: 100, naIntervalMs: 0 } }, { late: (ms, n) => (n === 0 ? ms + 70 : ms) });
  await tick();
  l.run(1000 + 1);
  await tick();
  l.run(1000 + 5000);
  t.is(l.arps.length, 6);
  const gaps = l.arps.slice(1).map((x, i) => x - l.arps[i]!);
  t.deepEqual(gaps, [170, 100, 100, 100, 100]);
});

test('garp pacing: an instance that leaves MASTER takes its waiting ARPs off the group, and the others move up', async (t) => {
  const pacing = { group: 'eth0', arpIntervalMs: 100, naIntervalMs: 0 };
  const vip = (address: string) => ({ address, prefixLen: 24, family: 4 as const, loc: { file: 't', line: 1, col: 1 } });
  const mine = ['10.211.0.100', '10.211.0.101', '10.211.0.102'];
  const l = lab(
    { garpMasterRepeat: 2, garpMasterDelayMs: 0, virtualIpaddress: mine.map(vip), garpPacing: pacing },
    { others: [{ name: 'B', virtualRouterId: 52, initialState: 'MASTER', priority: 255, garpMasterRepeat: 1, garpMasterDelayMs: 0, virtualIpaddress: [vip('10.211.1.100')], garpPacing: pacing }] },
  );
  await tick();
  l.run(1000 + 1);
  await tick();
  l.run(1000 + 150); // A's first two ARPs are out, four wait before B's
  t.deepEqual(l.arpAddresses, ['10.211.0.100', '10.211.0.101']);
  const left = l.arps.at(-1)!;
  l.advert(51, 255, mine); // the same priority from a higher address: A goes BACKUP
  l.run(1000 + 5000);
  t.deepEqual(l.arpAddresses.slice(2), ['10.211.1.100'], "only B's ARP is left");
  t.is(l.arps[2]! - left, 100, 'one interval after the last ARP sent, not after the ones A dropped');
});
