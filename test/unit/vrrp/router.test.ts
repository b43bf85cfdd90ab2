import test, { type ExecutionContext } from 'ava';
import { compareAddresses, Router, type RouterEffect } from '../../../src/vrrp/router.ts';
import { masterDownIntervalMs, skewTimeMs } from '../../../src/vrrp/timers.ts';
import { params, Sim } from './sim.ts';

/** ms, float tolerance only: the router's times are exact sums of the timers.ts values */
function near(t: ExecutionContext, actual: number | undefined, expected: number, what = ''): void {
  t.true(actual !== undefined && Math.abs(actual - expected) < 1e-6, `${what}: ${String(actual)} ≠ ${expected}`);
}

const DOWN_150 = masterDownIntervalMs(2, 150, 1000); // 3414.062
const DOWN_100 = masterDownIntervalMs(2, 100, 1000); // 3609.375
const SKEW_100 = skewTimeMs(2, 100, 1000); // 609.375

function types(fx: readonly RouterEffect[]): string[] {
  return fx.map((e) => (e.type === 'transition' ? `transition ${e.from}->${e.to}` : e.type === 'send-advert' ? `send-advert ${e.priority}` : e.type === 'arm-timer' || e.type === 'cancel-timer' ? `${e.type} ${e.timer}` : e.type));
}

test('state MASTER below 255 starts as BACKUP and becomes MASTER after the master-down interval (3414.062 ms at prio 150, v2)', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150, initialState: 'MASTER', primaryAddress: '10.211.0.1' }));
  const fx = a.handle({ type: 'start' });
  t.deepEqual(types(fx), ['transition INIT->BACKUP', 'arm-timer master-down']);
  t.regex((fx[0] as { reason: string }).reason, /state MASTER below 255/);
  near(t, a.timers.get('master-down'), DOWN_150, 'master-down due');
  sim.runUntil(DOWN_150 - 0.001);
  t.is(a.state, 'BACKUP');
  t.false(a.vips);
  sim.runUntil(DOWN_150);
  t.is(a.state, 'MASTER');
  t.true(a.vips);
  near(t, sim.enteredAt(a, 'MASTER'), 3414.062);
});

test('becoming MASTER: advert first, then transition and take-over, then the advert timer (keepalived vrrp_state_master_tx)', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params());
  a.handle({ type: 'start' });
  sim.runUntil(DOWN_100);
  const fx = a.effects.filter((e) => e.at === DOWN_100).map((e) => e.effect);
  t.deepEqual(types(fx), ['send-advert 100', 'transition BACKUP->MASTER', 'take-over', 'arm-timer advert']);
  t.like(fx[1], { reason: 'master down timer expired', priority: 100 });
  t.like(fx[0], { advert: { version: 2, vrid: 51, priority: 100, advertIntMs: 1000, addresses: ['10.211.0.100'], authType: 0 } });
});

test('a master sends an advert every advert interval, on schedule', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 255, initialState: 'MASTER' }));
  a.handle({ type: 'start' });
  sim.run(10_000);
  const at = sim.sentBy('a').map((s) => s.at);
  t.deepEqual(at, [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000]);
  t.true(sim.sentBy('a').every((s) => s.advert.priority === 255));
});

test('priority 255 (address owner) with state MASTER goes MASTER at once', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 255, initialState: 'MASTER' }));
  const fx = a.handle({ type: 'start' });
  t.deepEqual(types(fx), ['send-advert 255', 'transition INIT->MASTER', 'take-over', 'arm-timer advert']);
  t.regex((fx[1] as { reason: string }).reason, /priority 255/);
  t.is(a.state, 'MASTER');
});

test('priority 255 with state BACKUP starts BACKUP and takes over after the master-down interval (keepalived 2.2.7)', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 255, initialState: 'BACKUP' }));
  const fx = a.handle({ type: 'start' });
  t.deepEqual(types(fx), ['transition INIT->BACKUP', 'arm-timer master-down']);
  t.regex((fx[0] as { reason: string }).reason, /priority 255 with state BACKUP/);
  const down = masterDownIntervalMs(2, 255, 1000); // 3000 ms: skew (256 − 255) / 256 s rounds into it
  near(t, a.timers.get('master-down'), down, 'master-down due');
  sim.runUntil(down - 0.001);
  t.is(a.state, 'BACKUP');
  sim.runUntil(down);
  t.is(a.state, 'MASTER');
});

