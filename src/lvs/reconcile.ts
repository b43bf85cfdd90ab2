/**
 * Makes the kernel's IPVS table equal to the desired one with the fewest changes.
 *
 * - A service or destination that already matches is left alone, so its connections live
 *   on; a changed weight, threshold or forwarding method is an edit, a changed scheduler,
 *   persistence or flag an edit of the service — never delete + add.
 * - Ownership: `owned` holds what vigil manages — what it added, and the matching entries
 *   it found and adopted (they are exactly what vigil would have added). Only owned entries
 *   are ever deleted: a service or destination that someone else put in the kernel and
 *   that vigil does not want is left alone. On stop, `planStop` removes what is owned.
 * - `planReconcile` is pure; `applyPlan` runs a plan through the narrow IpvsControl,
 *   batched, and keeps `owned` in step with what succeeded.
 */
import { describeDest, describeService, destKey, serviceKey } from '../netlink/ipvs/attrs.ts';
import { IpvsError } from '../netlink/ipvs/errors.ts';
import type { IpvsChange, IpvsControl, IpvsDest, IpvsService } from '../netlink/ipvs/types.ts';
import type { DesiredService } from './desired.ts';

export interface ActualService {
  readonly service: IpvsService;
  readonly dests: readonly IpvsDest[];
}

/** The kernel's table as read by `readActual`. */
export type ActualTable = readonly ActualService[];

/** What vigil manages: service keys, and `serviceKey|destKey` for destinations. */
export interface Owned {
  readonly services: Set<string>;
  readonly dests: Set<string>;
}

export function emptyOwned(): Owned {
  return { services: new Set(), dests: new Set() };
}

export type Op =
  | { readonly op: 'add-service'; readonly service: IpvsService }
  | { readonly op: 'edit-service'; readonly service: IpvsService; readonly from: IpvsService }
  | { readonly op: 'del-service'; readonly service: IpvsService }
  | { readonly op: 'add-dest'; readonly service: IpvsService; readonly dest: IpvsDest }
  | { readonly op: 'edit-dest'; readonly service: IpvsService; readonly dest: IpvsDest; readonly from: IpvsDest }
  | { readonly op: 'del-dest'; readonly service: IpvsService; readonly dest: IpvsDest }
  /** no kernel call: a matching entry found in the kernel becomes owned */
  | { readonly op: 'adopt-service'; readonly service: IpvsService }
  | { readonly op: 'adopt-dest'; readonly service: IpvsService; readonly dest: IpvsDest };

const ownedDestKey = (s: IpvsService, d: IpvsDest): string => `${serviceKey(s)}|${destKey(d)}`;

