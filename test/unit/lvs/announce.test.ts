import test from 'ava';
import type { AnnounceRoute } from '../../../src/config/model.ts';
import { announcedRouteKey, announcements, announceTables, vipsOnLo, withdrawGraceMs, type AnnouncedRoute } from '../../../src/lvs/announce.ts';
import { Announcer, RETRY_INITIAL_MS, RETRY_MAX_MS, type AnnounceEvent, type RouteChange, type RouteError, type RouteWriter } from '../../../src/lvs/announcer.ts';
import { computeDesired, type CheckResult } from '../../../src/lvs/desired.ts';
import { realServerKey } from '../../../src/lvs/keys.ts';
import { FakeClock, settle } from '../check/fake-clock.ts';
import { config, ipKey, loc, rs, vs } from './build.ts';

const ar = (over: Partial<AnnounceRoute> = {}): AnnounceRoute => ({ table: 198, protocol: 248, withdrawGraceMs: 2000, loc, ...over });
const up = { drained: false, stopping: false };

/** Two real servers, quorum 2 with hysteresis 1 on the first VIP; a second VIP with quorum 1. */
function lab() {
  const web = vs(ipKey('10.213.9.10', 80), [rs('10.0.0.11', 80), rs('10.0.0.12', 80), rs('10.0.0.13', 80)], { quorum: 2, hysteresis: 1, announceRoute: ar() });
  const tls = vs(ipKey('10.213.9.10', 443), [rs('10.0.0.11', 443)], { announceRoute: ar() });
  const dns = vs(ipKey('2001:db8::53', 53), [rs('2001:db8::1', 53)], { protocol: 'UDP', announceRoute: ar({ metric: 5 }) });
  const plain = vs(ipKey('10.213.9.99', 80), [rs('10.0.0.11', 80)]);
  return { cfg: config([web, tls, dns, plain]), web, tls, dns };
}

test('one route per VIP and block settings, shared by the virtual servers of that VIP; /128 for IPv6; none without the block', (t) => {
  const { cfg } = lab();
  const st = computeDesired(cfg, new Map()).state;
  const a = announcements(cfg, st, up);
  t.deepEqual([...a.keys()], ['198/248/-/10.213.9.10/32', '198/248/5/2001:db8::53/128']);
  const v4 = a.get('198/248/-/10.213.9.10/32')!;
  t.true(v4.up);
  t.deepEqual(v4.vsKeys, ['10.213.9.10:80/TCP', '10.213.9.10:443/TCP']);
  t.deepEqual(a.get('198/248/5/2001:db8::53/128')!.route, { address: '2001:db8::53', family: 6, prefixLen: 128, table: 198, protocol: 248, metric: 5 });
  t.deepEqual(vipsOnLo(cfg), [
    { address: '10.213.9.10', family: 4 },
    { address: '2001:db8::53', family: 6 },
  ]);
  t.deepEqual(announceTables(cfg), [{ table: 198, protocol: 248 }]);
  t.is(withdrawGraceMs(cfg), 2000);
  t.is(withdrawGraceMs(config([])), 0);
  // before any quorum is computed, nothing is up
  t.false(announcements(cfg, undefined, up).get('198/248/-/10.213.9.10/32')!.up);
});

test('quorum with hysteresis decides; the shared route stays while any of its virtual servers is up', (t) => {
  const { cfg, web, tls } = lab();
  const results = new Map<string, CheckResult>();
  const key = '198/248/-/10.213.9.10/32';
  let st = computeDesired(cfg, results).state;
  const set = (v: typeof web, i: number, isUp: boolean): void => void results.set(realServerKey(v, v.realServers[i]!), { up: isUp });
  // web: 3 up (quorum 2, hysteresis 1: lost below 1, i.e. at 0 up); tls keeps the route too
  set(web, 0, false);
  set(web, 1, false);
  st = computeDesired(cfg, results, st).state;
  t.true(st.vs.get('10.213.9.10:80/TCP')!.quorumUp, 'one up is not below quorum − hysteresis');
  set(tls, 0, false);
  st = computeDesired(cfg, results, st).state;
  t.true(announcements(cfg, st, up).get(key)!.up, 'web still up');
  set(web, 2, false);
  st = computeDesired(cfg, results, st).state;
  const down = announcements(cfg, st, up).get(key)!;
  t.false(down.up);
  t.is(down.reason, 'quorum');
  // regained only at quorum + hysteresis = 3 for web, or tls back
  set(web, 0, true);
  set(web, 1, true);
  st = computeDesired(cfg, results, st).state;
  t.false(announcements(cfg, st, up).get(key)!.up);
  set(tls, 0, true);
  st = computeDesired(cfg, results, st).state;
  t.true(announcements(cfg, st, up).get(key)!.up);
});