test('election: the higher priority wins, the other stays BACKUP and keeps resetting its down timer', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150, initialState: 'MASTER', primaryAddress: '10.211.0.1' }));
  const b = sim.add('b', params({ priority: 100, primaryAddress: '10.211.0.2' }));
  a.handle({ type: 'start' });
  b.handle({ type: 'start' });
  sim.run(60_000);
  t.is(a.state, 'MASTER');
  t.is(b.state, 'BACKUP');
  t.deepEqual(a.transitions(), ['INIT->BACKUP', 'BACKUP->MASTER']);
  t.deepEqual(b.transitions(), ['INIT->BACKUP']);
  t.true(a.vips);
  t.false(b.vips);
  // b's master-down is always one interval after a's last advert
  const last = sim.sentBy('a').at(-1)!.at;
  near(t, b.timers.get('master-down'), last + DOWN_100, 'b down timer');
  t.deepEqual(b.router.master, { address: '10.211.0.1', priority: 150 });
});

test('takeover after master-down when the master dies silently (SIGKILL)', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150, primaryAddress: '10.211.0.1' }));
  const b = sim.add('b', params({ priority: 100, primaryAddress: '10.211.0.2' }));
  a.handle({ type: 'start' });
  b.handle({ type: 'start' });
  sim.run(10_000);
  t.is(a.state, 'MASTER');
  a.dead = true;
  const last = sim.sentBy('a').at(-1)!.at;
  sim.run(10_000);
  t.is(b.state, 'MASTER');
  near(t, sim.enteredAt(b, 'MASTER'), last + DOWN_100, 'b took over');
  t.true(b.vips);
});

test('stop as MASTER: priority 0 first, then INIT and release; the backup takes over after Skew_Time', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150, primaryAddress: '10.211.0.1' }));
  const b = sim.add('b', params({ priority: 100, primaryAddress: '10.211.0.2' }));
  a.handle({ type: 'start' });
  b.handle({ type: 'start' });
  sim.run(10_500);
  const stopAt = sim.t;
  const fx = a.handle({ type: 'stop' });
  t.deepEqual(types(fx), ['cancel-timer advert', 'send-advert 0', 'transition MASTER->INIT', 'release']);
  t.is(a.state, 'INIT');
  t.false(a.vips);
  sim.run(0);
  near(t, b.timers.get('master-down'), stopAt + SKEW_100, 'fast takeover timer');
  sim.run(5000);
  near(t, sim.enteredAt(b, 'MASTER'), stopAt + SKEW_100, 'b took over');
  t.like(b.of('transition').at(-1), { reason: 'master sent priority 0' });
  t.is(b.router.stats.priorityZeroReceived, 1);
  t.is(a.router.stats.priorityZeroSent, 1);
  // stopped: nothing more from a, events ignored
  t.deepEqual(a.handle({ type: 'stop' }), []);
});

test('stop as BACKUP cancels the master-down timer; start again works', (t) => {
  const sim = new Sim();
  const b = sim.add('b', params());
  b.handle({ type: 'start' });
  t.deepEqual(types(b.handle({ type: 'stop' })), ['cancel-timer master-down', 'transition BACKUP->INIT']);
  t.is(b.timers.size, 0);
  t.deepEqual(b.handle({ type: 'timer', timer: 'master-down' }), []);
  t.is(b.router.stats.staleTimers, 1);
  t.deepEqual(types(b.handle({ type: 'start' })), ['transition INIT->BACKUP', 'arm-timer master-down']);
  t.deepEqual(b.handle({ type: 'start' }), [], 'start while running is a no-op');
});

test('MASTER receiving priority 0 sends an advert at once and re-arms its advert timer', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 255, initialState: 'MASTER' }));
  a.handle({ type: 'start' });
  sim.run(400);
  const fx = a.handle({ type: 'advert', source: '10.211.0.9', advert: { version: 2, vrid: 51, priority: 0, advertIntMs: 1000, addresses: ['10.211.0.100'], authType: 0 } });
  t.deepEqual(types(fx), ['send-advert 255', 'arm-timer advert']);
  t.is(a.timers.get('advert'), 1400);
  t.is(a.state, 'MASTER');
});

test('MASTER receiving a lower priority advert sends an advert at once (keepalived: forcing new election) and gratuitous ARPs again', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150, primaryAddress: '10.211.0.1' }));
  a.handle({ type: 'start' });
  sim.run(DOWN_150 + 100);
  t.is(a.state, 'MASTER');
  const fx = a.handle({ type: 'advert', source: '10.211.0.2', advert: { version: 2, vrid: 51, priority: 100, advertIntMs: 1000, addresses: ['10.211.0.100'], authType: 0 } });
  t.deepEqual(types(fx), ['send-advert 150', 'arm-timer advert', 'lower-prio-garp']);
  t.is(a.state, 'MASTER');
});

