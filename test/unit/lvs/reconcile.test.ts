import test from 'ava';
import { describeDest, describeService, destKey, serviceKey } from '../../../src/netlink/ipvs/attrs.ts';
import { IpvsError } from '../../../src/netlink/ipvs/errors.ts';
import type { IpvsChange, IpvsControl, IpvsDest, IpvsDestEntry, IpvsService, IpvsServiceEntry } from '../../../src/netlink/ipvs/types.ts';
import type { DesiredService } from '../../../src/lvs/desired.ts';
import { applyPlan, emptyOwned, planReconcile, planStop, readActual, type ActualService, type Op } from '../../../src/lvs/reconcile.ts';

const svc = (address: string, over: Partial<IpvsService> = {}): IpvsService => ({ family: 4, protocol: 'TCP', address, port: 80, scheduler: 'wlc', ...over });
const dst = (address: string, weight = 1, over: Partial<IpvsDest> = {}): IpvsDest => ({ address, family: 4, port: 80, forward: 'NAT', weight, ...over });
const want = (service: IpvsService, dests: IpvsDest[]): DesiredService => ({ service, dests, vsKey: describeService(service) });
const have = (service: IpvsService, dests: IpvsDest[]): ActualService => ({ service, dests });
const names = (ops: Op[]): string[] => ops.map((o) => `${o.op} ${'dest' in o ? `${o.dest.address}/${o.dest.weight}` : o.service.address ?? o.service.fwmark}`);

test('an empty kernel: add every service, then its destinations', (t) => {
  const ops = planReconcile([want(svc('10.0.0.1'), [dst('192.168.1.2'), dst('192.168.1.3')]), want(svc('10.0.0.2'), [])], [], emptyOwned());
  t.deepEqual(names(ops), ['add-service 10.0.0.1', 'add-service 10.0.0.2', 'add-dest 192.168.1.2/1', 'add-dest 192.168.1.3/1']);
});

test('a kernel that already matches: nothing but adoption; once owned, nothing at all', (t) => {
  const s = svc('10.0.0.1');
  const d = [dst('192.168.1.2')];
  const ops = planReconcile([want(s, d)], [have(s, d)], emptyOwned());
  t.deepEqual(names(ops), ['adopt-service 10.0.0.1', 'adopt-dest 192.168.1.2/1']);
  const owned = { services: new Set([serviceKey(s)]), dests: new Set([`${serviceKey(s)}|${destKey(d[0]!)}`]) };
  t.deepEqual(planReconcile([want(s, d)], [have(s, d)], owned), []);
});

test('changed weight, threshold or forwarding is an edit; changed scheduler or persistence edits the service', (t) => {
  const s = svc('10.0.0.1');
  const ops = planReconcile(
    [want({ ...s, scheduler: 'rr', persistent: { timeoutS: 60, netmask: '255.255.255.255' } }, [dst('192.168.1.2', 5), dst('192.168.1.3', 1, { upperThreshold: 9 }), dst('192.168.1.4', 1, { forward: 'DR' })])],
    [have(s, [dst('192.168.1.2', 1), dst('192.168.1.3'), dst('192.168.1.4')])],
    emptyOwned(),
  );
  t.deepEqual(names(ops).filter((n) => !n.startsWith('adopt')), [
    'edit-service 10.0.0.1',
    'edit-dest 192.168.1.2/5',
    'edit-dest 192.168.1.3/1',
    'edit-dest 192.168.1.4/1',
  ]);
  t.false(ops.some((o) => o.op === 'del-dest' || o.op === 'del-service' || o.op === 'add-dest'), 'never delete + add');
});

test('only owned entries are deleted: foreign services and destinations are left alone', (t) => {
  const mine = svc('10.0.0.1');
  const foreign = svc('10.9.9.9');
  const gone = svc('10.0.0.2');
  const owned = emptyOwned();
  owned.services.add(serviceKey(mine));
  owned.services.add(serviceKey(gone));
  owned.dests.add(`${serviceKey(mine)}|${destKey(dst('192.168.1.2'))}`);
  const ops = planReconcile(
    [want(mine, [])],
    [have(mine, [dst('192.168.1.2'), dst('192.168.7.7')]), have(foreign, [dst('192.168.1.2')]), have(gone, [dst('192.168.1.5')])],
    owned,
  );
  t.deepEqual(names(ops), ['del-dest 192.168.1.2/1', 'del-service 10.0.0.2']);
});

