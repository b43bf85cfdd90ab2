import test from 'ava';
import { spawnSync } from 'node:child_process';
import { requireRoot } from '../../helpers/netns.ts';
import { repoRoot } from '../../helpers/routers.ts';

test('npm run lab -- --auto: the VIP moves to r2 when r1 dies and back when it returns, and the lab cleans up', (t) => {
  if (!requireRoot(t)) return;
  const r = spawnSync('bash', ['conf/lab/run.sh', '--auto'], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  t.log(r.stdout);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /held by: r1 +client reaches/);
  t.regex(r.stdout, /held by: r2 +client reaches/);
  t.regex(r.stdout, /lab: done/);
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  t.false(/vlab-/.test(left), 'lab namespaces left behind');
});