test('lower_prio_no_advert: a lower priority is not answered (RFC 5798 §6.4.3), the gratuitous ARPs still go', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150, primaryAddress: '10.211.0.1', lowerPrioNoAdvert: true }));
  a.handle({ type: 'start' });
  sim.run(DOWN_150 + 100);
  const fx = a.handle({ type: 'advert', source: '10.211.0.2', advert: { version: 2, vrid: 51, priority: 100, advertIntMs: 1000, addresses: ['10.211.0.100'], authType: 0 } });
  t.deepEqual(types(fx), ['lower-prio-garp']);
  t.is(a.state, 'MASTER');
});

test('higher_prio_send_advert: one advert at its own priority before stepping down', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 100, primaryAddress: '10.211.0.1', higherPrioSendAdvert: true }));
  a.handle({ type: 'start' });
  sim.run(DOWN_100 + 100);
  t.is(a.state, 'MASTER');
  const fx = a.handle({ type: 'advert', source: '10.211.0.2', advert: { version: 2, vrid: 51, priority: 150, advertIntMs: 1000, addresses: ['10.211.0.100'], authType: 0 } });
  t.deepEqual(types(fx).slice(0, 2), ['send-advert 100', 'cancel-timer advert']);
  t.is(a.state, 'BACKUP');
});

test('MASTER receiving a higher priority advert goes BACKUP and releases its VIPs', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150, primaryAddress: '10.211.0.1' }));
  a.handle({ type: 'start' });
  sim.run(DOWN_150 + 100);
  const fx = a.handle({ type: 'advert', source: '10.211.0.2', advert: { version: 2, vrid: 51, priority: 200, advertIntMs: 1000, addresses: ['10.211.0.100'], authType: 0 } });
  t.deepEqual(types(fx), ['cancel-timer advert', 'transition MASTER->BACKUP', 'release', 'arm-timer master-down']);
  t.like(fx[1], { reason: 'higher priority 200 from 10.211.0.2' });
  near(t, a.timers.get('master-down'), sim.t + DOWN_150, 'down timer');
  t.false(a.vips);
  t.is(a.router.stats.releasedMaster, 1);
});

test('preemption: a higher priority router that starts later takes over after its master-down interval', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150, primaryAddress: '10.211.0.1' }));
  const b = sim.add('b', params({ priority: 100, primaryAddress: '10.211.0.2' }));
  b.handle({ type: 'start' });
  sim.run(20_000);
  t.is(b.state, 'MASTER');
  a.handle({ type: 'start' });
  sim.run(20_000);
  t.is(a.state, 'MASTER');
  t.is(b.state, 'BACKUP');
  // a ignored b's lower adverts, so took over one master-down interval after starting
  near(t, sim.enteredAt(a, 'MASTER'), 20_000 + DOWN_150, 'a preempted');
  near(t, sim.enteredAt(b, 'BACKUP'), 20_000 + DOWN_150, 'b yielded at once');
  t.true((a.router.stats.ignored['lower-priority'] ?? 0) >= 3);
  t.false(b.vips);
  t.true(a.vips);
});

test('nopreempt: the higher priority router stays BACKUP while the master lives, and takes over when it dies', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150, preempt: false, primaryAddress: '10.211.0.1' }));
  const b = sim.add('b', params({ priority: 100, primaryAddress: '10.211.0.2' }));
  b.handle({ type: 'start' });
  sim.run(20_000);
  a.handle({ type: 'start' });
  sim.run(60_000);
  t.is(a.state, 'BACKUP');
  t.is(b.state, 'MASTER');
  b.dead = true;
  const last = sim.sentBy('b').at(-1)!.at;
  sim.run(10_000);
  t.is(a.state, 'MASTER');
  near(t, sim.enteredAt(a, 'MASTER'), last + DOWN_150, 'a took over');
});

test('preempt_delay: lower adverts are accepted for the delay, then ignored; takeover one master-down after the last accepted one', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150, preemptDelayMs: 5000, primaryAddress: '10.211.0.1' }));
  const b = sim.add('b', params({ priority: 100, primaryAddress: '10.211.0.2' }));
  b.handle({ type: 'start' });
  sim.run(20_000); // b master, adverts at DOWN_100 + k*1000
  a.handle({ type: 'start' });
  sim.run(1000);
  // the first lower advert started the delay
  const armed = a.of('arm-timer').find((e) => e.timer === 'preempt-delay');
  t.truthy(armed);
  t.is(armed?.ms, 5000);
  const firstLower = sim.sentBy('b', 20_000).at(0)!.at;
  near(t, a.timers.get('preempt-delay'), firstLower + 5000, 'preempt-delay due');
  sim.runUntil(firstLower + 5000);
  t.is(a.state, 'BACKUP');
  // adverts up to the expiry were accepted (down timer reset by them)
  const lastAccepted = sim.sentBy('b', 20_000, firstLower + 5000 - 0.001).at(-1)!.at;
  sim.run(10_000);
  t.is(a.state, 'MASTER');
  near(t, sim.enteredAt(a, 'MASTER'), lastAccepted + DOWN_150, 'takeover time');
  t.is(b.state, 'BACKUP');
});

