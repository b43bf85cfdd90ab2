import test from 'ava';
import { TrackState, trackSpecFor } from '../../../src/vrrp/track.ts';
import { instance, loc, script, syncGroup } from './fixtures.ts';

test('negative weight subtracts while the script fails; positive adds while it succeeds (keepalived)', (t) => {
  const inst = instance({ priority: 100, trackScripts: [{ name: 'neg', loc }, { name: 'pos', loc }] });
  const ts = TrackState.forInstance(inst, [script('neg', { weight: -30 }), script('pos', { weight: 20 })]);
  t.is(ts.effectivePriority, 100, 'no result yet: no contribution');
  t.deepEqual(ts.setScript('pos', true), [{ type: 'priority', priority: 120 }]);
  t.deepEqual(ts.setScript('neg', false), [{ type: 'priority', priority: 90 }]);
  t.deepEqual(ts.setScript('neg', true), [{ type: 'priority', priority: 120 }]);
  t.deepEqual(ts.setScript('pos', false), [{ type: 'priority', priority: 100 }]);
  t.deepEqual(ts.setScript('pos', false), [], 'no change, no event');
  t.false(ts.fault.fault);
});

test('`weight N reverse`: a succeeding script lowers, a failing one with negative weight raises', (t) => {
  const inst = instance({ priority: 100, trackScripts: [{ name: 'a', loc }, { name: 'b', loc }] });
  const ts = TrackState.forInstance(inst, [script('a', { weight: 10, weightReverse: true }), script('b', { weight: -10, weightReverse: true })]);
  ts.setScript('a', true);
  t.is(ts.effectivePriority, 90);
  ts.setScript('b', false);
  t.is(ts.effectivePriority, 100);
  ts.setScript('a', false);
  t.is(ts.effectivePriority, 110);
});

test('the track_script reference overrides the script weight', (t) => {
  const inst = instance({ priority: 100, trackScripts: [{ name: 'a', weight: -50, loc }] });
  const ts = TrackState.forInstance(inst, [script('a', { weight: 10 })]);
  ts.setScript('a', false);
  t.is(ts.effectivePriority, 50);
  t.false(ts.fault.fault);
});

test('clamped to 1..254; the owner (255) keeps 255 whatever the weights', (t) => {
  const low = TrackState.forInstance(instance({ priority: 20, trackScripts: [{ name: 'a', loc }] }), [script('a', { weight: -100 })]);
  low.setScript('a', false);
  t.is(low.effectivePriority, 1);
  const high = TrackState.forInstance(instance({ priority: 250, trackScripts: [{ name: 'a', loc }] }), [script('a', { weight: 100 })]);
  high.setScript('a', true);
  t.is(high.effectivePriority, 254);
  const owner = TrackState.forInstance(instance({ priority: 255, trackScripts: [{ name: 'a', loc }] }), [script('a', { weight: -100 })]);
  t.deepEqual(owner.setScript('a', false), []);
  t.is(owner.effectivePriority, 255);
});

test('weight 0: failure is FAULT, success clears it; it waits in FAULT for the first result; init_fail starts failed', (t) => {
  const inst = instance({ trackScripts: [{ name: 'chk', loc }], dontTrackPrimary: true });
  const ts = TrackState.forInstance(inst, [script('chk')]);
  t.like(ts.fault, { fault: true, reason: 'script chk has not reported yet' });
  t.deepEqual(ts.initialEvents(), [{ type: 'fault', fault: true, reason: 'script chk has not reported yet' }]);
  t.deepEqual(ts.setScript('chk', true), [{ type: 'fault', fault: false, reason: 'all tracked objects ok' }]);
  t.deepEqual(ts.setScript('chk', false), [{ type: 'fault', fault: true, reason: 'script chk failed' }]);
  const owner = TrackState.forInstance(instance({ priority: 255, trackScripts: [{ name: 'chk', loc }] }), [script('chk')]);
  owner.setScript('chk', false);
  t.true(owner.fault.fault, 'faults apply to the owner too');
  const initFail = TrackState.forInstance(instance({ priority: 100, trackScripts: [{ name: 'w', loc }] }), [script('w', { weight: -20, initFail: true })]);
  t.is(initFail.effectivePriority, 80);
  t.deepEqual(initFail.initialEvents(), [{ type: 'priority', priority: 80 }]);
});

test('weight 0 reverse: success is the fault', (t) => {
  const ts = TrackState.forInstance(instance({ trackScripts: [{ name: 'x', weightReverse: true, loc }] }), [script('x')]);
  ts.setScript('x', false);
  t.false(ts.fault.fault);
  ts.setScript('x', true);
  t.like(ts.fault, { fault: true, reason: 'script x succeeded (reverse)' });
});

test('track_interface: unweighted down is FAULT; weighted down lowers the priority; the primary interface is tracked unless dont_track_primary', (t) => {
  const inst = instance({ priority: 100, trackInterfaces: [{ name: 'eth1', loc }, { name: 'eth2', weight: -20, loc }] });
  const ts = TrackState.forInstance(inst, []);
  t.deepEqual(ts.items.map((i) => `${i.kind}:${i.name}:${i.weight}`), ['interface:eth1:0', 'interface:eth2:-20', 'interface:eth0:0']);
  t.false(ts.fault.fault, 'interfaces not yet reported count as up');
  t.deepEqual(ts.setInterface('eth2', false), [{ type: 'priority', priority: 80 }]);
  t.false(ts.fault.fault);
  t.deepEqual(ts.setInterface('eth1', false), [{ type: 'fault', fault: true, reason: 'interface eth1 down' }]);
  t.deepEqual(ts.setInterface('eth1', true), [{ type: 'fault', fault: false, reason: 'all tracked objects ok' }]);
  t.deepEqual(ts.setInterface('eth0', false), [{ type: 'fault', fault: true, reason: 'interface eth0 down' }]);
  const dtp = TrackState.forInstance(instance({ dontTrackPrimary: true }), []);
  t.deepEqual(dtp.setInterface('eth0', false), []);
  t.deepEqual(dtp.setScript('unknown', false), [], 'untracked names are ignored');
});

