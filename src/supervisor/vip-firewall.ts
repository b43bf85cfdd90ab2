/**
 * keepalived's firewall for VIPs (global_defs `nftables`, and `vrrp_iptables`/`vrrp_ipsets`
 * mapped onto it): while an instance that is not the address owner and not in accept mode
 * (RFC 5798 §6.1 Accept_Mode False) is MASTER, the host must not accept packets addressed
 * to its VIPs nor send from them; its addresses go into an nftables set that drop rules
 * match. The set is filled before the addresses are added at a take-over and emptied after
 * they are removed (keepalived vrrp.c vrrp_state_become_master / vrrp_restore_interface).
 *
 * The ruleset is keepalived 2.2's (vrrp_nftables.c), built with the `nft` command rather
 * than raw NFNETLINK: tables `ip TABLE` and `ip6 TABLE`, each with an `in` (input hook) and
 * an `out` (output hook) chain at `nftables_priority` (-1), a set `vips`, and `daddr @vips
 * drop` / `saddr @vips drop`. IPv6 lets neighbour discovery through (else a no-accept
 * master could not answer NS for its own VIPs) and matches link-local VIPs with their
 * interface. A table left by an earlier run is deleted before the first use; both tables are
 * deleted at stop. Not built: keepalived's IGMP/MLD rules for VMAC interfaces.
 *
 * The supervisor owns it (DESIGN.md: the main thread is the only owner of kernel state).
 */
import type { VipFirewall } from '../config/model.ts';
import { existsSync } from 'node:fs';
import { runScript } from '../check/script-runner.ts';

/**
 * The nftables command, from the system's sbin directories before PATH: a PATH that starts
 * with a project's node_modules/.bin finds @vercel/nft's `nft` (a file tracer) first.
 */
export function nftCommand(): string {
  return ['/usr/sbin/nft', '/sbin/nft', '/usr/local/sbin/nft'].find((p) => existsSync(p)) ?? 'nft';
}

/** one VIP as the drop rules need it */
export interface FirewallAddress {
  readonly address: string;
  readonly family: 4 | 6;
  /** for a link-local IPv6 VIP: its interface */
  readonly ifname: string;
  readonly ifindex?: number;
  /** key link-local VIPs by interface name (keepalived: dont_track_primary without nftables_ifindex) */
  readonly byName?: boolean;
}

/** The narrow interface the VRRP host uses (habit 6); the real one is NftVipFirewall. */
export interface VipFirewallControl {
  /** the instance's VIPs in the drop sets become exactly `addrs` (empty: none) */
  hold(instance: string, addrs: readonly FirewallAddress[]): Promise<void>;
  /** both tables deleted, whoever made them (a crashed run's leftovers too) */
  close(): Promise<void>;
}

/** ms: an `nft` run that takes longer is killed (SIGTERM, then SIGKILL after 1 s) */
const NFT_TIMEOUT_MS = 5000;

const isLinkLocal = (a: FirewallAddress): boolean => a.family === 6 && /^fe[89ab]/i.test(a.address);

/** The set an address goes into and its element text. */
export function element(a: FirewallAddress): { family: 'ip' | 'ip6'; set: string; elem: string } {
  if (a.family === 4) return { family: 'ip', set: 'vips', elem: a.address };
  if (!isLinkLocal(a)) return { family: 'ip6', set: 'vips', elem: a.address };
  if (a.byName === true || a.ifindex === undefined) return { family: 'ip6', set: 'vips_link_local_name', elem: `${a.address} . "${a.ifname}"` };
  return { family: 'ip6', set: 'vips_link_local', elem: `${a.address} . ${a.ifindex}` };
}

/**
 * `nft` commands that create the table of `family` afresh: a leftover of the same name is
 * deleted first (`table X; delete table X` deletes whether or not it existed).
 */
export function tableScript(fw: VipFirewall, family: 'ip' | 'ip6'): string {
  const t = `${family} ${fw.table}`;
  const c = fw.counters ? 'counter ' : '';
  const hook = (h: 'input' | 'output'): string => `type filter hook ${h} priority ${fw.priority}; policy accept;`;
  if (family === 'ip') {
    return [
      `table ${t}; delete table ${t}`,
      `table ${t} { set vips { type ipv4_addr; }; ` +
        `chain in { ${hook('input')} ip daddr @vips ${c}drop; }; ` +
        `chain out { ${hook('output')} ip saddr @vips ${c}drop; }; }`,
    ].join('; ');
  }
  return [
    `table ${t}; delete table ${t}`,
    `table ${t} { set vips { type ipv6_addr; }; ` +
      'set vips_link_local { type ipv6_addr . iface_index; }; ' +
      'set vips_link_local_name { type ipv6_addr . ifname; }; ' +
      'set neighbor-discovery { type icmpv6_type; elements = { nd-neighbor-solicit, nd-neighbor-advert }; }; ' +
      `chain in_link_local { ip6 daddr . iif @vips_link_local ${c}drop; ip6 daddr . iifname @vips_link_local_name ${c}drop; }; ` +
      `chain out_link_local { ip6 saddr . oif @vips_link_local ${c}drop; ip6 saddr . oifname @vips_link_local_name ${c}drop; }; ` +
      `chain in { ${hook('input')} icmpv6 type @neighbor-discovery ${c}accept; ip6 daddr fe80::/10 ${c}goto in_link_local; ip6 daddr @vips ${c}drop; }; ` +
      `chain out { ${hook('output')} icmpv6 type @neighbor-discovery ${c}accept; ip6 saddr fe80::/10 ${c}goto out_link_local; ip6 saddr @vips ${c}drop; }; }`,
  ].join('; ');
}

