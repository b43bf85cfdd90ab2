/**
 * A VRRP worker that is terminated (or crashes) runs no cleanup. terminate() must return,
 * the fd ledger must let the supervisor close what the worker left open, and a worker whose
 * sockets are watched on its own loop (fd-poll.ts) must be torn down without bringing the
 * process down, also while datagrams keep arriving (process.exit tears workers down too).
 */
import test from 'ava';
import { requireRoot, waitFor } from '../../helpers/netns.ts';
import { makePair, runFixture } from './lab.ts';

for (const flood of [false, true]) {
  test.serial(`terminated owner${flood ? ', datagrams arriving' : ''}: terminate() returns, the ledger closes what was left, the process exits cleanly`, async (t) => {
    if (!requireRoot(t)) return t.pass();
    const pair = await makePair();
    t.teardown(() => pair.lab.removeAll());
    const sender = flood ? runFixture(pair, pair.b, 'hostile-send', { count: 2_000_000, dst: '224.0.0.18', src: '10.211.0.2', marker: 'cafef00d' }) : undefined;
    t.teardown(() => sender?.child.kill('SIGKILL'));
    const f = runFixture(pair, pair.a, 'terminate-owner', { waitMs: 300 });
    const code = await new Promise<number | null>((r) => f.child.once('close', (c) => r(c)));
    const r = f.out[0]!;
    t.is(r['event'], 'done', f.stderr());
    t.log(`terminate() took ${Math.round(r['terminateMs'] as number)} ms`);
    t.true((r['terminateMs'] as number) < 10_000, 'terminate() returned');
    t.deepEqual(r['before'], { raw: 1, packet: 1 }, 'a terminated worker leaves its sockets open');
    t.true((r['closed'] as number) >= 2, 'the ledger held them');
    t.deepEqual(r['after'], { raw: 0, packet: 0 }, 'closeLedgerFds closed them');
    t.is(code, 0, `process.exit() under a polling worker: ${f.stderr()}`);
  });
}