test('drain and stop withdraw everything, with their reason (stop over drain)', (t) => {
  const { cfg } = lab();
  const st = computeDesired(cfg, new Map()).state;
  t.deepEqual([...announcements(cfg, st, { drained: true, stopping: false }).values()].map((a) => [a.up, a.reason]), [[false, 'drain'], [false, 'drain']]);
  t.deepEqual([...announcements(cfg, st, { drained: true, stopping: true }).values()].map((a) => [a.up, a.reason]), [[false, 'stop'], [false, 'stop']]);
});

test('a group announces each of its addresses; alpha starts withdrawn', (t) => {
  const g = { name: 'G', loc, entries: [{ kind: 'ip' as const, address: '10.213.9.20', family: 4 as const, port: 80, rangeEnd: '21', loc }, { kind: 'fwmark' as const, fwmark: 3, loc }] };
  const grp = vs({ kind: 'group', name: 'G' }, [rs('10.0.0.11', 80)], { announceRoute: ar(), alpha: true });
  const cfg = config([grp], [g]);
  const a = announcements(cfg, computeDesired(cfg, new Map()).state, up);
  t.deepEqual([...a.keys()], ['198/248/-/10.213.9.20/32', '198/248/-/10.213.9.21/32']);
  t.true([...a.values()].every((x) => !x.up && x.reason === 'quorum'));
});

/** A writer that records batches and answers with what `answer` says (default: done). */
class RecordingWriter implements RouteWriter {
  readonly batches: string[][] = [];
  answer: (c: RouteChange) => RouteError | undefined = () => undefined;
  async apply(changes: readonly RouteChange[]): Promise<Array<RouteError | undefined>> {
    this.batches.push(changes.map((c) => `${c.op} ${c.route.address}`));
    return changes.map((c) => this.answer(c));
  }
}

const route = (address: string): AnnouncedRoute => ({ address, family: 4, prefixLen: 32, table: 198, protocol: 248 });
const want = (address: string, isUp: boolean, reason?: 'quorum' | 'drain' | 'stop') => {
  const r = route(address);
  return [announcedRouteKey(r), { route: r, up: isUp, ...(reason ? { reason } : {}), vsKeys: [] }] as const;
};

function announcer() {
  const clock = new FakeClock();
  const writer = new RecordingWriter();
  const events: AnnounceEvent[] = [];
  const a = new Announcer({ writer, setTimer: clock.setTimer, onEvent: (e) => events.push(e) });
  const brief = (): string[] => events.splice(0).map((e) => (e.type === 'down' ? `down ${e.route.address} ${e.reason}` : e.type === 'up' ? `up ${e.route.address}` : `failed ${e.op} ${e.route.address} ${e.error.errno} retry ${e.retryInMs}`));
  return { clock, writer, a, brief };
}

test('announcer: adds and withdraws the difference in one batch, withdrawals first; nothing to do sends nothing', async (t) => {
  const { a, writer, brief } = announcer();
  await a.update(new Map([want('10.1.0.1', true), want('10.1.0.2', true), want('10.1.0.3', false, 'quorum')]));
  t.deepEqual(writer.batches, [['add 10.1.0.1', 'add 10.1.0.2']]);
  t.deepEqual(brief(), ['up 10.1.0.1', 'up 10.1.0.2']);
  await a.update(new Map([want('10.1.0.1', false, 'drain'), want('10.1.0.2', true), want('10.1.0.3', true)]));
  t.deepEqual(writer.batches[1], ['del 10.1.0.1', 'add 10.1.0.3']);
  t.deepEqual(brief(), ['down 10.1.0.1 drain', 'up 10.1.0.3']);
  await a.update(new Map([want('10.1.0.1', false, 'drain'), want('10.1.0.2', true), want('10.1.0.3', true)]));
  t.is(writer.batches.length, 2);
  // a route whose virtual server is gone from the config is removed
  await a.update(new Map([want('10.1.0.2', true)]));
  t.deepEqual(brief(), ['down 10.1.0.3 removed']);
});

