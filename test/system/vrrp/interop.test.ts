/**
 * vigil and Debian's keepalived 2.2 sharing one virtual router, in both roles, over
 * VRRPv2 (PASS auth, 1 s) and VRRPv3 (100 ms): election, failover on SIGTERM (priority 0)
 * and on SIGKILL, with a client following the VIP.
 */
import test from 'ava';
import { nsExec, requireRoot } from '../../helpers/netns.ts';
import {
  globalDefs,
  hasAddress,
  instanceBlock,
  linkMac,
  outputOf,
  reachVia,
  routerLab,
  startKeepalived,
  startVigil,
  waitAddress,
  waitReady,
  type Router,
} from '../../helpers/routers.ts';

const VIP = '10.78.0.100';

type Kind = 'vigil' | 'keepalived';

const variants = [
  { v: 2 as const, int: '1', auth: '1111', killWaitMs: 8000 },
  { v: 3 as const, int: '0.1', auth: undefined, killWaitMs: 3000 },
];

for (const { v, int, auth, killWaitMs } of variants) {
  for (const [masterKind, backupKind] of [
    ['vigil', 'keepalived'],
    ['keepalived', 'vigil'],
  ] as Array<[Kind, Kind]>) {
    test.serial(`VRRPv${v}: ${masterKind} master, ${backupKind} backup — election, SIGTERM handover, SIGKILL failover`, async (t) => {
      if (!requireRoot(t)) return;
      const p = routerLab(t, 'vki', 78);
      const conf = (name: string, state: 'MASTER' | 'BACKUP', prio: number): string =>
        globalDefs(name, `    vrrp_version ${v}\n`) +
        instanceBlock({ state, priority: prio, vip: `${VIP}/24`, advertInt: int, ...(auth ? { auth } : {}) });
      const start = (kind: Kind, ns: string, name: string, file: string): Router =>
        kind === 'vigil' ? startVigil(p.lab, ns, p.dir, name, file) : startKeepalived(p.lab, ns, p.dir, name, file);
      const c1 = p.dir.file('r1.conf', conf('r1', 'MASTER', 150));
      const c2 = p.dir.file('r2.conf', conf('r2', 'BACKUP', 100));
      let m = start(masterKind, p.r1, 'r1', c1);
      const b = start(backupKind, p.r2, 'r2', c2);
      try {
        await waitReady(m, b);
        // keepalived's `state MASTER` below 255 waits the master-down interval first (3.4 s at v2).
        await waitAddress(p.r1, 'eth0', VIP, true, 20_000);
        await new Promise((r) => setTimeout(r, Number(int) * 3000));
        t.false(hasAddress(p.r2, 'eth0', VIP), 'both routers hold the VIP');
        t.is(reachVia(p.c, VIP), linkMac(p.r1, 'eth0'));

        // Graceful handover: priority 0 from the master, the backup takes over within skew time.
        m.proc.kill('SIGTERM');
        await waitAddress(p.r2, 'eth0', VIP, true, Number(int) * 2000 + 1000);
        await m.exited;
        t.false(hasAddress(p.r1, 'eth0', VIP));

        // The master returns and preempts; then dies without a word.
        m = start(masterKind, p.r1, 'r1b', c1);
        await waitAddress(p.r1, 'eth0', VIP, true, 20_000);
        await waitAddress(p.r2, 'eth0', VIP, false, 5000);
        process.kill(-m.proc.pid!, 'SIGKILL');
        nsExec(p.r1, ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
        await waitAddress(p.r2, 'eth0', VIP, true, killWaitMs);
        t.is(reachVia(p.c, VIP), linkMac(p.r2, 'eth0'));
      } catch (e) {
        t.log(`--- ${m.kind} r1\n${outputOf(m)}`);
        t.log(`--- ${b.kind} r2\n${outputOf(b)}`);
        throw e;
      }
    });
  }
}
