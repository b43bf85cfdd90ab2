/**
 * The IPVS client against a real kernel with ip_vs (run inside ../shared/kernel-vm/run).
 * ipvsadm is the independent witness of every table we program. Tests are serial: they
 * share the kernel's one IPVS table, flushed before each.
 */
import test from 'ava';
import { openIpvs } from '../../src/netlink/ipvs/client.ts';
import { IpvsError } from '../../src/netlink/ipvs/errors.ts';
import { normalizeDest, normalizeService } from '../../src/netlink/ipvs/attrs.ts';
import type { IpvsControl, IpvsDest, IpvsService } from '../../src/netlink/ipvs/types.ts';
import { readActual } from '../../src/lvs/reconcile.ts';
import { ipvsadm, sortRules, table, type Rule } from './ipvsadm.ts';

let ipvs: IpvsControl;

test.before(async () => {
  ipvs = await openIpvs({ timeoutMs: 10_000 });
});

test.after.always(async () => {
  await ipvs?.flush();
  await ipvs?.close();
});

test.beforeEach(async () => {
  await ipvs.flush();
});

const svc = (address: string, port: number, over: Partial<IpvsService> = {}): IpvsService => ({
  family: address.includes(':') ? 6 : 4,
  protocol: 'TCP',
  address,
  port,
  scheduler: 'wlc',
  ...over,
});
const dst = (address: string, port: number, over: Partial<IpvsDest> = {}): IpvsDest => ({
  address,
  family: address.includes(':') ? 6 : 4,
  port,
  forward: 'NAT',
  weight: 1,
  ...over,
});

/** What our client reads back, in ipvsadm's canonical order. */
async function ours(): Promise<Rule[]> {
  return sortRules((await readActual(ipvs)).map((a) => ({ service: a.service, dests: [...a.dests] })));
}

/** What we asked for, in canonical form and order. */
function expected(rules: Array<[IpvsService, IpvsDest[]]>): Rule[] {
  return sortRules(rules.map(([s, ds]) => ({ service: normalizeService(s), dests: ds.map(normalizeDest) })));
}

async function program(rules: Array<[IpvsService, IpvsDest[]]>): Promise<void> {
  for (const [s, ds] of rules) {
    await ipvs.addService(s);
    for (const d of ds) await ipvs.addDest(s, d);
  }
}

test.serial('info and timeouts: read, set, read back, and ipvsadm agrees', async (t) => {
  const info = await ipvs.info();
  t.regex(info.version, /^1\.\d+\.\d+$/);
  t.true(info.connTabSize > 0);
  t.regex(ipvsadm(['-Ln']), new RegExp(`version ${info.version.replaceAll('.', '\\.')} \\(size=${info.connTabSize}\\)`));
  await ipvs.setTimeouts({ tcpS: 700, tcpFinS: 60, udpS: 200 });
  t.deepEqual(await ipvs.getTimeouts(), { tcpS: 700, tcpFinS: 60, udpS: 200 });
  await ipvs.setTimeouts({ udpS: 250 }); // only UDP: the others unchanged (0 = keep, kernel rule)
  t.deepEqual(await ipvs.getTimeouts(), { tcpS: 700, tcpFinS: 60, udpS: 250 });
  t.regex(ipvsadm(['-L', '--timeout']), /Timeout \(tcp tcpfin udp\): 700 60 250/);
  await ipvs.setTimeouts({ tcpS: 900, tcpFinS: 120, udpS: 300 });
});

test.serial('every scheduler whose module loads: programmed, read back, seen by ipvsadm', async (t) => {
  const schedulers = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'];
  const loaded: Array<[IpvsService, IpvsDest[]]> = [];
  const missing: string[] = [];
  let port = 1000;
  for (const scheduler of schedulers) {
    const s = svc('10.10.0.1', port++, { scheduler });
    try {
      await ipvs.addService(s);
    } catch (err) {
      // a scheduler module that is not there: ENOENT, named
      t.true(err instanceof IpvsError && err.code === 'VIGIL_IPVS_ENOENT', String(err));
      missing.push(scheduler);
      continue;
    }
    const ds = [dst('10.20.0.1', 80, { weight: 3 }), dst('10.20.0.2', 80)];
    for (const d of ds) await ipvs.addDest(s, d);
    loaded.push([s, ds]);
  }
  t.log(`schedulers loaded: ${loaded.map(([s]) => s.scheduler).join(' ')}; missing: ${missing.join(' ') || 'none'}`);
  for (const must of ['rr', 'wrr', 'lc', 'wlc', 'sh']) t.false(missing.includes(must), `${must} is preloaded in the VM`);
  t.deepEqual(await ours(), expected(loaded));
  t.deepEqual(table(), expected(loaded));
});

