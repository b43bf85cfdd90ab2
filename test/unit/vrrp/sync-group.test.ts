import test from 'ava';
import { SyncGroups } from '../../../src/vrrp/sync-group.ts';
import { skewTimeMs } from '../../../src/vrrp/timers.ts';
import { params, Sim, type Node } from './sim.ts';

function pair(sim: Sim, host: string, prio: [number, number], addr: string, grouped: boolean, gated: boolean): [Node, Node] {
  const groups = new SyncGroups(grouped ? [{ name: 'G', members: ['VI_1', 'VI_2'] }] : []);
  if (grouped) sim.sync.set(host, groups);
  const opt = (n: string) => (gated ? { sync: groups.gate(n)! } : {});
  const a = sim.add(`${host}1`, params({ name: 'VI_1', vrid: 51, priority: prio[0], primaryAddress: addr }), opt('VI_1'), host);
  const b = sim.add(`${host}2`, params({ name: 'VI_2', vrid: 52, priority: prio[1], primaryAddress: addr, addresses: ['10.211.0.200'] }), opt('VI_2'), host);
  if (gated) {
    groups.attach('VI_1', a.router);
    groups.attach('VI_2', b.router);
  }
  return [a, b];
}

test('SyncGroups.onTransition: the other members follow; the group state changes once; INIT moves nobody', (t) => {
  const g = new SyncGroups([{ name: 'G', members: ['A', 'B', 'C'] }]);
  t.is(g.groupOf('B'), 'G');
  t.is(g.groupOf('Z'), undefined);
  t.is(g.gate('Z'), undefined);
  t.is(g.state('G'), 'BACKUP');
  t.deepEqual(g.onTransition('A', 'BACKUP'), [], 'already BACKUP');
  t.deepEqual(
    g.onTransition('A', 'MASTER').map((e) => `${e.instance}:${e.event.to}`),
    ['B:MASTER', 'C:MASTER'],
  );
  t.is(g.state('G'), 'MASTER');
  t.deepEqual(g.onTransition('B', 'MASTER'), [], 'the followers coming back change nothing');
  t.deepEqual(g.onTransition('C', 'FAULT').map((e) => `${e.instance}:${e.event.to}`), ['A:FAULT', 'B:FAULT']);
  t.deepEqual(g.onTransition('C', 'INIT'), []);
  t.deepEqual(g.onTransition('Z', 'FAULT'), [], 'not in a group');
  t.regex(g.onTransition('C', 'BACKUP')[0]!.event.reason, /C entered BACKUP \(group G\)/);
});

test('one member in FAULT takes the group to FAULT (the master sends priority 0); recovery brings it back and it preempts', (t) => {
  const sim = new Sim();
  const [x1, x2] = pair(sim, 'x', [150, 150], '10.211.0.1', true, false);
  const [y1, y2] = pair(sim, 'y', [100, 100], '10.211.0.2', false, false);
  for (const n of [x1, x2, y1, y2]) n.handle({ type: 'start' });
  sim.run(10_000);
  t.deepEqual([x1.state, x2.state, y1.state, y2.state], ['MASTER', 'MASTER', 'BACKUP', 'BACKUP']);
  const at = sim.t;
  x2.handle({ type: 'fault', fault: true, reason: 'interface eth1 down' });
  t.is(x1.state, 'FAULT');
  t.is(x2.state, 'FAULT');
  t.like(x1.of('transition').at(-1), { from: 'MASTER', to: 'FAULT', reason: 'sync group: VI_2 entered FAULT (group G)' });
  t.false(x1.vips);
  t.is(x1.of('send-advert').at(-1)?.priority, 0);
  sim.run(5000);
  t.deepEqual([y1.state, y2.state], ['MASTER', 'MASTER']);
  t.true(Math.abs(sim.enteredAt(y1, 'MASTER')! - (at + skewTimeMs(2, 100, 1000))) < 1e-6);
  x2.handle({ type: 'fault', fault: false, reason: 'interface eth1 up' });
  t.deepEqual([x1.state, x2.state], ['BACKUP', 'BACKUP']);
  sim.run(10_000);
  t.deepEqual([x1.state, x2.state, y1.state, y2.state], ['MASTER', 'MASTER', 'BACKUP', 'BACKUP']);
});