test('preempt_delay is cancelled by an equal or higher priority advert', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150, preemptDelayMs: 5000, primaryAddress: '10.211.0.1' }));
  a.handle({ type: 'start' });
  const adv = (priority: number) => ({ type: 'advert' as const, source: '10.211.0.2', advert: { version: 2 as const, vrid: 51, priority, advertIntMs: 1000, addresses: ['10.211.0.100'], authType: 0 as const } });
  t.true(types(a.handle(adv(100))).includes('arm-timer preempt-delay'));
  sim.run(1000);
  t.true(types(a.handle(adv(200))).includes('cancel-timer preempt-delay'));
  t.false(a.timers.has('preempt-delay'));
  sim.run(1000);
  t.true(types(a.handle(adv(100))).includes('arm-timer preempt-delay'), 'a new lower advert starts it again');
});

test('tie-break after a split brain: equal priority, the higher primary address stays MASTER (RFC 5798 §6.4.3)', (t) => {
  const sim = new Sim();
  const lo = sim.add('lo', params({ priority: 100, primaryAddress: '10.211.0.1' }));
  const hi = sim.add('hi', params({ priority: 100, primaryAddress: '10.211.0.2' }));
  hi.segment = 1; // partitioned
  lo.handle({ type: 'start' });
  hi.handle({ type: 'start' });
  sim.run(10_000);
  t.is(lo.state, 'MASTER');
  t.is(hi.state, 'MASTER');
  hi.segment = 0; // healed
  sim.run(3000);
  t.is(hi.state, 'MASTER');
  t.is(lo.state, 'BACKUP');
  t.like(lo.of('transition').at(-1), { reason: 'equal priority 100 from higher address 10.211.0.2' });
  t.true(hi.vips);
  t.false(lo.vips);
});

test('equal priority while electing: the backup accepts an equal advert (RFC: greater than or equal) and stays BACKUP', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 100, primaryAddress: '10.211.0.1' }));
  const b = sim.add('b', params({ priority: 100, primaryAddress: '10.211.0.2' }));
  a.handle({ type: 'start' });
  sim.run(5000);
  b.handle({ type: 'start' });
  sim.run(30_000);
  t.is(a.state, 'MASTER');
  t.is(b.state, 'BACKUP');
});

test('addresses compare as unsigned numbers, IPv4 and IPv6', (t) => {
  t.is(compareAddresses('10.0.0.9', '10.0.0.10'), -1);
  t.is(compareAddresses('192.168.0.1', '10.0.0.1'), 1);
  t.is(compareAddresses('fe80::2', 'fe80::10'), -1);
  t.is(compareAddresses('fe80::1', 'fe80::1'), 0);
});

test('an advert from our own address at equal priority is ignored and counted', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 255, initialState: 'MASTER', primaryAddress: '10.211.0.1' }));
  a.handle({ type: 'start' });
  const fx = a.handle({ type: 'advert', source: '10.211.0.1', advert: a.router.advert() });
  t.deepEqual(fx, []);
  t.is(a.router.stats.ignored['own-address'], 1);
});

test('two address owners: the one that sees the other with a higher address steps down to 254 (keepalived)', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 255, initialState: 'MASTER', primaryAddress: '10.211.0.1' }));
  const b = sim.add('b', params({ priority: 255, initialState: 'MASTER', primaryAddress: '10.211.0.2' }));
  a.handle({ type: 'start' });
  sim.run(500);
  b.handle({ type: 'start' });
  sim.run(5000);
  t.is(a.state, 'BACKUP');
  t.is(a.router.priority, 254);
  t.is(b.state, 'MASTER');
});

test('fault as MASTER: priority 0, FAULT, release; the backup takes over after Skew_Time; recovery preempts back', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150, primaryAddress: '10.211.0.1' }));
  const b = sim.add('b', params({ priority: 100, primaryAddress: '10.211.0.2' }));
  a.handle({ type: 'start' });
  b.handle({ type: 'start' });
  sim.run(10_000);
  const at = sim.t;
  const fx = a.handle({ type: 'fault', fault: true, reason: 'interface eth0 down' });
  t.deepEqual(types(fx), ['cancel-timer advert', 'send-advert 0', 'transition MASTER->FAULT', 'release']);
  t.like(fx[2], { reason: 'interface eth0 down' });
  sim.run(2000);
  near(t, sim.enteredAt(b, 'MASTER'), at + SKEW_100, 'b fast takeover');
  // adverts in FAULT are ignored
  t.true((a.router.stats.ignored['not-running'] ?? 0) >= 1);
  t.is(a.state, 'FAULT');
  // a second fault report changes nothing
  t.deepEqual(a.handle({ type: 'fault', fault: true, reason: 'still down' }), []);
  const clearAt = sim.t;
  const up = a.handle({ type: 'fault', fault: false, reason: 'interface eth0 up' });
  t.deepEqual(types(up), ['transition FAULT->BACKUP', 'arm-timer master-down']);
  sim.run(10_000);
  t.is(a.state, 'MASTER');
  near(t, sim.enteredAt(a, 'MASTER'), clearAt + DOWN_150, 'a preempted back');
  t.is(b.state, 'BACKUP');
});