test('announcer: adopted routes stay without a flap when wanted; the stale ones go', async (t) => {
  const { a, writer, brief } = announcer();
  a.adopt([route('10.1.0.1'), route('10.1.0.9')]);
  await a.update(new Map([want('10.1.0.1', true)]));
  t.deepEqual(writer.batches, [['del 10.1.0.9']]);
  t.deepEqual(brief(), ['down 10.1.0.9 stale']);
  t.true(a.isHeld(announcedRouteKey(route('10.1.0.1'))));
});

test('announcer: a refused route is reported and retried with doubling back-off until it is taken or no longer wanted', async (t) => {
  const { a, writer, brief, clock } = announcer();
  let refuse = true;
  writer.answer = (c) => (refuse && c.op === 'add' && c.route.address === '10.1.0.2' ? { code: 'VIGIL_NL_ENETUNREACH', errno: 'ENETUNREACH', message: 'no' } : undefined);
  await a.update(new Map([want('10.1.0.1', true), want('10.1.0.2', true)]));
  t.deepEqual(brief(), ['up 10.1.0.1', `failed add 10.1.0.2 ENETUNREACH retry ${RETRY_INITIAL_MS}`]);
  await clock.advance(RETRY_INITIAL_MS - 1);
  t.is(writer.batches.length, 1);
  await clock.advance(1);
  t.deepEqual(writer.batches[1], ['add 10.1.0.2']);
  t.deepEqual(brief(), [`failed add 10.1.0.2 ENETUNREACH retry ${RETRY_INITIAL_MS * 2}`]);
  for (let i = 0; i < 12; i++) await clock.advance(RETRY_MAX_MS);
  const last = brief().at(-1);
  t.is(last, `failed add 10.1.0.2 ENETUNREACH retry ${RETRY_MAX_MS}`, 'capped');
  refuse = false;
  await clock.advance(RETRY_MAX_MS);
  t.deepEqual(brief(), ['up 10.1.0.2']);
  t.is(clock.armed(), 0, 'no retry once done');
  // refused again, then no longer wanted: the retry finds nothing to do
  refuse = true;
  await a.update(new Map([want('10.1.0.1', true)]));
  t.deepEqual(brief(), ['down 10.1.0.2 removed']);
  t.deepEqual(writer.batches.at(-1), ['del 10.1.0.2']);
  await a.update(new Map([want('10.1.0.1', true), want('10.1.0.2', true)]));
  t.is(brief().length, 1);
  await a.update(new Map([want('10.1.0.1', true)]));
  const n = writer.batches.length;
  await clock.advance(RETRY_MAX_MS);
  t.is(writer.batches.length, n);
});

test('announcer: a change of wants during a batch runs once more after it with the newest wants', async (t) => {
  const clock = new FakeClock();
  const batches: string[][] = [];
  let release!: () => void;
  const writer: RouteWriter = {
    apply: async (changes) => {
      batches.push(changes.map((c) => `${c.op} ${c.route.address}`));
      if (batches.length === 1) await new Promise<void>((r) => (release = r));
      return changes.map(() => undefined);
    },
  };
  const a = new Announcer({ writer, setTimer: clock.setTimer, onEvent: () => undefined });
  const first = a.update(new Map([want('10.1.0.1', true)]));
  await settle();
  void a.update(new Map([want('10.1.0.1', false, 'quorum')]));
  void a.update(new Map([want('10.1.0.1', false, 'stop')]));
  release();
  await first;
  await a.idle();
  t.deepEqual(batches, [['add 10.1.0.1'], ['del 10.1.0.1']]);
});