test('one member losing an election takes the others to BACKUP', (t) => {
  const sim = new Sim();
  const [x1, x2] = pair(sim, 'x', [150, 150], '10.211.0.1', true, true);
  const [y1, y2] = pair(sim, 'y', [100, 100], '10.211.0.2', false, false);
  for (const n of [x1, x2, y1, y2]) n.handle({ type: 'start' });
  sim.run(10_000);
  t.deepEqual([x1.state, x2.state], ['MASTER', 'MASTER']);
  y1.router.update(params({ name: 'VI_1', vrid: 51, priority: 200, primaryAddress: '10.211.0.2' }));
  sim.run(10_000);
  t.is(y1.state, 'MASTER');
  t.is(x1.state, 'BACKUP');
  t.is(x2.state, 'BACKUP', 'followed VI_1 to BACKUP although its own peer is lower');
  t.false(x2.vips);
  sim.run(30_000);
  // and stays there: its master-down expires but VI_1 does not want MASTER (no thrashing)
  t.deepEqual([x1.state, x2.state, y1.state, y2.state], ['BACKUP', 'BACKUP', 'MASTER', 'MASTER']);
  t.is(x2.router.wantState, 'MASTER');
});

test('gate: a member becomes MASTER only when every member wants it; then all go together', (t) => {
  const sim = new Sim();
  const [y1, y2] = pair(sim, 'y', [100, 100], '10.211.0.2', false, false);
  y1.handle({ type: 'start' });
  y2.handle({ type: 'start' });
  sim.run(10_000);
  const [x1, x2] = pair(sim, 'x', [150, 150], '10.211.0.1', true, true);
  x1.handle({ type: 'start' });
  x2.handle({ type: 'start' });
  sim.run(10_000);
  t.deepEqual([x1.state, x2.state, y1.state, y2.state], ['MASTER', 'MASTER', 'BACKUP', 'BACKUP']);
  // x1's timer fired first and was refused (x2 did not want MASTER yet); x2's then took both
  t.is(sim.enteredAt(x1, 'MASTER'), sim.enteredAt(x2, 'MASTER'));
  t.like(x1.of('transition').at(-1), { reason: 'sync group: VI_2 entered MASTER (group G)' });
});

test('gate: a member whose partner accepts a higher master stays BACKUP instead of dragging the group', (t) => {
  const sim = new Sim();
  const [y1, y2] = pair(sim, 'y', [100, 100], '10.211.0.2', false, false);
  y1.handle({ type: 'start' });
  y2.handle({ type: 'start' });
  sim.run(10_000);
  const [x1, x2] = pair(sim, 'x', [150, 50], '10.211.0.1', true, true);
  x1.handle({ type: 'start' });
  x2.handle({ type: 'start' });
  sim.run(60_000);
  t.deepEqual([x1.state, x2.state, y1.state, y2.state], ['BACKUP', 'BACKUP', 'MASTER', 'MASTER']);
  t.is(x1.router.wantState, 'MASTER');
  t.is(x2.router.wantState, 'BACKUP');
  t.deepEqual(x1.transitions(), ['INIT->BACKUP']);
});

test('gate: a member whose fault clears stays in FAULT while another member is still in its own fault', (t) => {
  const sim = new Sim();
  const [x1, x2] = pair(sim, 'x', [150, 150], '10.211.0.1', true, true);
  x1.handle({ type: 'start' });
  x2.handle({ type: 'start' });
  x1.handle({ type: 'fault', fault: true, reason: 'a' });
  x2.handle({ type: 'fault', fault: true, reason: 'b' });
  t.deepEqual([x1.state, x2.state], ['FAULT', 'FAULT']);
  t.deepEqual(x1.handle({ type: 'fault', fault: false, reason: 'a ok' }), []);
  t.is(x1.state, 'FAULT');
  x2.handle({ type: 'fault', fault: false, reason: 'b ok' });
  t.deepEqual([x1.state, x2.state], ['BACKUP', 'BACKUP']);
  sim.run(10_000);
  t.deepEqual([x1.state, x2.state], ['MASTER', 'MASTER']);
});

test('gate: a member starting while another is in fault starts in FAULT', (t) => {
  const sim = new Sim();
  const [x1, x2] = pair(sim, 'x', [150, 150], '10.211.0.1', true, true);
  x1.handle({ type: 'fault', fault: true, reason: 'script' });
  x1.handle({ type: 'start' });
  x2.handle({ type: 'start' });
  t.deepEqual([x1.state, x2.state], ['FAULT', 'FAULT']);
  x1.handle({ type: 'fault', fault: false, reason: 'ok' });
  t.deepEqual([x1.state, x2.state], ['BACKUP', 'BACKUP']);
});