function sameStrings(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = [...(a ?? [])].sort();
  const y = [...(b ?? [])].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Same scheduler, persistence and flags (identity is compared by key). Canonical forms. */
export function sameServiceParams(a: IpvsService, b: IpvsService): boolean {
  return (
    a.scheduler === b.scheduler &&
    a.persistent?.timeoutS === b.persistent?.timeoutS &&
    a.persistent?.netmask === b.persistent?.netmask &&
    sameStrings(a.flags, b.flags)
  );
}

/** Same forwarding, weight and thresholds (identity is compared by key). Canonical forms. */
export function sameDestParams(a: IpvsDest, b: IpvsDest): boolean {
  return (
    a.forward === b.forward &&
    a.weight === b.weight &&
    (a.upperThreshold ?? 0) === (b.upperThreshold ?? 0) &&
    (a.lowerThreshold ?? 0) === (b.lowerThreshold ?? 0)
  );
}

/**
 * The operations that turn `actual` into `desired`: deletions first (owned destinations,
 * then owned services), then service additions and edits, then destination additions and
 * edits. Services and destinations in canonical form (desired.ts and the decoder give it).
 */
export function planReconcile(desired: readonly DesiredService[], actual: ActualTable, owned: Owned): Op[] {
  const actualByKey = new Map(actual.map((a) => [serviceKey(a.service), a]));
  const desiredKeys = new Set(desired.map((d) => serviceKey(d.service)));
  const delDests: Op[] = [];
  const delServices: Op[] = [];
  const svcOps: Op[] = [];
  const destOps: Op[] = [];

  for (const a of actual) {
    const key = serviceKey(a.service);
    if (!desiredKeys.has(key) && owned.services.has(key)) delServices.push({ op: 'del-service', service: a.service });
  }

  for (const want of desired) {
    const key = serviceKey(want.service);
    const have = actualByKey.get(key);
    if (!have) {
      svcOps.push({ op: 'add-service', service: want.service });
      for (const d of want.dests) destOps.push({ op: 'add-dest', service: want.service, dest: d });
      continue;
    }
    if (!owned.services.has(key)) svcOps.push({ op: 'adopt-service', service: have.service });
    if (!sameServiceParams(want.service, have.service)) svcOps.push({ op: 'edit-service', service: want.service, from: have.service });

    const haveDests = new Map(have.dests.map((d) => [destKey(d), d]));
    const wantKeys = new Set(want.dests.map((d) => destKey(d)));
    for (const d of have.dests) {
      if (!wantKeys.has(destKey(d)) && owned.dests.has(ownedDestKey(want.service, d))) {
        delDests.push({ op: 'del-dest', service: want.service, dest: d });
      }
    }
    for (const d of want.dests) {
      const h = haveDests.get(destKey(d));
      if (!h) {
        destOps.push({ op: 'add-dest', service: want.service, dest: d });
        continue;
      }
      if (!owned.dests.has(ownedDestKey(want.service, d))) destOps.push({ op: 'adopt-dest', service: want.service, dest: h });
      if (!sameDestParams(d, h)) destOps.push({ op: 'edit-dest', service: want.service, dest: d, from: h });
    }
  }
  return [...delDests, ...delServices, ...svcOps, ...destOps];
}

/** Removes what vigil owns: owned services (their destinations go with them), then owned
 * destinations of services it does not own. */
export function planStop(actual: ActualTable, owned: Owned): Op[] {
  const dels: Op[] = [];
  const svcDels: Op[] = [];
  for (const a of actual) {
    const key = serviceKey(a.service);
    if (owned.services.has(key)) {
      svcDels.push({ op: 'del-service', service: a.service });
      continue;
    }
    for (const d of a.dests) if (owned.dests.has(ownedDestKey(a.service, d))) dels.push({ op: 'del-dest', service: a.service, dest: d });
  }
  return [...dels, ...svcDels];
}

/**
 * Reads the kernel's table: every service and its destinations (one dump at a time). A
 * service whose destinations do not decode (someone else's exotic entry) is left out and
 * reported to `onSkip`, so that it cannot stop vigil from managing its own services.
 */
export async function readActual(ipvs: IpvsControl, onSkip?: (err: IpvsError) => void): Promise<ActualService[]> {
  const services = await ipvs.listServices();
  const out: ActualService[] = [];
  for (const s of services) {
    const { stats: _stats, ...service } = s;
    let dests: IpvsDest[];
    try {
      dests = (await ipvs.listDests(service)).map(({ activeConns: _a, inactiveConns: _i, persistConns: _p, stats: _s, ...d }) => d);
    } catch (err) {
      // deleted between the two dumps by someone else: it is simply not there
      if (err instanceof IpvsError && err.code === 'VIGIL_IPVS_ESRCH') continue;
      if (err instanceof IpvsError && err.code === 'VIGIL_IPVS_BAD_REPLY') {
        onSkip?.(err);
        continue;
      }
      throw err;
    }
    out.push({ service, dests });
  }
  return out;
}

export interface ApplyFailure {
  readonly op: Op;
  readonly error: IpvsError;
}

export interface ApplyResult {
  /** kernel calls that succeeded */
  readonly applied: number;
  readonly adopted: number;
  readonly failed: readonly ApplyFailure[];
}

export function describeOp(op: Op): string {
  switch (op.op) {
    case 'add-service':
    case 'edit-service':
    case 'del-service':
    case 'adopt-service':
      return `${op.op} ${describeService(op.service)}`;
    case 'add-dest':
    case 'edit-dest':
    case 'del-dest':
    case 'adopt-dest':
      return `${op.op} ${describeDest(op.service, op.dest)}`;
  }
}

/** The kernel change an op stands for; undefined for adoptions (no kernel call). */
function change(op: Op): IpvsChange | undefined {
  switch (op.op) {
    case 'add-service':
    case 'edit-service':
    case 'del-service':
      return { op: op.op, service: op.service };
    case 'add-dest':
    case 'edit-dest':
    case 'del-dest':
      return { op: op.op, service: op.service, dest: op.dest };
    case 'adopt-service':
    case 'adopt-dest':
      return undefined;
  }
}

/** Deleting something already gone is success: the outcome is what was wanted. */
function alreadyDone(op: Op, err: IpvsError): boolean {
  return (op.op === 'del-service' && err.code === 'VIGIL_IPVS_ESRCH') || (op.op === 'del-dest' && err.code === 'VIGIL_IPVS_ENOENT');
}

function record(owned: Owned, op: Op): void {
  switch (op.op) {
    case 'add-service':
    case 'adopt-service':
      owned.services.add(serviceKey(op.service));
      return;
    case 'del-service': {
      const key = serviceKey(op.service);
      owned.services.delete(key);
      for (const k of [...owned.dests]) if (k.startsWith(`${key}|`)) owned.dests.delete(k);
      return;
    }
    case 'add-dest':
    case 'adopt-dest':
      owned.dests.add(ownedDestKey(op.service, op.dest));
      return;
    case 'del-dest':
      owned.dests.delete(ownedDestKey(op.service, op.dest));
      return;
    case 'edit-service':
    case 'edit-dest':
      return;
  }
}

/**
 * Runs `ops` in order through `ipvs.apply` (batched on the wire). Destination operations of
 * a service whose addition failed are not sent (they would fail with ESRCH); they are
 * reported as failed with that service's error. `owned` is updated as ops succeed.
 * Rejects only when a whole batch failed (client closed, socket error, deadline).
 */
export async function applyPlan(ipvs: IpvsControl, ops: readonly Op[], owned: Owned = emptyOwned()): Promise<ApplyResult> {
  let applied = 0;
  let adopted = 0;
  const failed: ApplyFailure[] = [];
  const isDestOp = (op: Op): boolean => op.op === 'add-dest' || op.op === 'edit-dest' || op.op === 'adopt-dest';
  // phase 1: deletions and service operations; phase 2: destination additions and edits
  const phases = [ops.filter((o) => !isDestOp(o)), ops.filter(isDestOp)];
  const failedServices = new Map<string, IpvsError>();

  for (const phase of phases) {
    const sent: Op[] = [];
    const changes: IpvsChange[] = [];
    for (const op of phase) {
      const c = change(op);
      if (!c) {
        adopted++;
        record(owned, op);
        continue;
      }
      const blocked = 'dest' in op ? failedServices.get(serviceKey(op.service)) : undefined;
      if (blocked) {
        failed.push({ op, error: blocked });
        continue;
      }
      sent.push(op);
      changes.push(c);
    }
    const errors = changes.length > 0 ? await ipvs.apply(changes) : [];
    sent.forEach((op, i) => {
      const error = errors[i];
      if (!error || alreadyDone(op, error)) {
        applied++;
        record(owned, op);
        return;
      }
      if (op.op === 'add-service') failedServices.set(serviceKey(op.service), error);
      failed.push({ op, error });
    });
  }
  return { applied, adopted, failed };
}

/**
 * One reconcile pass as the supervisor runs it: read the kernel, plan against `desired`,
 * apply, and say what was done. `owned` is updated in place.
 */
export async function reconcileOnce(
  ipvs: IpvsControl,
  desired: readonly DesiredService[],
  owned: Owned,
  onSkip?: (err: IpvsError) => void,
): Promise<{ readonly ops: readonly Op[]; readonly result: ApplyResult }> {
  const ops = planReconcile(desired, await readActual(ipvs, onSkip), owned);
  const result = await applyPlan(ipvs, ops, owned);
  return { ops, result };
}
