/**
 * The routing-daemon recipes in conf/examples/ that README's "More than one director" points
 * to are checked by the daemons' own parsers: `bird -p` (parse and exit) for BIRD 2 and
 * `vtysh -C` (dry run) for FRR, and vigil's example passes `vigil -t`. A recipe that drifts
 * out of their syntax fails here. Under CI=true a missing daemon is a failure, not a skip.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/routers.ts';

const EX = join(repoRoot, 'conf/examples');

function have(bin: string, t: { log(...v: unknown[]): void }): boolean {
  if (existsSync(bin)) return true;
  if (process.env['CI'] === 'true') throw new Error(`${bin} is missing and CI=true forbids skipping (install bird2 and frr)`);
  t.log(`skipped: ${bin} not installed`);
  return false;
}

test('BIRD 2 parses the director and router examples', (t) => {
  if (!have('/usr/sbin/bird', t)) return;
  for (const f of ['bird-director.conf', 'bird-router.conf']) {
    const r = spawnSync('/usr/sbin/bird', ['-p', '-c', join(EX, f)], { encoding: 'utf8' });
    t.is(r.status, 0, `${f}: ${r.stderr}`);
  }
});

test("FRR's dry run accepts the director example and refuses a broken one", (t) => {
  if (!have('/usr/bin/vtysh', t)) return;
  const ok = spawnSync('/usr/bin/vtysh', ['-C', '-f', join(EX, 'frr-director.conf')], { encoding: 'utf8' });
  t.is(ok.status, 0, ok.stdout + ok.stderr);
  // the check is real: a misspelt command is refused
  const bad = spawnSync('/bin/sh', ['-c', `sed 's/redistribute table/redistribute tabel/' '${join(EX, 'frr-director.conf')}' > /tmp/vigil-frr-bad.$$ && /usr/bin/vtysh -C -f /tmp/vigil-frr-bad.$$; rc=$?; rm -f /tmp/vigil-frr-bad.$$; exit $rc`], { encoding: 'utf8' });
  t.not(bad.status, 0);
});

test('vigil -t accepts the announce_route example', (t) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), '-t', '-f', join(EX, 'announce-route.conf')], { encoding: 'utf8', cwd: repoRoot });
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, '');
});
