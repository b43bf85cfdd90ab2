/**
 * Time to program 1,000 services × 10 destinations into the kernel's IPVS through the real
 * client and reconciler, printed as JSON. Needs a kernel with ip_vs, so run it in the VM:
 *
 *   cd /work/main && ../shared/kernel-vm/run -- node --import=tsx bench/ipvs-program.ts
 *
 * Options (env): SERVICES (1000), DESTS (10), RUNS (3). Each run programs the full table
 * from empty through applyPlan (batched: the kernel answers only failures), reads it back,
 * runs a no-op reconcile pass, changes one weight per service, and flushes. The first run
 * is cold (V8 not warmed up). Target (issue 4): 10,000 destinations in under 1 s.
 * `programUserMs` / `programSystemMs` split the programming pass into this process's own
 * work and the kernel's; `ENCODE_ONLY=1 node --import tsx bench/ipvs-program.ts` times the
 * user-space encoding natively (no IPVS needed).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { openIpvs } from '../src/netlink/ipvs/client.ts';
import { toIpvsAttrs, type IpvsRequest } from '../src/netlink/ipvs/attrs.ts';
import type { IpvsDest, IpvsService } from '../src/netlink/ipvs/types.ts';
import type { DesiredService } from '../src/lvs/desired.ts';
import { applyPlan, emptyOwned, planReconcile, readActual } from '../src/lvs/reconcile.ts';

const SERVICES = Number(process.env['SERVICES'] ?? 1000);
const DESTS = Number(process.env['DESTS'] ?? 10);
const RUNS = Number(process.env['RUNS'] ?? 3);

function desiredTable(weight: (i: number, j: number) => number): DesiredService[] {
  const out: DesiredService[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const service: IpvsService = { family: 4, protocol: 'TCP', address: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, port: 80, scheduler: 'wlc' };
    const dests: IpvsDest[] = [];
    for (let j = 0; j < DESTS; j++) {
      dests.push({ address: `10.200.${j}.${(i % 250) + 1}`, family: 4, port: 8000 + (i >> 8), forward: 'NAT', weight: weight(i, j) });
    }
    out.push({ service, dests, vsKey: `bench ${i}` });
  }
  return out;
}

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const round = (x: number): number => Math.round(x * 10) / 10;

// ENCODE_ONLY=1: no kernel needed — time the user-space half alone (request → netlink
// attributes for the same 11,000 requests), natively, to set against the VM's user time.
if (process.env['ENCODE_ONLY'] === '1') {
  const reqs: IpvsRequest[] = desiredTable(() => 1).flatMap((d) => [
    { op: 'add-service' as const, service: d.service },
    ...d.dests.map((dest) => ({ op: 'add-dest' as const, service: d.service, dest })),
  ]);
  const passes: number[] = [];
  for (let r = 0; r < RUNS + 2; r++) {
    const t0 = process.hrtime.bigint();
    let bytes = 0;
    for (const q of reqs) bytes += toIpvsAttrs(q).payload.reduce((n, b) => n + b.length, 0);
    passes.push(round(ms(t0)));
    if (bytes === 0) throw new Error('nothing encoded');
  }
  console.log(JSON.stringify({ bench: 'ipvs-encode', requests: reqs.length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, passesMs: passes }, null, 2));
  process.exit(0);
}

const runs = [];
const ipvs = await openIpvs({ timeoutMs: 60_000 });
try {
  for (let run = 1; run <= RUNS; run++) {
    await ipvs.flush();
    const owned = emptyOwned();
    const desired = desiredTable(() => 1);

    let t0 = process.hrtime.bigint();
    const ops = planReconcile(desired, [], owned);
    const planMs = ms(t0);

    t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    const applied = await applyPlan(ipvs, ops, owned);
    const programMs = ms(t0);
    // where the time went: this process in user space (encoding, JS) and in the kernel
    // (sendmsg runs each IPVS command inside the call)
    const cpu = process.cpuUsage(cpu0);
    if (applied.failed.length > 0) throw new Error(`${applied.failed.length} ops failed, first: ${applied.failed[0]!.error.message}`);

    t0 = process.hrtime.bigint();
    const actual = await readActual(ipvs);
    const readBackMs = ms(t0);
    const destsRead = actual.reduce((n, a) => n + a.dests.length, 0);

    t0 = process.hrtime.bigint();
    const noop = planReconcile(desired, await readActual(ipvs), owned);
    const noopReconcileMs = ms(t0);
    if (noop.length !== 0) throw new Error(`no-op pass planned ${noop.length} ops`);

    // one weight change per service: SERVICES edits, found by a full read + plan
    const changed = desiredTable((i, j) => (j === 0 ? 2 : 1));
    t0 = process.hrtime.bigint();
    const edits = planReconcile(changed, await readActual(ipvs), owned);
    const editResult = await applyPlan(ipvs, edits, owned);
    const editPassMs = ms(t0);
    if (editResult.failed.length > 0 || edits.length !== SERVICES) throw new Error(`edit pass: ${edits.length} ops, ${editResult.failed.length} failed`);

    t0 = process.hrtime.bigint();
    await ipvs.flush();
    const flushMs = ms(t0);

    runs.push({
      run,
      requests: applied.applied,
      planMs: round(planMs),
      programMs: round(programMs),
      programUserMs: round(cpu.user / 1000),
      programSystemMs: round(cpu.system / 1000),
      destsPerSecond: Math.round((SERVICES * DESTS) / (programMs / 1000)),
      readBackMs: round(readBackMs),
      destsRead,
      noopReconcileMs: round(noopReconcileMs),
      editPassMs: round(editPassMs),
      flushMs: round(flushMs),
    });
  }
} finally {
  await ipvs.close();
}

// Baseline for the kernel's share: the same table through ipvsadm -R (C, libipvs, one
// acked request at a time), if ipvsadm is installed.
let ipvsadmRestoreMs: number | undefined;
try {
  const lines: string[] = [];
  for (const d of desiredTable(() => 1)) {
    const svc = `-t ${d.service.address}:${d.service.port}`;
    lines.push(`-A ${svc} -s ${d.service.scheduler}`);
    for (const x of d.dests) lines.push(`-a ${svc} -r ${x.address}:${x.port} -m -w ${x.weight}`);
  }
  execFileSync('ipvsadm', ['-C']);
  const t0 = process.hrtime.bigint();
  execFileSync('ipvsadm', ['-R'], { input: `${lines.join('\n')}\n` });
  ipvsadmRestoreMs = round(ms(t0));
  execFileSync('ipvsadm', ['-C']);
} catch {
  ipvsadmRestoreMs = undefined;
}

const sorted = runs.map((r) => r.programMs).sort((a, b) => a - b);
const best = Math.min(...runs.map((r) => r.programMs));
console.log(
  JSON.stringify(
    {
      bench: 'ipvs-program',
      services: SERVICES,
      destsPerService: DESTS,
      dests: SERVICES * DESTS,
      kernel: os.release(),
      cpus: os.cpus().length,
      // QEMU's TCG shows "QEMU Virtual CPU"; with KVM the host's model shows through
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      runs,
      bestProgramMs: best,
      medianProgramMs: sorted[Math.floor(sorted.length / 2)],
      ipvsadmRestoreMs,
      target: { dests: 10_000, underMs: 1000, met: SERVICES * DESTS >= 10_000 && best < 1000 },
    },
    null,
    2,
  ),
);
