/**
 * Per-instance protocol counters, plain data (they cross MessagePorts and go into status
 * and metrics). Names follow keepalived's vrrp stats (become_master, release_master,
 * pri_zero_sent, pri_zero_rcvd …) and RFC 6527's VRRPv3 MIB where they overlap.
 */
import type { DropReason } from './packet.ts';

/** Why a valid advert changed nothing: every key is a metric label. */
export type IgnoreReason =
  /** INIT or FAULT: keepalived ignores adverts then (vrrp_dispatcher_read) */
  | 'not-running'
  /** a preempting backup discards lower-priority adverts (RFC 5798 §6.4.2) */
  | 'lower-priority'
  /** equal priority from our own address (keepalived logs a warning) */
  | 'own-address'
  /** another VRID or version: the decoder should have dropped it */
  | 'mismatch';

export interface RouterCounters {
  advertsSent: number;
  advertsReceived: number;
  priorityZeroSent: number;
  priorityZeroReceived: number;
  /** keepalived become_master */
  becameMaster: number;
  /** keepalived release_master */
  releasedMaster: number;
  /** by `FROM->TO` */
  transitions: Record<string, number>;
  ignored: Partial<Record<IgnoreReason, number>>;
  /** timer events for a timer that was not armed (cancelled or re-armed meanwhile) */
  staleTimers: number;
}

export function newRouterCounters(): RouterCounters {
  return {
    advertsSent: 0,
    advertsReceived: 0,
    priorityZeroSent: 0,
    priorityZeroReceived: 0,
    becameMaster: 0,
    releasedMaster: 0,
    transitions: {},
    ignored: {},
    staleTimers: 0,
  };
}

export function cloneRouterCounters(c: RouterCounters): RouterCounters {
  return { ...c, transitions: { ...c.transitions }, ignored: { ...c.ignored } };
}

/** Dropped packets by reason (decodeAdvert / decodeIpv4Packet); the caller counts, the codec only names. */
export class DropCounters {
  private readonly counts: Partial<Record<DropReason | string, number>> = {};
  add(reason: DropReason | string): number {
    const n = (this.counts[reason] ?? 0) + 1;
    this.counts[reason] = n;
    return n;
  }
  get(reason: DropReason | string): number {
    return this.counts[reason] ?? 0;
  }
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.counts)) if (v !== undefined) out[k] = v;
    return out;
  }
}
