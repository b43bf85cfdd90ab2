/**
 * The PING_CHECK process: runs ICMP echo attempts on behalf of the daemon, which talks to it
 * over the Node IPC channel (raw-socket works only on a process's main thread). Started with
 * the first PING_CHECK attempt; see src/check/spawner.ts. The checkers load with the first
 * attempt, not before.
 */
import type { SpawnerReply, SpawnerRequest } from '../src/check/spawner.ts';

if (!process.send) throw new Error('workers/spawner.ts must be started by the daemon with an IPC channel');
const send = process.send.bind(process);

process.on('message', (req: SpawnerRequest) => {
  void import('../src/check/registry.ts')
    .then(({ runAttempt }) => runAttempt(req.task))
    .then(
      (result) => send({ id: req.id, ok: true, result } satisfies SpawnerReply),
      (e: unknown) => send({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies SpawnerReply),
    );
});
// The daemon is gone (its end of the channel closed): nothing left to serve.
process.on('disconnect', () => process.exit(0));