test.serial('every forwarding method, weights (0 included) and thresholds', async (t) => {
  const s = svc('10.10.0.2', 80, { scheduler: 'wrr' });
  const ds = [
    dst('10.20.0.1', 8080, { forward: 'NAT', weight: 5, upperThreshold: 100, lowerThreshold: 10 }),
    dst('10.20.0.2', 80, { forward: 'DR', weight: 0 }),
    dst('10.20.0.3', 80, { forward: 'TUN', weight: 65535, upperThreshold: 7 }),
  ];
  await program([[s, ds]]);
  t.deepEqual(await ours(), expected([[s, ds]]));
  t.deepEqual(table(), expected([[s, ds]]));
  const listed = await ipvs.listDests(s);
  for (const d of listed) {
    t.is(d.activeConns, 0);
    t.is(d.inactiveConns, 0);
    t.deepEqual(d.stats, { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 });
  }
});

test.serial('fwmark services (IPv4 and IPv6), persistence with granularity, scheduler flags', async (t) => {
  const rules: Array<[IpvsService, IpvsDest[]]> = [
    [{ family: 4, protocol: 'TCP', fwmark: 7, scheduler: 'rr', persistent: { timeoutS: 300, netmask: '255.255.255.0' } }, [dst('10.20.0.1', 0), dst('10.20.0.2', 0, { forward: 'DR' })]],
    [{ family: 6, protocol: 'TCP', fwmark: 8, scheduler: 'wlc', persistent: { timeoutS: 60, netmask: '64' } }, [dst('2001:db8::10', 0)]],
    [svc('10.10.0.3', 443, { scheduler: 'sh', flags: ['sh-fallback', 'sh-port'], persistent: { timeoutS: 3600 } }), [dst('10.20.0.3', 443)]],
    [svc('10.10.0.4', 53, { protocol: 'UDP', scheduler: 'rr', flags: ['one-packet', 'flag-3'] }), [dst('10.20.0.4', 53)]],
    [svc('10.10.0.5', 9, { protocol: 'SCTP', scheduler: 'lc' }), [dst('10.20.0.5', 9)]],
  ];
  await program(rules);
  const want = expected(rules);
  t.deepEqual(await ours(), want);
  t.deepEqual(table(), want);
  // the fwmark services read back with protocol TCP and no address, as the kernel keeps them
  const fwm = (await ipvs.listServices()).filter((s) => s.fwmark !== undefined);
  t.deepEqual(fwm.map((s) => [s.fwmark, s.family, s.address]).sort(), [
    [7, 4, undefined],
    [8, 6, undefined],
  ]);
});

test.serial('IPv6 services and destinations; an IPv4 dest in an IPv6 service only with TUN', async (t) => {
  const s = svc('2001:db8::1', 80, { scheduler: 'rr', persistent: { timeoutS: 30, netmask: '48' } });
  const ds = [dst('2001:db8::2', 8080), dst('2001:db8::3', 80, { forward: 'DR', weight: 4, lowerThreshold: 2, upperThreshold: 20 }), dst('10.20.0.9', 80, { forward: 'TUN' })];
  await program([[s, ds]]);
  t.deepEqual(await ours(), expected([[s, ds]]));
  t.deepEqual(table(), expected([[s, ds]]));
  const err = await t.throwsAsync(ipvs.addDest(s, dst('10.20.0.10', 80, { forward: 'NAT' })), { instanceOf: IpvsError });
  t.is(err?.code, 'VIGIL_IPVS_EINVAL');
  t.is(err?.message, 'VIGIL_IPVS_EINVAL dest 10.20.0.10:80 of service [2001:db8::1]:80/tcp: invalid argument (EINVAL)');
});