test('fwmark and IPv6 services are matched by identity, not by their other fields', (t) => {
  const f = { family: 6 as const, protocol: 'TCP' as const, fwmark: 5, scheduler: 'rr' };
  const v6 = { family: 6 as const, protocol: 'UDP' as const, address: '2001:db8::1', port: 53, scheduler: 'rr' };
  const ops = planReconcile([want(f, []), want(v6, [])], [have({ ...f, scheduler: 'wrr' }, []), have({ ...v6, protocol: 'TCP' }, [])], emptyOwned());
  t.deepEqual(names(ops), ['adopt-service 5', 'edit-service 5', 'add-service 2001:db8::1']);
});

test('stop removes owned services and owned destinations of foreign services, nothing else', (t) => {
  const mine = svc('10.0.0.1');
  const foreign = svc('10.9.9.9');
  const owned = emptyOwned();
  owned.services.add(serviceKey(mine));
  owned.dests.add(`${serviceKey(foreign)}|${destKey(dst('192.168.1.2'))}`);
  const ops = planStop([have(mine, [dst('192.168.1.2')]), have(foreign, [dst('192.168.1.2'), dst('192.168.1.3')])], owned);
  t.deepEqual(names(ops), ['del-dest 192.168.1.2/1', 'del-service 10.0.0.1']);
});

/**
 * A recording fake of the narrow IpvsControl for the apply logic (ownership bookkeeping,
 * ordering, failures). It answers like the kernel does (EEXIST, ESRCH, ENOENT); the real
 * client is tested against the real kernel in test/kernel/.
 */
class RecordingIpvs implements IpvsControl {
  readonly calls: string[] = [];
  readonly table = new Map<string, { service: IpvsService; dests: Map<string, IpvsDest> }>();
  failAdd = new Set<string>();

  private svc(s: IpvsService): { service: IpvsService; dests: Map<string, IpvsDest> } {
    const e = this.table.get(serviceKey(s));
    if (!e) throw new IpvsError('VIGIL_IPVS_ESRCH', describeService(s), 'no such service', { errno: 'ESRCH' });
    return e;
  }
  async info() {
    return { version: '1.2.1', connTabSize: 4096 };
  }
  async listServices(): Promise<IpvsServiceEntry[]> {
    this.calls.push('list-services');
    return [...this.table.values()].map((e) => ({ ...e.service, stats: { conns: 1, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 } }));
  }
  async addService(s: IpvsService) {
    this.calls.push(`add-service ${s.address}`);
    if (this.failAdd.has(s.address ?? '')) throw new IpvsError('VIGIL_IPVS_ENOENT', describeService(s), 'no such scheduler', { errno: 'ENOENT' });
    if (this.table.has(serviceKey(s))) throw new IpvsError('VIGIL_IPVS_EEXIST', describeService(s), 'exists', { errno: 'EEXIST' });
    this.table.set(serviceKey(s), { service: s, dests: new Map() });
  }
  async editService(s: IpvsService) {
    this.calls.push(`edit-service ${s.address}`);
    this.svc(s).service = s;
  }
  async delService(s: IpvsService) {
    this.calls.push(`del-service ${s.address}`);
    this.svc(s);
    this.table.delete(serviceKey(s));
  }
  async listDests(s: IpvsService): Promise<IpvsDestEntry[]> {
    this.calls.push(`list-dests ${s.address}`);
    return [...this.svc(s).dests.values()].map((d) => ({ ...d, activeConns: 3, inactiveConns: 0, persistConns: 0 }));
  }
  async addDest(s: IpvsService, d: IpvsDest) {
    this.calls.push(`add-dest ${s.address} ${d.address}`);
    const e = this.svc(s);
    if (e.dests.has(destKey(d))) throw new IpvsError('VIGIL_IPVS_EEXIST', describeDest(s, d), 'exists', { errno: 'EEXIST' });
    e.dests.set(destKey(d), d);
  }
  async editDest(s: IpvsService, d: IpvsDest) {
    this.calls.push(`edit-dest ${s.address} ${d.address}`);
    const e = this.svc(s);
    if (!e.dests.has(destKey(d))) throw new IpvsError('VIGIL_IPVS_ENOENT', describeDest(s, d), 'no such dest', { errno: 'ENOENT' });
    e.dests.set(destKey(d), d);
  }
  async delDest(s: IpvsService, d: IpvsDest) {
    this.calls.push(`del-dest ${s.address} ${d.address}`);
    if (!this.svc(s).dests.delete(destKey(d))) throw new IpvsError('VIGIL_IPVS_ENOENT', describeDest(s, d), 'no such dest', { errno: 'ENOENT' });
  }
  async setTimeouts() {}
  async getTimeouts() {
    return { tcpS: 900, tcpFinS: 120, udpS: 300 };
  }
  async flush() {
    this.table.clear();
  }
  async apply(changes: readonly IpvsChange[]): Promise<Array<IpvsError | undefined>> {
    this.calls.push(`apply ${changes.length}`);
    const out: Array<IpvsError | undefined> = [];
    for (const c of changes) {
      try {
        if (!('dest' in c)) {
          if (c.op === 'add-service') await this.addService(c.service);
          else if (c.op === 'edit-service') await this.editService(c.service);
          else await this.delService(c.service);
        } else if (c.op === 'add-dest') await this.addDest(c.service, c.dest);
        else if (c.op === 'edit-dest') await this.editDest(c.service, c.dest);
        else await this.delDest(c.service, c.dest);
        out.push(undefined);
      } catch (err) {
        out.push(err as IpvsError);
      }
    }
    return out;
  }
  async close() {}
}