test('fault reported before start: start goes to FAULT; clearing it goes BACKUP', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params());
  t.deepEqual(a.handle({ type: 'fault', fault: true, reason: 'script chk failed' }), []);
  const fx = a.handle({ type: 'start' });
  t.deepEqual(types(fx), ['transition INIT->FAULT']);
  t.regex((fx[0] as { reason: string }).reason, /chk failed/);
  t.deepEqual(types(a.handle({ type: 'fault', fault: false, reason: 'ok' })), ['transition FAULT->BACKUP', 'arm-timer master-down']);
});

test('fault as BACKUP cancels the master-down timer; the owner goes straight back to MASTER when it clears', (t) => {
  const sim = new Sim();
  const b = sim.add('b', params());
  b.handle({ type: 'start' });
  t.deepEqual(types(b.handle({ type: 'fault', fault: true, reason: 'x' })), ['cancel-timer master-down', 'transition BACKUP->FAULT']);
  const o = sim.add('o', params({ priority: 255, initialState: 'MASTER' }));
  o.handle({ type: 'start' });
  o.handle({ type: 'fault', fault: true, reason: 'x' });
  t.deepEqual(types(o.handle({ type: 'fault', fault: false, reason: 'y' })), ['send-advert 255', 'transition FAULT->MASTER', 'take-over', 'arm-timer advert']);
});

test('v3 timings: master-down 360.937 ms at prio 100 / 0.1 s; Skew_Time fast takeover 60.937 ms', (t) => {
  const sim = new Sim();
  const p3 = { version: 3 as const, advertIntMs: 100 };
  const a = sim.add('a', params({ ...p3, priority: 150, primaryAddress: '10.211.0.1' }));
  const b = sim.add('b', params({ ...p3, priority: 100, primaryAddress: '10.211.0.2' }));
  b.handle({ type: 'start' });
  near(t, b.timers.get('master-down'), 360.937, 'v3 down');
  a.handle({ type: 'start' });
  sim.run(2000);
  t.is(a.state, 'MASTER');
  near(t, sim.enteredAt(a, 'MASTER'), masterDownIntervalMs(3, 150, 100), 'a elected');
  const stopAt = sim.t;
  a.handle({ type: 'stop' });
  sim.run(1000);
  near(t, sim.enteredAt(b, 'MASTER'), stopAt + 60.937, 'fast takeover');
  t.true(sim.sentBy('b').every((s) => s.advert.version === 3 && s.advert.advertIntMs === 100));
});

test('v3 backup learns Master_Adver_Interval from the master and uses it for master-down', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ version: 3, advertIntMs: 200, priority: 150, primaryAddress: '10.211.0.1' }));
  const b = sim.add('b', params({ version: 3, advertIntMs: 100, priority: 100, primaryAddress: '10.211.0.2' }));
  a.handle({ type: 'start' });
  b.handle({ type: 'start' });
  sim.run(5000);
  t.is(a.state, 'MASTER');
  const learned = masterDownIntervalMs(3, 100, 200); // 600 + 121.875
  near(t, learned, 721.875, 'formula');
  const last = sim.sentBy('a').at(-1)!.at;
  near(t, b.timers.get('master-down'), last + learned, 'b uses the learned interval');
  t.is(b.router.snapshot().masterAdverIntMs, 200);
  a.dead = true;
  sim.run(2000);
  near(t, sim.enteredAt(b, 'MASTER'), last + learned, 'takeover');
  // as master it advertises its own interval again
  t.is(sim.sentBy('b').at(-1)!.advert.advertIntMs, 100);
  t.is(b.router.snapshot().masterAdverIntMs, 100);
});

test('v2 does not learn the interval (RFC 3768: adverts with another interval are dropped by the codec)', (t) => {
  const sim = new Sim();
  const b = sim.add('b', params({ priority: 100 }));
  b.handle({ type: 'start' });
  b.handle({ type: 'advert', source: '10.211.0.1', advert: { version: 2, vrid: 51, priority: 150, advertIntMs: 3000, addresses: ['10.211.0.100'], authType: 0 } });
  near(t, b.timers.get('master-down'), DOWN_100, 'unchanged formula');
});