test.serial('edits change only what they say: scheduler, persistence, flags, weight, method', async (t) => {
  const s = svc('10.10.0.6', 80, { scheduler: 'wlc', persistent: { timeoutS: 100 } });
  const d1 = dst('10.20.0.1', 80, { weight: 1 });
  const d2 = dst('10.20.0.2', 80, { weight: 2 });
  await program([[s, [d1, d2]]]);
  // no persistence any more, a scheduler flag instead
  const s2clean: IpvsService = { family: 4, protocol: 'TCP', address: '10.10.0.6', port: 80, scheduler: 'sh', flags: ['sh-port'] };
  await ipvs.editService(s2clean);
  await ipvs.editDest(s2clean, { ...d1, weight: 9, forward: 'DR', upperThreshold: 5 });
  t.deepEqual(table(), expected([[s2clean, [{ ...d1, weight: 9, forward: 'DR', upperThreshold: 5 }, d2]]]));
  // and back: flags cleared by the edit (we send the whole flag mask)
  await ipvs.editService({ ...s, scheduler: 'rr' });
  t.deepEqual((await ipvs.listServices()).map((x) => [x.scheduler, x.flags, x.persistent]), [['rr', undefined, { timeoutS: 100, netmask: '255.255.255.255' }]]);
  await ipvs.delDest(s, d2);
  await ipvs.delService(s);
  t.deepEqual(table(), []);
});

test.serial('kernel errors are typed and name the object', async (t) => {
  const s = svc('10.10.0.7', 80);
  await ipvs.addService(s);
  await ipvs.addDest(s, dst('10.20.0.1', 80));
  const cases: Array<[Promise<unknown>, IpvsError['code'], string]> = [
    [ipvs.addService(s), 'VIGIL_IPVS_EEXIST', 'VIGIL_IPVS_EEXIST service 10.10.0.7:80/tcp: already exists (EEXIST)'],
    [ipvs.addDest(s, dst('10.20.0.1', 80)), 'VIGIL_IPVS_EEXIST', 'VIGIL_IPVS_EEXIST dest 10.20.0.1:80 of service 10.10.0.7:80/tcp: already exists (EEXIST)'],
    [ipvs.editService(svc('10.10.0.8', 80)), 'VIGIL_IPVS_ESRCH', 'VIGIL_IPVS_ESRCH service 10.10.0.8:80/tcp: no such service (ESRCH)'],
    [ipvs.delService(svc('10.10.0.8', 80)), 'VIGIL_IPVS_ESRCH', ''],
    [ipvs.listDests(svc('10.10.0.8', 80)), 'VIGIL_IPVS_ESRCH', ''],
    [ipvs.addDest(svc('10.10.0.8', 80), dst('10.20.0.1', 80)), 'VIGIL_IPVS_ESRCH', ''],
    [ipvs.delDest(s, dst('10.20.0.99', 80)), 'VIGIL_IPVS_ENOENT', ''],
    [ipvs.editDest(s, dst('10.20.0.99', 80)), 'VIGIL_IPVS_ENOENT', ''],
    [ipvs.addService(svc('10.10.0.9', 80, { scheduler: 'nosuch' })), 'VIGIL_IPVS_ENOENT', ''],
    [ipvs.addDest(s, dst('10.20.0.2', 80, { upperThreshold: 5, lowerThreshold: 10 })), 'VIGIL_IPVS_ERANGE', ''],
    [ipvs.addService(svc('10.10.0.300', 80)), 'VIGIL_IPVS_INVALID', 'VIGIL_IPVS_INVALID service 10.10.0.300:80/tcp: "10.10.0.300" is not an IP address'],
  ];
  for (const [p, code, message] of cases) {
    const err = await t.throwsAsync(p, { instanceOf: IpvsError });
    t.is(err?.code, code);
    if (message) t.is(err?.message, message);
  }
  // nothing above changed the table
  t.deepEqual(table(), expected([[s, [dst('10.20.0.1', 80)]]]));
});

test.serial('a table programmed by ipvsadm reads back the same through our client', async (t) => {
  for (const args of [
    ['-A', '-t', '10.30.0.1:80', '-s', 'wrr', '-p', '120', '-M', '255.255.0.0'],
    ['-a', '-t', '10.30.0.1:80', '-r', '10.40.0.1:8080', '-m', '-w', '4', '-x', '50', '-y', '5'],
    ['-a', '-t', '10.30.0.1:80', '-r', '10.40.0.2:80', '-g', '-w', '0'],
    ['-A', '-u', '[2001:db8::30]:53', '-s', 'sh', '-b', 'sh-fallback'],
    ['-a', '-u', '[2001:db8::30]:53', '-r', '[2001:db8::40]:53', '-i', '-w', '2'],
    ['-A', '-f', '99', '-s', 'lc'],
    ['-a', '-f', '99', '-r', '10.40.0.3:0', '-m'],
  ]) {
    ipvsadm(args);
  }
  t.deepEqual(await ours(), table());
});

