/**
 * global_defs limits read back from the kernel for a running daemon, in a namespace built
 * here: `vrrp_rlimit_rttime` (/proc/PID/limits, soft half of hard, as keepalived),
 * `vrrp_no_swap` (VmLck in /proc/PID/status; off again after a reload without it), and
 * `max_auto_priority` (an advert timer that fires late — the daemon stopped with SIGSTOP —
 * raises the VRRP thread's SCHED_RR priority by one, up to the maximum).
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { requireRoot, waitFor } from '../../helpers/netns.ts';
import { globalDefs, instanceBlock, outputOf, reloadVigil, routerLab, startVigil, threadScheduling, waitAddress, waitReady, withRouterLogs, type RouterLab } from '../../helpers/routers.ts';

const SCHED_RR = 2;

function lockedKb(pid: number): number {
  const m = /^VmLck:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? -1);
}

/** [soft, hard] of "Max realtime timeout" (µs) */
function rttime(pid: number): [string, string] {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max realtime timeout'));
  const f = line?.slice('Max realtime timeout'.length).trim().split(/\s+/) ?? [];
  return [f[0] ?? '', f[1] ?? ''];
}

/**
 * One vigil router alone on its segment (so it is MASTER of 10.N.0.100, adverts every 0.1 s)
 * with `extra` in global_defs; `body` gets its pid once it holds the VIP. Stopped after.
 */
async function aloneMaster(t: ExecutionContext, prefix: string, n: number, extra: string, body: (pid: number, lab: RouterLab, conf: (extra: string) => string) => Promise<void>): Promise<void> {
  const p = routerLab(t, prefix, n);
  const vip = `10.${n}.0.100`;
  const conf = (x: string): string => globalDefs(prefix, x) + instanceBlock({ state: 'MASTER', priority: 150, vip: `${vip}/24`, advertInt: '0.1', version: 3 });
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf(extra)));
  const pid = a.proc.pid!;
  try {
    await withRouterLogs(t, [a], async () => {
      await waitReady(a);
      await waitAddress(p.r1, 'eth0', vip, true, 15_000);
      await body(pid, p, conf);
    });
    t.regex(outputOf(a), /vigil running/);
  } finally {
    a.proc.kill('SIGCONT');
    a.proc.kill('SIGTERM');
    await a.exited;
  }
}

const highestRr = (pid: number): number => Math.max(0, ...threadScheduling(pid).filter((x) => x.policy === SCHED_RR).map((x) => x.rtPriority));

test.serial('vrrp_rlimit_rttime, vrrp_no_swap and max_auto_priority on a running daemon', async (t) => {
  if (!requireRoot(t)) return;
  await aloneMaster(t, 'vpl', 142, '    vrrp_no_swap\n    vrrp_rlimit_rttime 400000\n    max_auto_priority 3\n    min_auto_priority_delay 200000\n', async (pid, p, conf) => {
    t.deepEqual(rttime(pid), ['200000', '400000'], 'RLIMIT_RTTIME: soft half of hard');
    const kb = lockedKb(pid);
    t.true(kb > 0, `VmLck ${kb} kB`);
    t.is(highestRr(pid), 1, 'the VRRP threads start at SCHED_RR 1');

    // stopped for 0.6 s: the next advert fires ~0.5 s late, over min_auto_priority_delay
    for (const want of [2, 3, 3]) {
      process.kill(pid, 'SIGSTOP');
      await new Promise((r) => setTimeout(r, 600));
      process.kill(pid, 'SIGCONT');
      await waitFor(`SCHED_RR ${want}`, () => highestRr(pid) === want, 3000);
      await new Promise((r) => setTimeout(r, 300));
      t.is(highestRr(pid), want, 'raised by one per late wake-up, never past max_auto_priority');
    }

    // reloaded without vrrp_no_swap: unlocked
    p.dir.file('r1.conf', conf('    vrrp_rlimit_rttime 400000\n'));
    reloadVigil(p.dir, 'r1');
    await waitFor('memory unlocked by the reload', () => lockedKb(pid) === 0, 5000);
  });
});

test.serial('without those keywords: no memory lock, no realtime limit, no raise after a late wake-up', async (t) => {
  if (!requireRoot(t)) return;
  await aloneMaster(t, 'vpm', 143, '', async (pid) => {
    t.is(lockedKb(pid), 0);
    t.deepEqual(rttime(pid), ['unlimited', 'unlimited']);
    process.kill(pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(pid, 'SIGCONT');
    await new Promise((r) => setTimeout(r, 500));
    t.is(highestRr(pid), 1);
  });
});
