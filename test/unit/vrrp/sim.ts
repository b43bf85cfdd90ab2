/**
 * A stepping simulator for unit tests of the pure router: a fake clock, the timers each
 * router arms, and a zero-latency segment that carries `send-advert` effects to the other
 * routers as `advert` events. It performs the effects as workers/vrrp.ts would (timers,
 * VIP flag), records them, and never sleeps.
 */
import type { Advert } from '../../../src/vrrp/packet.ts';
import { Router, type RouterEffect, type RouterEvent, type RouterOptions, type RouterParams, type TimerName } from '../../../src/vrrp/router.ts';
import type { SyncGroups } from '../../../src/vrrp/sync-group.ts';

export function params(over: Partial<RouterParams> = {}): RouterParams {
  return {
    name: 'VI_1',
    vrid: 51,
    version: 2,
    family: 4,
    priority: 100,
    advertIntMs: 1000,
    preempt: true,
    preemptDelayMs: 0,
    initialState: 'BACKUP',
    addresses: ['10.211.0.100'],
    primaryAddress: '10.211.0.2',
    unicast: false,
    ...over,
  };
}

export interface Sent {
  at: number;
  from: string;
  advert: Advert;
}

export class Node {
  readonly router: Router;
  readonly timers = new Map<TimerName, number>();
  readonly effects: { at: number; effect: RouterEffect }[] = [];
  vips = false;
  /** SIGKILL: the node neither sends nor receives nor fires timers */
  dead = false;
  segment = 0;
  /** the machine this router runs on: sync groups act among the routers of one host */
  host = '';

  constructor(
    readonly sim: Sim,
    readonly name: string,
    p: RouterParams,
    opts: RouterOptions = {},
    router?: Router,
  ) {
    this.router = router ?? new Router(p, sim.now, opts);
  }

  get state(): string {
    return this.router.state;
  }

  handle(ev: RouterEvent): RouterEffect[] {
    if (this.dead) return [];
    const fx = this.router.handle(ev);
    this.apply(fx);
    return fx;
  }

  apply(fx: readonly RouterEffect[]): void {
    for (const e of fx) {
      this.effects.push({ at: this.sim.t, effect: e });
      switch (e.type) {
        case 'arm-timer':
          this.timers.set(e.timer, this.sim.t + e.ms);
          break;
        case 'cancel-timer':
          this.timers.delete(e.timer);
          break;
        case 'take-over':
          this.vips = true;
          break;
        case 'release':
          this.vips = false;
          break;
        case 'send-advert':
          this.sim.send(this, e.advert);
          break;
        case 'transition':
          this.sim.onTransition(this, e.to);
          break;
      }
    }
  }

  /** effects of one type since `since` */
  of<T extends RouterEffect['type']>(type: T, since = -Infinity): Extract<RouterEffect, { type: T }>[] {
    return this.effects.filter((x) => x.at >= since && x.effect.type === type).map((x) => x.effect as Extract<RouterEffect, { type: T }>);
  }

  transitions(): string[] {
    return this.of('transition').map((e) => `${e.from}->${e.to}`);
  }
}

export class Sim {
  t = 0;
  readonly now = (): number => this.t;
  readonly nodes: Node[] = [];
  readonly sent: Sent[] = [];
  private readonly queue: { to: Node; advert: Advert; source: string }[] = [];
  /** sync groups by host */
  readonly sync = new Map<string, SyncGroups>();

  add(name: string, p: RouterParams, opts: RouterOptions = {}, host = name): Node {
    const n = new Node(this, name, p, opts);
    n.host = host;
    this.nodes.push(n);
    return n;
  }

  adopt(name: string, router: Router): Node {
    const n = new Node(this, name, router.params, {}, router);
    this.nodes.push(n);
    return n;
  }

  send(from: Node, advert: Advert): void {
    this.sent.push({ at: this.t, from: from.name, advert });
    for (const n of this.nodes) {
      if (n === from || n.dead || n.segment !== from.segment) continue;
      if (n.router.params.vrid !== advert.vrid) continue;
      this.queue.push({ to: n, advert, source: from.router.params.primaryAddress });
    }
  }

  onTransition(n: Node, to: string): void {
    const groups = this.sync.get(n.host);
    if (!groups) return;
    for (const ev of groups.onTransition(n.router.params.name, to as 'MASTER')) {
      const other = this.nodes.find((x) => x.router.params.name === ev.instance && x.host === n.host);
      if (other) other.handle(ev.event);
    }
  }

  /** Deliver queued adverts, then fire due timers in time order, until `t` reaches `until`. */
  runUntil(until: number): void {
    for (;;) {
      this.flush();
      let best: { node: Node; timer: TimerName; at: number } | undefined;
      for (const node of this.nodes) {
        if (node.dead) continue;
        for (const [timer, at] of node.timers) if (at <= until && (!best || at < best.at)) best = { node, timer, at };
      }
      if (!best) break;
      this.t = best.at;
      best.node.timers.delete(best.timer);
      best.node.handle({ type: 'timer', timer: best.timer });
    }
    this.t = until;
    this.flush();
  }

  run(ms: number): void {
    this.runUntil(this.t + ms);
  }

  private flush(): void {
    while (this.queue.length > 0) {
      const q = this.queue.shift()!;
      if (!q.to.dead) q.to.handle({ type: 'advert', advert: q.advert, source: q.source });
    }
  }

  /** Adverts sent by `from` within [a, b]. */
  sentBy(from: string, a = -Infinity, b = Infinity): Sent[] {
    return this.sent.filter((s) => s.from === from && s.at >= a && s.at <= b);
  }

  /** The time `node` last entered `state`. */
  enteredAt(node: Node, state: string): number | undefined {
    const e = [...node.effects].reverse().find((x) => x.effect.type === 'transition' && x.effect.to === state);
    return e?.at;
  }
}