test.serial('many services in one go: pipelined adds, multipart dumps, nothing lost', async (t) => {
  const rules: Array<[IpvsService, IpvsDest[]]> = [];
  for (let i = 0; i < 200; i++) {
    rules.push([svc(`10.50.${i >> 8}.${i & 255}`, 80), [1, 2, 3, 4, 5].map((j) => dst(`10.60.${j}.${i & 255}`, 8000 + i))]);
  }
  const calls: Array<Promise<void>> = [];
  for (const [s, ds] of rules) {
    calls.push(ipvs.addService(s));
    for (const d of ds) calls.push(ipvs.addDest(s, d));
  }
  await Promise.all(calls);
  const want = expected(rules);
  t.deepEqual(await ours(), want);
  t.is(ipvsadm(['-S', '-n']).trim().split('\n').length, 200 * 6);
});

test.serial('a closed client answers VIGIL_IPVS_CLOSED and a new one works', async (t) => {
  const other = await openIpvs({ timeoutMs: 5000 });
  await other.close();
  const err = await t.throwsAsync(other.listServices(), { instanceOf: IpvsError });
  t.is(err?.code, 'VIGIL_IPVS_CLOSED');
  const again = await openIpvs({ timeoutMs: 5000 });
  try {
    t.deepEqual(await again.listServices(), []);
  } finally {
    await again.close();
  }
});

test.serial('apply: a batch reports exactly the changes that failed, in order, and programs the rest', async (t) => {
  const a = svc('10.10.1.1', 80);
  const b = svc('10.10.1.2', 80);
  const missing = svc('10.10.1.3', 80);
  const results = await ipvs.apply([
    { op: 'add-service', service: a },
    { op: 'add-service', service: a }, // EEXIST
    { op: 'add-dest', service: a, dest: dst('10.20.1.1', 80) },
    { op: 'add-dest', service: missing, dest: dst('10.20.1.1', 80) }, // ESRCH
    { op: 'add-service', service: { ...b, scheduler: 'nosuch' } }, // ENOENT
    { op: 'add-service', service: b },
    { op: 'add-dest', service: b, dest: dst('10.20.1.2', 80, { weight: 5 }) },
    { op: 'add-dest', service: b, dest: dst('10.20.1.999', 80) }, // VIGIL_IPVS_INVALID, never sent
    { op: 'edit-dest', service: b, dest: dst('10.20.1.2', 80, { weight: 6 }) },
    { op: 'del-dest', service: a, dest: dst('10.20.1.9', 80) }, // ENOENT
  ]);
  t.deepEqual(
    results.map((r) => r?.code),
    [undefined, 'VIGIL_IPVS_EEXIST', undefined, 'VIGIL_IPVS_ESRCH', 'VIGIL_IPVS_ENOENT', undefined, undefined, 'VIGIL_IPVS_INVALID', undefined, 'VIGIL_IPVS_ENOENT'],
  );
  t.is(results[1]?.message, 'VIGIL_IPVS_EEXIST service 10.10.1.1:80/tcp: already exists (EEXIST)');
  t.is(results[3]?.message, 'VIGIL_IPVS_ESRCH dest 10.20.1.1:80 of service 10.10.1.3:80/tcp: no such service (ESRCH)');
  t.deepEqual(table(), expected([[a, [dst('10.20.1.1', 80)]], [b, [dst('10.20.1.2', 80, { weight: 6 })]]]));
  // more changes than one sendmsg carries (chunks of 256), all acknowledged
  const many = Array.from({ length: 1500 }, (_, i) => ({ op: 'add-dest' as const, service: a, dest: dst(`10.21.${i >> 8}.${i & 255}`, 80) }));
  const r2 = await ipvs.apply(many);
  t.is(r2.filter(Boolean).length, 0);
  t.is((await ipvs.listDests(a)).length, 1501);
  const r3 = await ipvs.apply(many);
  t.is(r3.filter((e) => e?.code === 'VIGIL_IPVS_EEXIST').length, 1500, 'every failure of a large batch is reported');
});