type Elem = ReturnType<typeof element>;
const keyOf = (e: Elem): string => `${e.family} ${e.set} ${e.elem}`;

/** `add element` / `delete element` commands for `elems`, one per set. */
export function elementScript(table: string, verb: 'add' | 'delete', elems: ReadonlyArray<Elem>): string {
  const bySet = new Map<string, string[]>();
  for (const e of elems) {
    const k = `${e.family} ${table} ${e.set}`;
    bySet.set(k, [...(bySet.get(k) ?? []), e.elem]);
  }
  return [...bySet].map(([k, es]) => `${verb} element ${k} { ${es.join(', ')} }`).join('; ');
}

export class NftVipFirewall implements VipFirewallControl {
  /** families whose table this process created */
  private readonly tables = new Set<'ip' | 'ip6'>();
  /** element key -> the instances that hold it (two instances may share a VIP) */
  private readonly holders = new Map<string, Set<string>>();
  private readonly byInstance = new Map<string, Array<Elem>>();
  /** one nft run at a time: a take-over and a release must apply in order */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly fw: VipFirewall,
    /** the `nft` command (a test runs it in its namespace: `ip netns exec NS nft`) */
    private readonly nft: readonly string[] = [nftCommand()],
  ) {}

  get table(): string {
    return this.fw.table;
  }

  hold(instance: string, addrs: readonly FirewallAddress[]): Promise<void> {
    return this.serial(async () => {
      const have = this.byInstance.get(instance) ?? [];
      const want = addrs.map(element).filter((e, i, all) => all.findIndex((o) => keyOf(o) === keyOf(e)) === i);
      const added = want.filter((e) => !have.some((h) => keyOf(h) === keyOf(e)));
      const dropped = have.filter((h) => !want.some((e) => keyOf(e) === keyOf(h)));
      // the kernel's sets change only where no other instance holds the same element
      const holders = (e: Elem): number => this.holders.get(keyOf(e))?.size ?? 0;
      const fresh = added.filter((e) => holders(e) === 0);
      const gone = dropped.filter((e) => holders(e) === 1 && this.tables.has(e.family));
      const setup = [...new Set(fresh.map((e) => e.family))].filter((f) => !this.tables.has(f));
      const script = [...setup.map((f) => tableScript(this.fw, f)), elementScript(this.fw.table, 'add', fresh), elementScript(this.fw.table, 'delete', gone)]
        .filter((s) => s !== '')
        .join('; ');
      if (script !== '') await this.run(script);
      for (const f of setup) this.tables.add(f);
      for (const e of added) this.holders.set(keyOf(e), (this.holders.get(keyOf(e)) ?? new Set<string>()).add(instance));
      for (const e of dropped) {
        const set = this.holders.get(keyOf(e));
        set?.delete(instance);
        if (set?.size === 0) this.holders.delete(keyOf(e));
      }
      if (want.length > 0) this.byInstance.set(instance, want);
      else this.byInstance.delete(instance);
    });
  }

  close(): Promise<void> {
    return this.serial(async () => {
      this.tables.clear();
      this.holders.clear();
      this.byInstance.clear();
      const t = this.fw.table;
      await this.run(`table ip ${t}; delete table ip ${t}; table ip6 ${t}; delete table ip6 ${t}`);
    });
  }

  private serial(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** One `nft` transaction: all of `script` applies or none of it. */
  private async run(script: string): Promise<void> {
    const r = await runScript([...this.nft, script], { timeoutMs: NFT_TIMEOUT_MS, graceMs: 1000 });
    if (r.error !== undefined) throw new Error(`cannot run nft: ${r.error}`);
    if (r.timedOut) throw new Error(`nft did not finish within ${NFT_TIMEOUT_MS} ms`);
    if (r.exitCode !== 0) throw new Error(`nft failed (${r.exitCode ?? r.signal}): ${r.output.trim().split('\n')[0] ?? ''}`);
  }
}