test('a positive interface weight adds while up', (t) => {
  const ts = TrackState.forInstance(instance({ priority: 100, trackInterfaces: [{ name: 'eth1', weight: 10, loc }] }), []);
  t.is(ts.effectivePriority, 110);
  ts.setInterface('eth1', false);
  t.is(ts.effectivePriority, 100);
});

test('the sync group tracking applies to the member; duplicates count once; unknown scripts are skipped', (t) => {
  const inst = instance({ trackScripts: [{ name: 'a', loc }, { name: 'nope', loc }], syncGroup: 'G' });
  const g = syncGroup('G', ['VI_1'], { trackScripts: [{ name: 'a', loc }, { name: 'b', loc }], trackInterfaces: [{ name: 'eth9', loc }] });
  const spec = trackSpecFor(inst, [script('a', { weight: -10 }), script('b', { weight: -5 })], g);
  t.deepEqual(spec.items.map((i) => `${i.kind}:${i.name}`), ['script:a', 'script:b', 'interface:eth9', 'interface:eth0']);
  const ts = new TrackState(spec);
  ts.setScript('a', false);
  ts.setScript('b', false);
  t.is(ts.effectivePriority, 85);
  ts.setInterface('eth9', false);
  t.true(ts.fault.fault);
});

test('track_file: value × weight moves the priority; ≤ -254 is FAULT; weight 0 makes any non-zero value FAULT (keepalived)', (t) => {
  const file = (name: string, weight: number, weightReverse = false) => ({ name, file: `/run/${name}`, weight, weightReverse, loc });
  const ts = TrackState.forInstance(instance({ priority: 100, trackFiles: [{ name: 'w', loc }, { name: 'z', weight: 0, loc }] }), [], undefined, [file('w', -10), file('z', 5)]);
  t.is(ts.effectivePriority, 100, 'a file not read yet holds 0');
  t.deepEqual(ts.setFile('w', 3), [{ type: 'priority', priority: 70 }]);
  t.deepEqual(ts.setFile('w', -2), [{ type: 'priority', priority: 120 }]);
  t.deepEqual(
    ts.setFile('w', 26),
    [{ type: 'priority', priority: 100 }, { type: 'fault', fault: true, reason: 'file w holds 26 (weight -10)' }],
    '-260 is FAULT; its contribution leaves the priority',
  );
  t.is(ts.effectivePriority, 100);
  t.deepEqual(ts.setFile('w', 25), [{ type: 'priority', priority: 1 }, { type: 'fault', fault: false, reason: 'all tracked objects ok' }], '-250 clamps the priority to 1');
  ts.setFile('w', 0);
  t.deepEqual(ts.setFile('z', 1), [{ type: 'fault', fault: true, reason: 'file z holds 1 (weight 0)' }]);
  t.deepEqual(ts.setFile('z', 0), [{ type: 'fault', fault: false, reason: 'all tracked objects ok' }]);
  const rev = TrackState.forInstance(instance({ trackFiles: [{ name: 'r', loc }] }), [], undefined, [file('r', 0, true)]);
  t.true(rev.fault.fault, 'weight 0 reverse: 0 is the fault');
  rev.setFile('r', 2);
  t.false(rev.fault.fault);
  const big = TrackState.forInstance(instance({ priority: 100, trackFiles: [{ name: 'b', loc }] }), [], undefined, [file('b', 254)]);
  big.setFile('b', 1000);
  t.is(big.effectivePriority, 254, 'the contribution is clamped to 253, the priority to 254');
  t.false(big.fault.fault);
});

test('track_process: the quorum status weighs as a script result; default weight 1; weight 0 loses it to FAULT', (t) => {
  const proc = (name: string, weight: number) => ({
    name,
    process: name,
    params: [],
    paramMatch: 'none' as const,
    fullCommand: false,
    weight,
    weightReverse: false,
    quorum: 1,
    forkDelayMs: 0,
    terminateDelayMs: 0,
    loc,
  });
  const inst = instance({ priority: 100, trackProcesses: [{ name: 'up', loc }, { name: 'down', loc }, { name: 'gate', weight: 0, loc }] });
  const ts = TrackState.forInstance(inst, [], undefined, [], [proc('up', 1), proc('down', -30), proc('gate', 5)]);
  t.like(ts.fault, { fault: true, reason: 'process gate has not reported yet' });
  ts.setProcess('up', true);
  ts.setProcess('down', true);
  t.deepEqual(ts.setProcess('gate', true), [{ type: 'fault', fault: false, reason: 'all tracked objects ok' }]);
  t.is(ts.effectivePriority, 101);
  t.deepEqual(ts.setProcess('down', false), [{ type: 'priority', priority: 71 }]);
  t.deepEqual(ts.setProcess('gate', false), [{ type: 'fault', fault: true, reason: 'process gate lost its quorum' }]);
});