test('priority change in BACKUP moves the down timer by the change in Skew_Time (keepalived vrrp_set_effective_priority)', (t) => {
  const sim = new Sim();
  const b = sim.add('b', params({ priority: 100 }));
  b.handle({ type: 'start' });
  sim.run(1000);
  const before = b.timers.get('master-down')!;
  const fx = b.handle({ type: 'priority', priority: 50 });
  t.deepEqual(types(fx), ['arm-timer master-down']);
  near(t, b.timers.get('master-down'), before + (skewTimeMs(2, 50, 1000) - SKEW_100), 'shifted');
  t.is(b.router.priority, 50);
  t.deepEqual(b.handle({ type: 'priority', priority: 50 }), [], 'same priority: nothing');
  b.handle({ type: 'priority', priority: 999 });
  t.is(b.router.priority, 254, 'clamped to 254');
});

test('the owner ignores priority changes (keepalived: weights do not apply to 255)', (t) => {
  const sim = new Sim();
  const o = sim.add('o', params({ priority: 255, initialState: 'MASTER' }));
  o.handle({ type: 'start' });
  t.deepEqual(o.handle({ type: 'priority', priority: 100 }), []);
  t.is(o.router.priority, 255);
});

test('a master whose tracked priority drops below the backup loses the election to a preempting backup', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150, primaryAddress: '10.211.0.1' }));
  const b = sim.add('b', params({ priority: 100, primaryAddress: '10.211.0.2' }));
  a.handle({ type: 'start' });
  b.handle({ type: 'start' });
  sim.run(10_000);
  t.deepEqual(a.handle({ type: 'priority', priority: 90 }), [], 'a master does not react at once');
  sim.run(10_000);
  t.is(b.state, 'MASTER');
  t.is(a.state, 'BACKUP');
  t.is(sim.sentBy('a').at(-1)!.advert.priority, 90);
});

test('in-place update as MASTER: new priority and interval advertised at once; new VIPs taken over', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150 }));
  a.handle({ type: 'start' });
  sim.run(5000);
  t.is(a.state, 'MASTER');
  const fx = a.router.update(params({ priority: 120, advertIntMs: 2000, addresses: ['10.211.0.100', '10.211.0.101'] }));
  a.apply(fx);
  t.deepEqual(types(fx), ['send-advert 120', 'arm-timer advert', 'take-over']);
  t.like(fx[0], { advert: { priority: 120, advertIntMs: 2000, addresses: ['10.211.0.100', '10.211.0.101'] } });
  t.is(a.state, 'MASTER');
  const since = sim.t;
  sim.run(4000);
  t.deepEqual(sim.sentBy('a', since + 1).map((s) => s.at - since), [2000, 4000]);
  t.deepEqual(types(a.router.update(params({ priority: 120, advertIntMs: 2000, addresses: ['10.211.0.100', '10.211.0.101'] }))), ['send-advert 120', 'arm-timer advert']);
});

test('in-place update as BACKUP restarts the down timer with the new interval; incompatible changes throw a coded error', (t) => {
  const sim = new Sim();
  const b = sim.add('b', params({ priority: 100 }));
  b.handle({ type: 'start' });
  sim.run(1000);
  const fx = b.router.update(params({ priority: 100, advertIntMs: 2000 }));
  b.apply(fx);
  t.deepEqual(types(fx), ['arm-timer master-down']);
  near(t, b.timers.get('master-down'), 1000 + masterDownIntervalMs(2, 100, 2000), 'new down timer');
  const err = t.throws(() => b.router.update(params({ vrid: 52 })));
  t.is((err as { code?: string }).code, 'VRRP_UPDATE_INCOMPATIBLE');
  // turning preempt_delay off cancels a running delay
  b.handle({ type: 'advert', source: '10.211.0.1', advert: { version: 2, vrid: 51, priority: 50, advertIntMs: 2000, addresses: ['10.211.0.100'], authType: 0 } });
  t.false(b.timers.has('preempt-delay'));
  b.apply(b.router.update(params({ advertIntMs: 2000, preemptDelayMs: 3000 })));
  b.handle({ type: 'advert', source: '10.211.0.1', advert: { version: 2, vrid: 51, priority: 50, advertIntMs: 2000, addresses: ['10.211.0.100'], authType: 0 } });
  t.true(b.timers.has('preempt-delay'));
  const off = b.router.update(params({ advertIntMs: 2000, preemptDelayMs: 0 }));
  t.true(types(off).includes('cancel-timer preempt-delay'));
});

