import test from 'ava';
import { CHECKERS, runAttempt, runsIn, type CheckKind, type CheckTask, type SpawnerCheckTask } from '../../../src/check/registry.ts';
import { POOL_CHECKERS, runPoolAttempt } from '../../../src/check/pool-checkers.ts';

test('every task kind has one entry; only checks that fork or need a main thread run in the spawner', (t) => {
  const kinds = Object.keys(CHECKERS).sort();
  t.deepEqual(kinds, ['dns', 'http', 'misc', 'ping', 'smtp', 'tcp', 'udp']);
  const spawner = kinds.filter((k) => CHECKERS[k as CheckKind].runsIn === 'spawner');
  // SpawnerCheckTask must name exactly these kinds: this assignment fails to compile otherwise
  const spawnerKinds: Record<SpawnerCheckTask['kind'], true> = { misc: true, ping: true };
  t.deepEqual(spawner, Object.keys(spawnerKinds).sort());
  t.is(runsIn({ kind: 'misc', argv: ['true'], timeoutMs: 1000, dynamic: false }), 'spawner');
  t.is(runsIn({ kind: 'tcp', address: '127.0.0.1', port: 1, connectTimeoutMs: 1000 }), 'checker-pool');
});

test('runAttempt refuses a bad endpoint or an unknown kind with a reason, never a throw', async (t) => {
  const bad = await runAttempt({ kind: 'tcp', address: 'example.com', port: 80, connectTimeoutMs: 1000 });
  t.like(bad, { ok: false, reason: 'bad-task' });
  t.regex(bad.detail ?? '', /not an IP address/);
  const port0 = await runAttempt({ kind: 'dns', address: '127.0.0.1', port: 0, connectTimeoutMs: 1000, queryType: 'A', name: '.' });
  t.like(port0, { ok: false, reason: 'bad-task' });
  const unknown = await runAttempt({ kind: 'nope' } as unknown as CheckTask);
  t.like(unknown, { ok: false, reason: 'bad-task' });
  t.regex(unknown.detail ?? '', /unknown task kind "nope"/);
});

test('the checker threads\' table holds exactly the checker-pool kinds, and refuses a spawner task', async (t) => {
  const pool = Object.keys(CHECKERS).filter((k) => CHECKERS[k as CheckKind].runsIn === 'checker-pool');
  t.deepEqual(Object.keys(POOL_CHECKERS).sort(), pool.sort());
  const misc = await runPoolAttempt({ kind: 'misc', argv: ['true'], timeoutMs: 1000, dynamic: false } as unknown as Parameters<typeof runPoolAttempt>[0]);
  t.like(misc, { ok: false, reason: 'bad-task' });
  t.regex(misc.detail ?? '', /unknown task kind "misc"/);
});
