/**
 * The spawner process: runs vrrp_script and MISC_CHECK tasks (child processes with their
 * deadlines and kill ladders, src/check/spawner-task.ts) on behalf of the daemon,
 * which talks to it over the Node IPC channel. See src/check/spawner.ts for why it is a
 * process of its own.
 */
import { runSpawnerTask } from '../src/check/spawner-task.ts';
import type { SpawnerReply, SpawnerRequest } from '../src/check/spawner.ts';

if (!process.send) throw new Error('workers/spawner.ts must be started by the daemon with an IPC channel');
const send = process.send.bind(process);

process.on('message', (req: SpawnerRequest) => {
  void runSpawnerTask(req.task).then(
    (result) => send({ id: req.id, ok: true, result } satisfies SpawnerReply),
    (e: unknown) => send({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies SpawnerReply),
  );
});
// The daemon is gone (its end of the channel closed): nothing left to serve.
process.on('disconnect', () => process.exit(0));
