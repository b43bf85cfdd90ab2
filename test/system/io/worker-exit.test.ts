/**
 * A VRRP worker that is terminated (or crashes) runs no cleanup; its reader thread goes
 * with it. terminate() must not hang on a reader blocked in poll(), and the fd ledger must
 * let the supervisor close what the worker left open.
 */
import test from 'ava';
import { requireRoot, waitFor } from '../../helpers/netns.ts';
import { makePair, runFixture } from './lab.ts';

for (const waitReaderMs of [0, 2000]) {
  test.serial(`terminated owner (reader ${waitReaderMs ? 'running' : 'maybe still starting'}): terminate() returns, the ledger closes what was left`, async (t) => {
    if (!requireRoot(t)) return t.pass();
    const pair = await makePair();
    t.teardown(() => pair.lab.removeAll());
    const f = runFixture(pair, pair.a, 'terminate-owner', { waitReaderMs });
    await waitFor('the fixture to report', () => f.out.length > 0, 30_000);
    const r = f.out[0]!;
    t.is(r['event'], 'done', f.stderr());
    t.log(`terminate() took ${Math.round(r['terminateMs'] as number)} ms`);
    t.true((r['terminateMs'] as number) < 10_000, 'terminate() did not hang on the reader thread');
    t.deepEqual(r['before'], { raw: 1, packet: 1 }, 'a terminated worker leaves its sockets open');
    t.true((r['closed'] as number) >= 2, 'the ledger held them (and the reader eventfd, if started)');
    t.deepEqual(r['after'], { raw: 0, packet: 0 }, 'closeLedgerFds closed them');
  });
}