test('apply: owned follows what succeeded; a failed service blocks its destinations only', async (t) => {
  const ipvs = new RecordingIpvs();
  ipvs.failAdd.add('10.0.0.2');
  const owned = emptyOwned();
  const desired = [want(svc('10.0.0.1'), [dst('192.168.1.2')]), want(svc('10.0.0.2'), [dst('192.168.1.3')])];
  const r = await applyPlan(ipvs, planReconcile(desired, await readActual(ipvs), owned), owned);
  t.is(r.applied, 2);
  t.deepEqual(r.failed.map((f) => [f.op.op, f.error.code]), [
    ['add-service', 'VIGIL_IPVS_ENOENT'],
    ['add-dest', 'VIGIL_IPVS_ENOENT'],
  ]);
  t.deepEqual(ipvs.calls, ['list-services', 'apply 2', 'add-service 10.0.0.1', 'add-service 10.0.0.2', 'apply 1', 'add-dest 10.0.0.1 192.168.1.2'], 'the blocked dest is never sent');
  t.deepEqual([...owned.services], [serviceKey(svc('10.0.0.1'))]);
  t.is(owned.dests.size, 1);
  // second pass with the failure gone: only what is missing
  ipvs.failAdd.clear();
  ipvs.calls.length = 0;
  const r2 = await applyPlan(ipvs, planReconcile(desired, await readActual(ipvs), owned), owned);
  t.deepEqual(r2.failed, []);
  t.deepEqual(ipvs.calls.filter((c) => !c.startsWith('list')), ['apply 1', 'add-service 10.0.0.2', 'apply 1', 'add-dest 10.0.0.2 192.168.1.3']);
});

test('apply: deleting what is already gone counts as done; stop leaves foreign entries', async (t) => {
  const ipvs = new RecordingIpvs();
  const owned = emptyOwned();
  const s = svc('10.0.0.1');
  await applyPlan(ipvs, planReconcile([want(s, [dst('192.168.1.2')])], await readActual(ipvs), owned), owned);
  await ipvs.addService(svc('10.9.9.9'));
  await ipvs.addDest(s, dst('192.168.7.7'));
  // someone removes our dest behind our back, then we try to delete it
  const gone: Op = { op: 'del-dest', service: s, dest: dst('192.168.1.2') };
  await ipvs.delDest(s, dst('192.168.1.2'));
  const r = await applyPlan(ipvs, [gone], owned);
  t.deepEqual(r.failed, []);
  t.is(owned.dests.size, 0);
  const stop = planStop(await readActual(ipvs), owned);
  t.deepEqual(names(stop), ['del-service 10.0.0.1']);
  await applyPlan(ipvs, stop, owned);
  t.deepEqual([...ipvs.table.values()].map((e) => e.service.address), ['10.9.9.9']);
  t.is(owned.services.size, 0);
});

test('readActual drops read-back counters so actual and desired compare by configuration', async (t) => {
  const ipvs = new RecordingIpvs();
  await ipvs.addService(svc('10.0.0.1'));
  await ipvs.addDest(svc('10.0.0.1'), dst('192.168.1.2'));
  t.deepEqual(await readActual(ipvs), [{ service: svc('10.0.0.1'), dests: [dst('192.168.1.2')] }]);
});

test('readActual leaves out a service whose destinations do not decode, and says so', async (t) => {
  const ipvs = new RecordingIpvs();
  await ipvs.addService(svc('10.0.0.1'));
  await ipvs.addService(svc('10.0.0.2'));
  const listDests = ipvs.listDests.bind(ipvs);
  ipvs.listDests = async (s: IpvsService) => {
    if (s.address === '10.0.0.1') throw new IpvsError('VIGIL_IPVS_BAD_REPLY', `dests of ${describeService(s)}`, 'forwarded to the local node', { reason: 'dest-fwd' });
    return listDests(s);
  };
  const skipped: string[] = [];
  const actual = await readActual(ipvs, (e) => skipped.push(`${e.code} ${e.reason}`));
  t.deepEqual(actual.map((a) => a.service.address), ['10.0.0.2']);
  t.deepEqual(skipped, ['VIGIL_IPVS_BAD_REPLY dest-fwd']);
});
