/**
 * The VRRP threads' scheduling as the kernel reports it (/proc/PID/task/TID/stat: nice,
 * rt_priority, policy) for a running daemon: SCHED_RR 1 by default, keepalived's
 * `vrrp_rt_priority N` → SCHED_RR N, `vrrp_priority N` alone → nice N. The VRRP worker, which
 * reads its own sockets, is raised (run from the sources, the module-hooks thread tsx starts
 * from the worker is raised too); the main thread is not, also after a take-over (it runs the
 * VIP add and first gratuitous ARP at realtime priority for those few µs, then goes back). The
 * worker is created at the start-up's realtime priority: its isolate comes up on the path to
 * the first advert.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { requireRoot } from '../../helpers/netns.ts';
import { globalDefs, instanceBlock, outputOf, repoRoot, routerLab, startVigil, threadScheduling, waitAddress, waitReady } from '../../helpers/routers.ts';

const SCHED_OTHER = 0;
const SCHED_RR = 2;
/** what systemd does before it execs vigil.service's ExecStart */
const SERVICE = ['chrt', '--reset-on-fork', '--rr', '1'];

for (const c of [
  { name: 'default: SCHED_RR 1', extra: '', want: { policy: SCHED_RR, rtPriority: 1, nice: 0 } },
  { name: 'vrrp_rt_priority 7: SCHED_RR 7', extra: '    vrrp_rt_priority 7\n', want: { policy: SCHED_RR, rtPriority: 7, nice: 0 } },
  { name: 'vrrp_priority -5 alone: nice -5', extra: '    vrrp_priority -5\n', want: { policy: SCHED_OTHER, rtPriority: 0, nice: -5 } },
  // as vigil.service starts it: CPUSchedulingPolicy=rr, CPUSchedulingPriority=1, CPUSchedulingResetOnFork=yes
  { name: 'started at SCHED_RR 1, reset on fork (vigil.service): SCHED_RR 1', extra: '', want: { policy: SCHED_RR, rtPriority: 1, nice: 0 }, launcher: SERVICE },
  {
    name: 'started so with VIGIL_VRRP_RT_PRIORITY=0: no thread stays realtime, the VRRP thread at nice -10',
    extra: '',
    want: { policy: SCHED_OTHER, rtPriority: 0, nice: -10 },
    launcher: [...SERVICE, 'env', 'VIGIL_VRRP_RT_PRIORITY=0'],
  },
]) {
  test.serial(`VRRP thread scheduling — ${c.name}`, async (t) => {
    if (!requireRoot(t)) return;
    const p = routerLab(t, 'vtp', 87);
    const conf = globalDefs('tp', c.extra) + instanceBlock({ state: 'BACKUP', priority: 100, vip: '10.87.0.100/24', advertInt: '1' });
    const a = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf), [], c.launcher);
    try {
      await waitReady(a);
      // before the take-over's boost, which ends at normal scheduling whatever came before
      t.like(threadScheduling(a.proc.pid!).find((x) => x.tid === a.proc.pid), { policy: SCHED_OTHER }, 'the main thread is normal once ready');
      // alone on its segment it takes over: the main thread's realtime boost around the VIP
      // add and first gratuitous ARP must be over by then
      await waitAddress(p.r1, 'eth0', '10.87.0.100', true, 15_000);
      const all = threadScheduling(a.proc.pid!);
      const raised = all.filter((x) => x.policy !== SCHED_OTHER || x.nice !== 0);
      const vrrp = raised.filter((x) => x.policy === c.want.policy && x.rtPriority === c.want.rtPriority && x.nice === c.want.nice);
      const others = raised.filter((x) => !vrrp.includes(x));
      t.true(vrrp.length >= 1, `raised threads: ${JSON.stringify(raised)}`);
      // From the sources, tsx's module-hooks thread: the worker starts it before it takes its
      // own priority, so it has the start-up's (SCHED_RR 1) or the worker's.
      t.true(raised.length <= (process.env['VIGIL_TEST_DIST'] === '1' ? 1 : 2), `raised threads: ${JSON.stringify(raised)}`);
      for (const x of others) t.like(x, { policy: SCHED_RR, rtPriority: 1 });
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

test.serial('the VRRP worker is created at the start-up realtime priority; other threads, and any after the start-up, at normal scheduling', (t) => {
  if (!requireRoot(t)) return;
  // A worker that reports its own policy (/proc/thread-self/stat field 41) as its first act.
  const script = `
    import { Worker } from 'node:worker_threads';
    import { realtimeUntil, startingAtStartupPriority } from './src/io/thread-priority.ts';
    const policy = () => new Promise((resolve, reject) => {
      const w = new Worker("const s = require('fs').readFileSync('/proc/thread-self/stat', 'utf8'); require('worker_threads').parentPort.postMessage(Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[38]))", { eval: true, execArgv: [] });
      w.once('message', (m) => { resolve(m); void w.terminate(); }).once('error', reject);
    });
    const normal = realtimeUntil(1);
    const inherited = await startingAtStartupPriority(policy);
    const plain = await policy();
    normal();
    const after = await startingAtStartupPriority(policy);
    process.stdout.write(JSON.stringify({ inherited, plain, after }));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
  t.deepEqual(JSON.parse(out), { inherited: SCHED_RR, plain: SCHED_OTHER, after: SCHED_OTHER });
});
