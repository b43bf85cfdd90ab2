/**
 * vrrp_sync_group: instances that move together (keepalived vrrp_sync.c and the TSM of
 * vrrp_scheduler.c). One member entering FAULT puts every member in FAULT; one becoming
 * MASTER makes the others MASTER; one going back to BACKUP takes the others with it.
 *
 * Pure: `onTransition` returns the `sync` events for the other members; the caller feeds
 * them to those routers (whose own transitions then come back here and change nothing,
 * since the group is already in that state).
 *
 * Optionally each member's router is attached (`attach`) and given the group's gate
 * (`gate`) at construction, for keepalived's two group-wide rules:
 * - vrrp_sync_can_goto_master: a member whose master-down timer expires becomes MASTER only
 *   if the group is MASTER already or every other member wants MASTER too (else it stays
 *   BACKUP and waits another master-down interval) — this avoids thrashing;
 * - num_member_fault: a member whose fault clears stays in FAULT while another member is
 *   still in its own fault.
 */
import type { VrrpSyncGroup } from '../config/model.ts';
import type { RouterEvent, SyncGate, VrrpState } from './router.ts';

/** What the group reads of a member; `Router` satisfies it. */
export interface SyncMemberView {
  readonly state: VrrpState;
  readonly wantState: 'MASTER' | 'BACKUP' | 'FAULT';
  readonly faulted: boolean;
}

export type GroupState = 'MASTER' | 'BACKUP' | 'FAULT';

export interface SyncEvent {
  readonly instance: string;
  readonly event: Extract<RouterEvent, { type: 'sync' }>;
}

interface Group {
  readonly name: string;
  readonly members: readonly string[];
  state: GroupState;
}

export class SyncGroups {
  private readonly groups = new Map<string, Group>();
  /** instance → its group (keepalived: an instance belongs to one group; later ones are ignored) */
  private readonly byInstance = new Map<string, Group>();
  private readonly views = new Map<string, SyncMemberView>();

  constructor(groups: readonly Pick<VrrpSyncGroup, 'name' | 'members'>[]) {
    for (const g of groups) {
      const group: Group = { name: g.name, members: [...g.members], state: 'BACKUP' };
      this.groups.set(g.name, group);
      for (const m of g.members) if (!this.byInstance.has(m)) this.byInstance.set(m, group);
    }
  }

  groupOf(instance: string): string | undefined {
    return this.byInstance.get(instance)?.name;
  }

  state(group: string): GroupState | undefined {
    return this.groups.get(group)?.state;
  }

  /** Let the group read a member's state (for the gate and to skip members already there). */
  attach(instance: string, view: SyncMemberView): void {
    if (this.byInstance.has(instance)) this.views.set(instance, view);
  }

  detach(instance: string): void {
    this.views.delete(instance);
  }

  /** The gate to give the member's Router (RouterOptions.sync); undefined outside any group. */
  gate(instance: string): SyncGate | undefined {
    const g = this.byInstance.get(instance);
    if (!g) return undefined;
    return {
      canGoMaster: () => this.canGoMaster(g, instance),
      othersFaulted: () => this.others(g, instance).some(([, v]) => v.faulted),
    };
  }

  /** keepalived vrrp_sync_can_goto_master */
  private canGoMaster(g: Group, instance: string): boolean {
    if (g.state === 'MASTER') return true;
    return this.others(g, instance).every(([, v]) => v.wantState === 'MASTER');
  }

  private others(g: Group, instance: string): [string, SyncMemberView][] {
    const out: [string, SyncMemberView][] = [];
    for (const m of g.members) {
      if (m === instance) continue;
      const v = this.views.get(m);
      if (v) out.push([m, v]);
    }
    return out;
  }

  /**
   * A member changed state: the events that bring the other members along (keepalived
   * vrrp_sync_master / vrrp_sync_backup / vrrp_sync_fault). Stopping (→ INIT) moves nobody.
   */
  onTransition(instance: string, to: VrrpState): SyncEvent[] {
    const g = this.byInstance.get(instance);
    if (!g || to === 'INIT' || g.state === to) return [];
    g.state = to;
    const reason = `${instance} entered ${to} (group ${g.name})`;
    const out: SyncEvent[] = [];
    for (const m of g.members) {
      if (m === instance) continue;
      const v = this.views.get(m);
      if (v && (v.state === to || v.state === 'INIT')) continue;
      out.push({ instance: m, event: { type: 'sync', to, reason } });
    }
    return out;
  }
}
