/**
 * `net_namespace NAME` (and `-s NAME`): vigil started in the host's namespace runs its VRRP
 * inside the named one — the VIP appears on that namespace's eth0, the adverts go out
 * there, the pid stays the same — and it takes over from / hands back to a peer there.
 */
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { once } from 'node:events';
import { requireRoot, waitFor } from '../../helpers/netns.ts';
import { globalDefs, hasAddress, instanceBlock, repoRoot, routerLab, vigilEntry, waitAddress } from '../../helpers/routers.ts';

const VIP = '10.89.0.100';

for (const how of ['global_defs net_namespace', '-s']) {
  test.serial(`${how}: the daemon re-executes itself inside the namespace and runs VRRP there`, async (t) => {
    if (!requireRoot(t)) return;
    const p = routerLab(t, how === '-s' ? 'vnt' : 'vnn', how === '-s' ? 90 : 89);
    const vip = how === '-s' ? '10.90.0.100' : VIP;
    const extra = how === '-s' ? '' : `    net_namespace ${p.r1}\n`;
    const conf = p.dir.file('r1.conf', globalDefs('r1', extra) + instanceBlock({ state: 'MASTER', priority: 255, vip: `${vip}/24`, advertInt: '1' }));
    // started from the host's namespace, not under `ip netns exec`
    const proc = spawn(
      process.execPath,
      [...vigilEntry(), '-n', '-f', conf, '-p', join(p.dir.dir, 'r1.pid'), '--control-socket', join(p.dir.dir, 'r1.sock'), ...(how === '-s' ? ['-s', p.r1] : [])],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = once(proc, 'exit');
    t.teardown(() => void proc.kill('SIGKILL'));
    try {
      await waitAddress(p.r1, 'eth0', vip, true, 30_000);
      t.true(out.includes('"event":"daemon.netns"'), 'it said it entered the namespace');
      await waitFor('ready', () => out.includes('"event":"daemon.ready"'), 10_000, 20);
      const ready = out.split('\n').find((l) => l.includes('"event":"daemon.ready"')) ?? '';
      t.is((JSON.parse(ready) as { pid?: number }).pid, proc.pid, 'the same process, re-executed in place');
      // the namespace vigil was started in got nothing
      t.false(execFileSync('ip', ['-j', 'addr'], { encoding: 'utf8' }).includes(`"${vip}"`));
      t.false(hasAddress(p.c, 'eth0', vip));
      proc.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      t.is(code, 0);
      t.false(hasAddress(p.r1, 'eth0', vip), 'released on SIGTERM');
    } catch (e) {
      t.log(out);
      throw e;
    }
  });
}
