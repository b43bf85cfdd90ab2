/**
 * The engine's reload message: `keep` names instances that stay as they are (not sent
 * again), `instances` carries new and changed specs, and a running instance in neither is
 * stopped (priority 0 from a master).
 */
import test from 'ava';
import { IPC_VERSION, type VrrpInstanceSpec } from '../../../src/ipc/messages.ts';
import type { VrrpInstance } from '../../../src/config/model.ts';
import { VrrpEngine } from '../../../src/vrrp/engine.ts';
import { fakeIo } from './fake-io.ts';
import { engineSpec, instance } from './fixtures.ts';

const spec = (over: Partial<VrrpInstance>): VrrpInstanceSpec => engineSpec(instance({ initialState: 'MASTER', priority: 255, advertIntMs: 1000, ...over }));

test('reconfigure: kept instances untouched, changed ones updated in place, unlisted ones stopped', async (t) => {
  const f = fakeIo();
  const engine = new VrrpEngine(f.io);
  const a = spec({ name: 'A', virtualRouterId: 1 });
  const b = spec({ name: 'B', virtualRouterId: 2, priority: 100, initialState: 'BACKUP' });
  const c = spec({ name: 'C', virtualRouterId: 3 });
  engine.handle({ type: 'init', version: IPC_VERSION, instances: [a, b, c], syncGroups: [] });
  await new Promise((r) => setImmediate(r));
  f.run(1000 + 5000);
  const state = (): Record<string, string> => Object.fromEntries(engine.status().map((s) => [s.name, `${s.state}/${s.priority}`]));
  t.like(state(), { A: 'MASTER/255', C: 'MASTER/255' });
  const sentBefore = f.sends.length;

  engine.handle({ type: 'reconfigure', requestId: 7, instances: [spec({ name: 'B', virtualRouterId: 2, priority: 120, initialState: 'BACKUP' })], keep: ['A'], syncGroups: [] });
  await new Promise((r) => setImmediate(r));
  t.true(f.posts.some((p) => p.type === 'reconfigured' && p.requestId === 7));
  t.deepEqual(engine.status().map((s) => s.name).sort(), ['A', 'B']);
  t.like(state(), { A: 'MASTER/255' });
  t.is(engine.status().find((s) => s.name === 'B')?.priority, 120);
  // C said goodbye with priority 0 (VRRP byte 3 is the priority)
  const afterReload = f.sends.slice(sentBefore);
  t.true(afterReload.some((s) => s.vrid === 3 && s.priority === 0), 'C sent priority 0');
  t.false(afterReload.some((s) => s.vrid === 1), 'A sent nothing extra on the reload');

  // A keeps its schedule: adverts exactly 1 s apart across the reload
  f.run(1000 + 10_000);
  const ts = f.sends.filter((s) => s.vrid === 1).map((s) => s.t);
  t.true(ts.slice(1).every((x, i) => Math.abs(x - ts[i]! - 1000) < 1e-9), ts.join(', '));
});
