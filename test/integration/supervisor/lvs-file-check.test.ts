/**
 * FILE_CHECK end to end: real files in a temporary directory, written the ways an operator
 * writes them (`echo N > f` from a shell, a rename into place, rm), watched through inotify,
 * moving the real servers' state and weight in the LVS host (run without IPVS: the desired
 * state is what status() reports).
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLvsHost } from './lvs-host-harness.ts';

async function until(what: string, pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('FILE_CHECK: the number written into the file drains, weights and restores real servers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vfc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const drain = join(dir, 'drain');
  const boost = join(dir, 'boost');
  writeFileSync(drain, '0\n');
  const text = `track_file drain {\n file ${drain}\n weight 0\n}\ntrack_file boost {\n file ${boost}\n weight 10\n init_file 2\n}\n` +
    'virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 127.0.0.2 80 {\n  weight 5\n  FILE_CHECK {\n   track_file drain\n  }\n }\n' +
    ' real_server 127.0.0.3 80 {\n  weight 5\n  FILE_CHECK {\n   track_file boost\n  }\n }\n' +
    ' real_server 127.0.0.4 80 {\n  weight 5\n  FILE_CHECK {\n   track_file boost\n   weight 1 reverse\n  }\n }\n}\n';
  const { host } = await startLvsHost(t, text);
  const view = (): Array<[string, boolean, number]> => host.status()[0]!.realServers.map((r) => [r.name, r.up, r.weight]);
  // init_file wrote 2 into the missing file before the first read
  t.is(readFileSync(boost, 'utf8'), '2\n');
  t.deepEqual(view(), [
    ['[127.0.0.2]:tcp:80', true, 5],
    ['[127.0.0.3]:tcp:80', true, 25],
    ['[127.0.0.4]:tcp:80', true, 3],
  ]);
  // an operator drains the first server the usual way: a shell truncates, then writes
  execFileSync('/bin/sh', ['-c', `echo 1 > ${drain}`]);
  await until('drained', () => view()[0]![1] === false);
  // a rename into place, as config management tools write
  writeFileSync(join(dir, '.boost.tmp'), '7\n');
  renameSync(join(dir, '.boost.tmp'), boost);
  await until('boosted', () => view()[1]![2] === 75);
  // 5 − 7: keepalived's effective weight may go negative; IPVS gets 0 (desired.ts)
  t.deepEqual(view()[2], ['[127.0.0.4]:tcp:80', true, -2]);
  // the file removed: its value is 0
  rmSync(drain);
  await until('restored', () => view()[0]![1] === true);
  t.false(existsSync(drain));
});
