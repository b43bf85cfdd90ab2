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

function lab(over: Partial<VrrpInstance>): { run(ms: number): void; arps: number[]; sends: () => number; lower(): void } {
  const f = fakeIo();
  const arps: number[] = [];
  const clock = f.io.now;
  let deliver: ((p: EnginePacket) => void) | undefined;
  const baseOpen = f.io.openSocket;
  f.io.openSocket = (opts, onPacket, onError) => {
    deliver = onPacket;
    return baseOpen(opts, onPacket, onError);
  };
  f.io.openGarp = () => ({ sendArp: () => void arps.push(clock()), sendNa: () => undefined, close: () => undefined });
  const engine = new VrrpEngine(f.io);
  const basePost = f.io.post;
  f.io.post = (m: FromVrrp) => {
    basePost(m);
    // the supervisor's answer to a take-over: the addresses are in
    if (m.type === 'take-over') setImmediate(() => engine.handle({ type: 'vips-done', requestId: m.requestId, ok: true }));
  };
  engine.handle({ type: 'init', version: IPC_VERSION, instances: [engineSpec(instance({ name: 'A', initialState: 'MASTER', priority: 255, ...over }))], syncGroups: [] });
  return {
    run: (ms) => f.run(ms),
    arps,
    sends: () => f.sends.length,
    lower: () => {
      const payload = encodeAdvert({ version: 2, vrid: 51, priority: 100, advertIntMs: 1000, addresses: ['10.211.0.100'], authType: 0 }, { family: 4, src: '10.0.0.2', dst: '224.0.0.18' });
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
  l.lower();
  t.is(l.arps.length - before, 3, 'garp_master_repeat at once');
  t.is(l.sends() - sent, 1, 'an advert back (forcing new election)');
  l.lower(); // a second one within the delay: its own burst, no second delayed round
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
  l.lower();
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
