/**
 * The engine's advert schedule with many instances that become MASTER at the same moment,
 * on a fake clock: their adverts spread out to at most ADVERTS_PER_MS (8) per millisecond,
 * each instance keeps a steady interval of exactly advert_int once spread, and no interval
 * is ever longer than advert_int (spreading only moves an advert earlier, once).
 */
import test from 'ava';
import { IPC_VERSION, type VrrpInstanceSpec } from '../../../src/ipc/messages.ts';
import { VrrpEngine } from '../../../src/vrrp/engine.ts';
import { fakeIo } from './fake-io.ts';
import { engineSpec, instance } from './fixtures.ts';

test('200 instances that start together spread to ≤ 8 adverts per ms, then hold advert_int exactly', async (t) => {
  const f = fakeIo();
  const engine = new VrrpEngine(f.io);
  const specs: VrrpInstanceSpec[] = Array.from({ length: 200 }, (_, k) =>
    engineSpec(instance({ name: `VI_${k}`, virtualRouterId: k + 1, priority: 255, initialState: 'MASTER', advertIntMs: 1000 })),
  );
  engine.handle({ type: 'init', version: IPC_VERSION, instances: specs, syncGroups: [] });
  f.run(1000 + 10_500);

  const byVrid = new Map<number, number[]>();
  for (const s of f.sends) byVrid.set(s.vrid, [...(byVrid.get(s.vrid) ?? []), s.t]);
  t.is(byVrid.size, 200, 'every instance advertises');
  for (const [vrid, ts] of byVrid) {
    t.true(ts.length >= 10, `VRID ${vrid}: ${ts.length} adverts`);
    const intervals = ts.slice(1).map((x, i) => x - ts[i]!);
    t.true(intervals.every((d) => d <= 1000 + 1e-9), `VRID ${vrid}: no interval over advert_int (${intervals.join(', ')})`);
    // at most the first interval is shortened; after it the phase holds
    t.true(intervals.slice(1).every((d) => Math.abs(d - 1000) < 1e-9), `VRID ${vrid}: steady after the first (${intervals.join(', ')})`);
    t.true(intervals[0]! >= 500, `VRID ${vrid}: moved by at most half an interval`);
  }
  // After the first round (all at once on becoming MASTER), no millisecond holds more than 8.
  const perMs = new Map<number, number>();
  for (const s of f.sends) if (s.t > 1500) perMs.set(Math.floor(s.t), (perMs.get(Math.floor(s.t)) ?? 0) + 1);
  t.true(Math.max(...perMs.values()) <= 8, `busiest millisecond: ${Math.max(...perMs.values())}`);
});

test('a lone instance is never moved: its adverts stay exactly advert_int apart from the first', async (t) => {
  const f = fakeIo();
  const engine = new VrrpEngine(f.io);
  engine.handle({
    type: 'init',
    version: IPC_VERSION,
    instances: [engineSpec(instance({ priority: 255, initialState: 'MASTER', advertIntMs: 100, version: 3 }))],
    syncGroups: [],
  });
  await new Promise((r) => setImmediate(r));
  f.run(1000 + 1050);
  const ts = f.sends.map((s) => s.t);
  t.true(ts.length >= 10);
  t.true(ts.slice(1).every((x, i) => Math.abs(x - ts[i]! - 100) < 1e-9), ts.join(', '));
});
