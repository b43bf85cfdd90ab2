/**
 * announce_route on a kernel without IPVS (this host's): the daemon must not announce a
 * director that cannot forward. It still puts the VIP on lo, removes a stale route of its
 * protocol left in table 198 (an operator's static route there stays), reports every route
 * as withdrawn for `ipvs` in status, answers `vigil drain`/`undrain`, and leaves nothing of
 * its own behind on SIGTERM. (With IPVS the routes are announced: test/kernel/announce-*.)
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { NetnsLab, nsExec, requireRoot, waitFor } from '../../helpers/netns.ts';
import { outputOf, repoRoot, RouterDir, startVigil, vigilEntry } from '../../helpers/routers.ts';
import { controlRequest } from '../../../src/supervisor/control-client.ts';
import type { VigilStatus } from '../../../src/supervisor/dumps.ts';
import { openIpvs } from '../../../src/netlink/ipvs/client.ts';

const VIP = '10.213.19.10';

function table198(ns: string): string[] {
  return (JSON.parse(nsExec(ns, ['ip', '-j', 'route', 'show', 'table', '198'])) as Array<{ dst: string; protocol?: string }>).map((r) => `${r.dst} ${r.protocol ?? ''}`);
}

function onLo(ns: string): boolean {
  const j = JSON.parse(nsExec(ns, ['ip', '-j', 'addr', 'show', 'dev', 'lo'])) as Array<{ addr_info: Array<{ local: string }> }>;
  return (j[0]?.addr_info ?? []).some((a) => a.local === VIP);
}

test('without IPVS nothing is announced; the VIP is on lo, stale routes go, drain answers, stop cleans up', async (t) => {
  if (!requireRoot(t)) return;
  try {
    await (await openIpvs({ timeoutMs: 2000 })).close();
    t.log('this kernel has IPVS: the kernel suite covers announcing; nothing to prove here');
    t.pass();
    return;
  } catch {
    /* no IPVS: the case under test */
  }
  const lab = new NetnsLab('vai');
  const dir = new RouterDir();
  t.teardown(() => {
    lab.removeAll();
    dir.remove();
  });
  const d = lab.addNs('d');
  nsExec(d, ['ip', 'route', 'add', '10.213.19.77/32', 'dev', 'lo', 'table', '198', 'proto', '248']);
  nsExec(d, ['ip', 'route', 'add', '10.213.19.99/32', 'dev', 'lo', 'table', '198', 'proto', 'static']);
  const conf = dir.file(
    'd.conf',
    `virtual_server ${VIP} 80 {\n    lb_algo mh\n    lb_kind DR\n    announce_route {\n        table 198\n        withdraw_grace 0.2\n    }\n    real_server 10.0.0.2 80 {\n    }\n}\n`,
  );
  const sock = join(dir.dir, 'd.sock');
  const v = startVigil(lab, d, dir, 'd', conf, ['-C']);
  const status = async (): Promise<VigilStatus> => {
    const r = await controlRequest('status', sock, 10_000);
    if (!r.ok) throw new Error(r.error.message);
    return r.result as VigilStatus;
  };
  try {
    await waitFor('daemon ready', () => outputOf(v).includes('"event":"daemon.ready"'), 60_000, 50);
    await waitFor('stale route removed', () => !table198(d).includes('10.213.19.77 248'), 10_000, 50);
    t.deepEqual(table198(d), ['10.213.19.99 static'], 'nothing announced; the static route stays');
    t.true(onLo(d));
    t.like((await status()).announce, { drained: false, routes: [{ prefix: `${VIP}/32`, announced: false, reason: 'ipvs' }] });
    t.regex(outputOf(v), /"event":"announce.no-ipvs"/);
    const drain = spawnSync('ip', ['netns', 'exec', d, process.execPath, ...vigilEntry(), 'drain', '--control-socket', sock], { cwd: repoRoot, encoding: 'utf8' });
    t.is(drain.status, 0, drain.stderr);
    t.regex(drain.stdout, /DRAINED/);
    t.like((await status()).announce, { drained: true, routes: [{ reason: 'drain' }] });
    const undrain = spawnSync('ip', ['netns', 'exec', d, process.execPath, ...vigilEntry(), 'undrain', '--json', '--control-socket', sock], { cwd: repoRoot, encoding: 'utf8' });
    t.is(undrain.status, 0, undrain.stderr);
    t.like(JSON.parse(undrain.stdout), { drained: false, routes: [{ reason: 'ipvs' }] });
    v.proc.kill('SIGTERM');
    t.is((await v.exited).code, 0);
    t.false(onLo(d), 'VIP off lo after stop');
    t.deepEqual(table198(d), ['10.213.19.99 static']);
  } catch (e) {
    t.log(outputOf(v));
    throw e;
  }
});
