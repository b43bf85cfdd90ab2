/**
 * `auth_type AH` between vigil and Debian's keepalived 2.2.7 (built with VRRP_AUTH), in both
 * roles: the backup hears the master's AH adverts and stays BACKUP, takes over when the
 * master stops, and the returning master preempts it (so each side accepts the other's
 * sequence numbers after a change of master). With different keys each side rejects the
 * other's adverts: both end up MASTER, vigil counts the failures, keepalived logs them.
 */
import test from 'ava';
import {
  globalDefs,
  hasAddress,
  instanceBlock,
  outputOf,
  routerLab,
  startKeepalived,
  startVigil,
  vigilStatus,
  waitAddress,
  waitReady,
  type Router,
  type RouterLab,
} from '../../helpers/routers.ts';
import { requireRoot, waitFor } from '../../helpers/netns.ts';

const VIP = '10.91.0.100';
type Kind = 'vigil' | 'keepalived';

/** keepalived clears `state MASTER` with AH below 255 (vigil too): both start as BACKUP. */
const conf = (name: string, prio: number, pass: string): string =>
  globalDefs(name) + instanceBlock({ state: 'BACKUP', priority: prio, vip: `${VIP}/24`, advertInt: '1', auth: pass, authType: 'AH' });

function start(p: RouterLab, kind: Kind, ns: string, name: string, file: string): Router {
  return kind === 'vigil' ? startVigil(p.lab, ns, p.dir, name, file) : startKeepalived(p.lab, ns, p.dir, name, file);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const [masterKind, backupKind] of [
  ['keepalived', 'vigil'],
  ['vigil', 'keepalived'],
] as Array<[Kind, Kind]>) {
  test.serial(`AH: ${masterKind} master, ${backupKind} backup — backup stays BACKUP, takes over on stop, master preempts back`, async (t) => {
    if (!requireRoot(t)) return;
    const p = routerLab(t, 'vah', 91);
    const c1 = p.dir.file('r1.conf', conf('r1', 150, 'secret12'));
    const c2 = p.dir.file('r2.conf', conf('r2', 100, 'secret12'));
    // The master first, alone, so that the backup starts hearing it (not a start-up race).
    let m = start(p, masterKind, p.r1, 'r1', c1);
    const routers = [m];
    try {
      await waitReady(m);
      await waitAddress(p.r1, 'eth0', VIP, true, 20_000);
      const b = start(p, backupKind, p.r2, 'r2', c2);
      routers.push(b);
      await waitReady(b);
      // Past three master-down intervals (3.6 s at priority 100): only AH adverts kept the backup back.
      await sleep(8000);
      t.false(hasAddress(p.r2, 'eth0', VIP), 'the backup took the VIP while the master advertised');
      const vigil = masterKind === 'vigil' ? m : b;
      t.true(hasAddress(p.r1, 'eth0', VIP));
      const st = vigilStatus(vigil, p.dir).instances[0]!;
      t.is(st.state, masterKind === 'vigil' ? 'MASTER' : 'BACKUP');
      if (backupKind === 'vigil') t.true(st.advertsReceived >= 6, `vigil heard ${st.advertsReceived} adverts`);
      t.deepEqual(st.dropped, {}, 'vigil dropped adverts');
      if (backupKind === 'keepalived') t.false(outputOf(b).includes('Entering MASTER STATE'), 'keepalived went MASTER');
      const ka = masterKind === 'keepalived' ? m : b;
      t.false(/IPSEC-AH : (invalid|sequence)|IPSEC AH : invalid/.test(outputOf(ka)), 'keepalived rejected an advert');

      // The master stops (priority 0): the backup takes over.
      m.proc.kill('SIGTERM');
      await m.exited;
      await waitAddress(p.r2, 'eth0', VIP, true, 4000);

      // The master returns: it hears the new master's numbers, preempts, and is heard.
      m = start(p, masterKind, p.r1, 'r1b', c1);
      routers.push(m);
      await waitReady(m);
      await waitAddress(p.r1, 'eth0', VIP, true, 20_000);
      await waitAddress(p.r2, 'eth0', VIP, false, 5000);
      await sleep(3000);
      t.false(hasAddress(p.r2, 'eth0', VIP), 'the old backup took the VIP back');
      const after = vigilStatus(masterKind === 'vigil' ? m : b, p.dir).instances[0]!;
      t.deepEqual(after.dropped, {}, 'vigil dropped adverts after the change of master');
    } catch (e) {
      for (const r of routers) t.log(`--- ${r.kind} ${r.name}\n${outputOf(r)}`);
      throw e;
    }
  });
}

test.serial('AH with different keys: each side rejects the other, both become MASTER, vigil counts auth failures', async (t) => {
  if (!requireRoot(t)) return;
  const p = routerLab(t, 'vak', 91);
  const v = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf('r1', 150, 'secret12')));
  const k = startKeepalived(p.lab, p.r2, p.dir, 'r2', p.dir.file('r2.conf', conf('r2', 100, 'other999')));
  try {
    await waitReady(v, k);
    await waitAddress(p.r1, 'eth0', VIP, true, 20_000);
    await waitAddress(p.r2, 'eth0', VIP, true, 20_000);
    await waitFor('keepalived logs an HMAC failure', () => outputOf(k).includes('invalid IPSEC HMAC-MD5'), 5000, 50);
    const st = vigilStatus(v, p.dir).instances[0]!;
    t.is(st.state, 'MASTER');
    t.true((st.dropped['auth'] ?? 0) >= 1, `vigil's drops: ${JSON.stringify(st.dropped)}`);
    t.is(v.proc.exitCode, null);
    t.is(k.proc.exitCode, null);
  } catch (e) {
    t.log(`--- vigil\n${outputOf(v)}\n--- keepalived\n${outputOf(k)}`);
    throw e;
  }
});
