/**
 * track_file against the real thing: a vigil in a namespace tracks two files; numbers an
 * operator writes into them (in place, by a rename, by removing the file) move the priority
 * its adverts carry, and put it in FAULT (VIP released, adverts stop) when keepalived would.
 */
import test from 'ava';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireRoot, waitFor, watchWire } from '../../helpers/netns.ts';
import { controlRequest } from '../../../src/supervisor/control-client.ts';
import { globalDefs, instanceBlock, outputOf, routerLab, startVigil, waitAddress, waitReady } from '../../helpers/routers.ts';

interface StatusView {
  instances: Array<{ name: string; state: string; priority: number }>;
}

test.serial('track_file: the advertised priority follows the number in the file; ≤ -254 and weight 0 with non-zero are FAULT', async (t) => {
  if (!requireRoot(t)) return;
  const p = routerLab(t, 'vtf', 83);
  const VIP = '10.83.0.100';
  const weighted = join(p.dir.dir, 'drain');
  const gate = join(p.dir.dir, 'gate');
  const conf =
    globalDefs('r1') +
    `track_file drain {\n    file ${weighted}\n    weight -10\n    init_file 0\n}\n` +
    `vrrp_track_file gate {\n    file ${gate}\n}\n` +
    instanceBlock({
      state: 'MASTER',
      priority: 100,
      vip: `${VIP}/24`,
      advertInt: '0.1',
      version: 3,
      extra: '    track_file {\n        drain\n        gate weight 0\n    }',
    });
  const wire = await watchWire(t, p.lab, p.c, 'ip proto 112');
  const r = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf));
  const sock = join(p.dir.dir, 'r1.sock');
  const status = async (): Promise<{ state: string; priority: number } | undefined> => {
    const res = await controlRequest('status', sock).catch(() => undefined);
    if (!res?.ok) return undefined;
    return (res.result as StatusView).instances.find((i) => i.name === 'VI_1');
  };
  const advertising = async (prio: number): Promise<number> => {
    const mark = wire.text().length;
    const re = new RegExp(`vrid 51, prio ${prio},`);
    return waitFor(`adverts with prio ${prio}`, () => re.test(wire.text().slice(mark)), 5000, 10);
  };
  try {
    await waitReady(r);
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    await advertising(100);
    t.like(await status(), { state: 'MASTER', priority: 100 }, 'init_file created the file with 0; the missing gate file reads 0');

    writeFileSync(weighted, '3\n');
    t.log(`3 × -10: adverts at prio 70 after ${(await advertising(70)).toFixed(0)} ms`);
    t.like(await status(), { state: 'MASTER', priority: 70 });

    writeFileSync(join(p.dir.dir, 'tmp'), '-2\n');
    renameSync(join(p.dir.dir, 'tmp'), weighted);
    await advertising(120);

    writeFileSync(weighted, '26\n');
    await waitAddress(p.r1, 'eth0', VIP, false, 5000);
    t.like(await status(), { state: 'FAULT' }, '26 × -10 = -260 ≤ -254: FAULT');

    writeFileSync(weighted, '25\n');
    await waitAddress(p.r1, 'eth0', VIP, true, 5000);
    await advertising(1);
    t.like(await status(), { state: 'MASTER', priority: 1 }, '-250: out of FAULT, priority clamped to 1');

    rmSync(weighted);
    await advertising(100);

    writeFileSync(gate, '1\n');
    await waitAddress(p.r1, 'eth0', VIP, false, 5000);
    t.like(await status(), { state: 'FAULT' }, 'weight 0: a non-zero value is FAULT');
    writeFileSync(gate, '0\n');
    await waitAddress(p.r1, 'eth0', VIP, true, 5000);
    t.like(await status(), { state: 'MASTER', priority: 100 });
    t.true(outputOf(r).includes('"event":"track.file"'));
  } catch (e) {
    t.log(outputOf(r));
    throw e;
  } finally {
    r.proc.kill('SIGTERM');
    await r.exited;
  }
});
