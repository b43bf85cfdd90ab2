/**
 * The VRRP threads' scheduling as the kernel reports it (/proc/PID/task/TID/stat: nice,
 * rt_priority, policy) for a running daemon: SCHED_RR 1 by default, keepalived's
 * `vrrp_rt_priority N` → SCHED_RR N, `vrrp_priority N` alone → nice N. The VRRP worker, which
 * reads its own sockets, is raised (run from the sources, the module-hooks thread tsx starts
 * from the worker inherits it too: 2); the main thread is not, also after a take-over (it runs the
 * VIP add and first gratuitous ARP at realtime priority for those few µs, then goes back).
 */
import test from 'ava';
import { requireRoot } from '../../helpers/netns.ts';
import { globalDefs, instanceBlock, outputOf, routerLab, startVigil, threadScheduling, waitAddress, waitReady } from '../../helpers/routers.ts';

const SCHED_OTHER = 0;
const SCHED_RR = 2;

for (const c of [
  { name: 'default: SCHED_RR 1', extra: '', want: { policy: SCHED_RR, rtPriority: 1, nice: 0 } },
  { name: 'vrrp_rt_priority 7: SCHED_RR 7', extra: '    vrrp_rt_priority 7\n', want: { policy: SCHED_RR, rtPriority: 7, nice: 0 } },
  { name: 'vrrp_priority -5 alone: nice -5', extra: '    vrrp_priority -5\n', want: { policy: SCHED_OTHER, rtPriority: 0, nice: -5 } },
]) {
  test.serial(`VRRP thread scheduling — ${c.name}`, async (t) => {
    if (!requireRoot(t)) return;
    const p = routerLab(t, 'vtp', 87);
    const conf = globalDefs('tp', c.extra) + instanceBlock({ state: 'BACKUP', priority: 100, vip: '10.87.0.100/24', advertInt: '1' });
    const a = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf));
    try {
      await waitReady(a);
      // alone on its segment it takes over: the main thread's realtime boost around the VIP
      // add and first gratuitous ARP must be over by then
      await waitAddress(p.r1, 'eth0', '10.87.0.100', true, 15_000);
      const all = threadScheduling(a.proc.pid!);
      const raised = all.filter((x) => x.policy !== SCHED_OTHER || x.nice !== 0);
      t.true(raised.length >= 1 && raised.length <= (process.env['VIGIL_TEST_DIST'] === '1' ? 1 : 2), `raised threads: ${JSON.stringify(raised)}`);
      for (const x of raised) t.like(x, c.want);
      t.like(all.find((x) => x.tid === a.proc.pid), { policy: SCHED_OTHER, nice: 0 }, 'the main thread stays normal');
      t.false(outputOf(a).includes('vrrp.priority-failed'));
    } catch (e) {
      t.log(outputOf(a));
      throw e;
    } finally {
      a.proc.kill('SIGTERM');
      await a.exited;
    }
  });
}