test('snapshot / restore of a BACKUP: the restored router takes over when the original would have', (t) => {
  const sim = new Sim();
  const b = sim.add('b', params({ priority: 100 }));
  b.handle({ type: 'start' });
  b.handle({ type: 'advert', source: '10.211.0.1', advert: { version: 2, vrid: 51, priority: 150, advertIntMs: 1000, addresses: ['10.211.0.100'], authType: 0 } });
  sim.run(1000);
  const snap = b.router.snapshot();
  t.is(snap.state, 'BACKUP');
  near(t, snap.timers.find((x) => x.timer === 'master-down')?.remainingMs, DOWN_100 - 1000, 'remaining');
  // JSON round trip: the snapshot is plain data that crosses a MessagePort
  const copy = JSON.parse(JSON.stringify(snap)) as typeof snap;
  const sim2 = new Sim();
  sim2.t = 50_000; // another thread, another clock origin
  const r = Router.restore(params({ priority: 100 }), copy, sim2.now);
  const n = sim2.adopt('b2', r);
  const fx = r.resume();
  t.deepEqual(types(fx), ['arm-timer master-down']);
  n.apply(fx);
  t.is(n.state, 'BACKUP');
  t.deepEqual(r.master, { address: '10.211.0.1', priority: 150 });
  sim2.run(DOWN_100 - 1000 - 0.001);
  t.is(n.state, 'BACKUP');
  sim2.run(1);
  t.is(n.state, 'MASTER');
  t.is(r.stats.advertsReceived, 1, 'counters carried over');
});

test('snapshot / restore of a MASTER: resume re-advertises and re-takes its VIPs', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 255, initialState: 'MASTER' }));
  a.handle({ type: 'start' });
  sim.run(300);
  const r = Router.restore(params({ priority: 255, initialState: 'MASTER' }), a.router.snapshot(), sim.now);
  t.is(r.state, 'MASTER');
  t.deepEqual(types(r.resume()), ['send-advert 255', 'take-over', 'arm-timer advert']);
  t.throws(() => Router.restore(params(), { ...a.router.snapshot(), v: 2 as 1 }, sim.now), { message: /snapshot version/ });
});

test('stale timer events are ignored and counted', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 255, initialState: 'MASTER' }));
  a.handle({ type: 'start' });
  t.deepEqual(a.handle({ type: 'timer', timer: 'master-down' }), []);
  t.deepEqual(a.handle({ type: 'timer', timer: 'preempt-delay' }), []);
  t.is(a.router.stats.staleTimers, 2);
});

test('transitions are counted by from->to', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150 }));
  a.handle({ type: 'start' });
  sim.run(5000);
  a.handle({ type: 'stop' });
  t.deepEqual(a.router.stats.transitions, { 'INIT->BACKUP': 1, 'BACKUP->MASTER': 1, 'MASTER->INIT': 1 });
  t.is(a.router.stats.becameMaster, 1);
});

test('adverts carry PASS authentication for v2 and none for v3', (t) => {
  const v2 = new Router(params({ authPass: '1111' }), () => 0);
  t.like(v2.advert(), { authType: 1, authData: '1111' });
  const v3 = new Router(params({ version: 3, authPass: '1111' }), () => 0);
  t.is(v3.advert().authType, 0);
  t.is(v3.advert().authData, undefined);
});

test('an advert for another VRID or version is ignored, whatever its priority', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150 }));
  a.handle({ type: 'start' });
  sim.run(5000);
  t.is(a.state, 'MASTER');
  const other = { version: 2 as const, vrid: 52, priority: 254, advertIntMs: 1000, addresses: ['10.211.0.100'], authType: 0 as const };
  t.deepEqual(a.handle({ type: 'advert', source: '10.211.0.9', advert: other }), []);
  t.deepEqual(a.handle({ type: 'advert', source: '10.211.0.9', advert: { ...other, vrid: 51, version: 3 } }), []);
  t.is(a.state, 'MASTER');
  t.is(a.router.stats.ignored.mismatch, 2);
});

