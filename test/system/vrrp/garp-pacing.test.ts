/**
 * vrrp_garp_interval on the wire: the take-over's gratuitous ARPs (garp_master_repeat per
 * VIP) leave one per interval, as the client's capture times them.
 */
import test from 'ava';
import { requireRoot, watchWire } from '../../helpers/netns.ts';
import { globalDefs, instanceBlock, outputOf, routerLab, startVigil, waitAddress } from '../../helpers/routers.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test.serial('vrrp_garp_interval 0.2: six gratuitous ARPs, at least 200 ms apart', async (t) => {
  if (!requireRoot(t)) return;
  const p = routerLab(t, 'vgp', 86);
  const V4 = ['10.86.0.100', '10.86.0.101'];
  const conf =
    globalDefs('gp', '    vrrp_garp_interval 0.2\n') +
    instanceBlock({ state: 'MASTER', priority: 255, vrid: 63, vip: V4.map((v) => `${v}/24`).join('\n        '), extra: '    garp_master_repeat 3\n    garp_master_delay 0' });
  const capture = await watchWire(t, p.lab, p.c, 'arp');
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf));
  try {
    for (const v of V4) await waitAddress(p.r1, 'eth0', v, true, 15_000);
    await sleep(2000);
    const from = '02:56:00:00:00:01';
    const arps = capture.text().split('\n').filter((l) => l.includes(` ${from} > ff:ff:ff:ff:ff:ff, ethertype ARP`));
    t.is(arps.length, 6, arps.join('\n'));
    const at = arps.map((l) => {
      const [h, m, s] = l.split(' ')[0]!.split(':').map(Number);
      return ((h! * 60 + m!) * 60 + s!) * 1000;
    });
    const gaps = at.slice(1).map((x, i) => x - at[i]!);
    t.log(`gaps (ms): ${gaps.map((g) => g.toFixed(1)).join(', ')}`);
    t.true(gaps.every((g) => g >= 195), `gaps ${gaps.join(', ')}`);
  } catch (e) {
    t.log(outputOf(a));
    throw e;
  } finally {
    a.proc.kill('SIGTERM');
    await a.exited;
  }
});