test('hostile event sequences never throw and leave a consistent state (seeded)', (t) => {
  let x = 0x1234567;
  const next = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const timers = ['advert', 'master-down', 'preempt-delay'] as const;
  for (let run = 0; run < 50; run++) {
    const sim = new Sim();
    const n = sim.add('n', params({ priority: 1 + (next() % 255), preemptDelayMs: next() % 2 ? 2000 : 0, preempt: next() % 2 === 0, version: next() % 2 ? 3 : 2, advertIntMs: 1000 }));
    for (let i = 0; i < 300; i++) {
      const k = next() % 9;
      const ev =
        k === 0 ? { type: 'start' as const }
        : k === 1 ? { type: 'stop' as const }
        : k === 2 ? { type: 'fault' as const, fault: next() % 2 === 0, reason: 'r' }
        : k === 3 ? { type: 'priority' as const, priority: (next() % 300) - 20 }
        : k === 4 ? { type: 'sync' as const, to: (['MASTER', 'BACKUP', 'FAULT'] as const)[next() % 3]!, reason: 's' }
        : k === 5 ? { type: 'timer' as const, timer: timers[next() % 3]! }
        : { type: 'advert' as const, source: `10.211.0.${next() % 4}`, advert: { version: n.router.params.version, vrid: 51, priority: next() % 256, advertIntMs: 10 * (1 + (next() % 300)), addresses: ['10.211.0.100'], authType: 0 as const } };
      // an injected timer event stands for that timer firing (early): the caller forgets it
      if (ev.type === 'timer') n.timers.delete(ev.timer);
      t.notThrows(() => n.handle(ev));
      sim.run(next() % 3000);
      const s = n.router.state;
      // invariants: VIPs only as MASTER; MASTER has its advert timer; BACKUP its down timer; INIT/FAULT no timers
      t.is(n.vips, s === 'MASTER');
      if (s === 'MASTER') t.true(n.timers.has('advert'));
      if (s === 'BACKUP') t.true(n.timers.has('master-down'));
      if (s === 'INIT' || s === 'FAULT') t.is(n.timers.size, 0, JSON.stringify([...n.timers]) + JSON.stringify(n.effects.slice(-8)));
      t.true(n.router.priority >= 1 && n.router.priority <= 255);
    }
  }
});

test('daemon start-up: the master-down wait counts from exec (a start 300 ms after exec expires 300 ms sooner)', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150, initialState: 'MASTER', primaryAddress: '10.211.0.1' }));
  a.handle({ type: 'start', sinceMs: 300 });
  near(t, a.timers.get('master-down'), DOWN_150 - 300, 'master-down due');
  sim.runUntil(DOWN_150 - 300);
  t.is(a.state, 'MASTER');
});

test('daemon start-up: however slow the start, a backup listens at least Master_Down_Interval − Advertisement_Interval', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 150, initialState: 'MASTER', primaryAddress: '10.211.0.1' }));
  a.handle({ type: 'start', sinceMs: 5000 });
  near(t, a.timers.get('master-down'), DOWN_150 - 1000, 'master-down due');
  const b = new Sim().add('b', params({ priority: 150, primaryAddress: '10.211.0.1' }));
  b.handle({ type: 'start', sinceMs: -50 }); // a wall clock stepped back: never longer than the full interval
  near(t, b.timers.get('master-down'), DOWN_150, 'master-down due (clock stepped back)');
});

test('joint start (regression: a keepalived peer flapped): exec\'d together, ready 600 ms later, the higher priority still wins first', (t) => {
  for (const anchored of [true, false]) {
    const sim = new Sim();
    const a = sim.add('a', params({ priority: 150, initialState: 'MASTER', primaryAddress: '10.211.0.1' }));
    const b = sim.add('b', params({ priority: 100, initialState: 'BACKUP', primaryAddress: '10.211.0.2' }));
    b.handle({ type: 'start' });
    sim.runUntil(600);
    a.handle(anchored ? { type: 'start', sinceMs: 600 } : { type: 'start' });
    sim.run(20_000);
    // without the anchor the lower priority times out first (3609 ms < 600 + 3414 ms): the flap
    t.deepEqual(b.transitions(), anchored ? ['INIT->BACKUP'] : ['INIT->BACKUP', 'BACKUP->MASTER', 'MASTER->BACKUP']);
    t.is(a.state, 'MASTER');
  }
});

test('lost-owned (a tracked VIP/route/rule deleted): a master sends priority 0, releases, and is MASTER again after the skew time; others ignore it', (t) => {
  const sim = new Sim();
  const a = sim.add('a', params({ priority: 100 }));
  a.handle({ type: 'start' });
  sim.runUntil(DOWN_100);
  t.is(a.state, 'MASTER');
  const fx = a.handle({ type: 'lost-owned', reason: 'virtual address 10.211.0.100 deleted' });
  t.deepEqual(types(fx), ['send-advert 0', 'cancel-timer advert', 'transition MASTER->BACKUP', 'release', 'arm-timer master-down']);
  t.regex((fx[2] as { reason: string }).reason, /lost: virtual address/);
  sim.runUntil(DOWN_100 + SKEW_100 - 0.001);
  t.is(a.state, 'BACKUP');
  sim.runUntil(DOWN_100 + SKEW_100);
  t.is(a.state, 'MASTER');
  t.true(a.vips);
  t.deepEqual(a.handle({ type: 'stop' }).length > 0, true);
  t.deepEqual(a.handle({ type: 'lost-owned', reason: 'x' }), [], 'not MASTER: nothing');
});
