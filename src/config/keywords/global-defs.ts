/**
 * `global_defs { ... }`. Defaults are keepalived 2.2's (keepalived.conf(5); global_data.c):
 * smtp_connect_timeout 30 s, vrrp_version 2, 224.0.0.18 / ff02::12, garp_master_delay 5 s,
 * garp_master_repeat 5, no refresh, refresh_repeat 1, garp/gna interval 0.
 */
import type { GlobalDefs, LvsTimeouts } from '../model.ts';
import { tokLoc, type Node } from '../tree.ts';
import {
  arg,
  parseIntStrict,
  intArg,
  intTok,
  ipArg,
  noExtra,
  parseSeconds,
  setLoc,
  timerArg,
  wholeSecondsArg,
  type Ctx,
} from '../values.ts';
import { block, simple, type BlockSpec, type Handler, type Mutable } from './table.ts';

export type GlobalDraft = Mutable<GlobalDefs> & {
  notificationEmail: string[];
  /** `nftables_*` seen before or without `nftables`: folded into vipFirewall by finishGlobals */
  nft: { table?: string; priority?: number; counters?: boolean; ifindex?: boolean; fromIptables?: boolean };
};

export function defaultGlobals(): GlobalDraft {
  return {
    notificationEmail: [],
    smtpConnectTimeoutMs: 30_000,
    vrrpVersion: 2,
    vrrpMcastGroup4: '224.0.0.18',
    vrrpMcastGroup6: 'ff02::12',
    vrrpGarpMasterDelayMs: 5_000,
    vrrpGarpMasterRepeat: 5,
    vrrpGarpMasterRefreshMs: 0,
    vrrpGarpMasterRefreshRepeat: 1,
    vrrpGarpIntervalMs: 0,
    vrrpGnaIntervalMs: 0,
    vrrpStrict: false,
    vrrpSkipCheckAdvAddr: false,
    enableScriptSecurity: false,
    nft: {},
  };
}

/** The VIP firewall from the `nftables*` keywords, whatever their order (keepalived reads them into global_data the same way). */
export function finishGlobals(g: GlobalDraft): GlobalDefs {
  const nft = g.nft;
  // the same object: field locations (ctx.locs) are keyed by it
  delete (g as { nft?: unknown }).nft;
  if (nft.table !== undefined) g.vipFirewall = { table: nft.table, priority: nft.priority ?? -1, counters: nft.counters ?? false, ifindex: nft.ifindex ?? false };
  return g;
}

type G = GlobalDraft;

function str(field: 'routerId' | 'notificationEmailFrom' | 'smtpHeloName' | 'notifyFifo' | 'vrrpNotifyFifo' | 'lvsNotifyFifo'): Handler<G> {
  return simple((n, g, ctx) => {
    const t = arg(n, ctx);
    if (t !== undefined) {
      g[field] = t.text;
      setLoc(ctx, g, field, t);
    }
  });
}

/** `smtp_alert [BOOL]`: keepalived says "Invalid value 'X' for global smtp_alert" and keeps what it had. */
function bool(field: 'smtpAlert' | 'smtpAlertVrrp' | 'smtpAlertChecker'): Handler<G> {
  return simple((n, g, ctx) => {
    const t = n.args[0];
    const w = t?.text.toLowerCase();
    if (t === undefined || w === 'on' || w === 'true' || w === 'yes') g[field] = true;
    else if (w === 'off' || w === 'false' || w === 'no') g[field] = false;
    else ctx.sink.warn(tokLoc(t), 'bad-value', `invalid value \`${t.text}\` for ${n.kw.text} (on|off|true|false|yes|no); ignored, as keepalived does`);
  });
}

/** With `min`/`max` (ms): a value outside is keepalived's "'X' is invalid" and ignored. */
function secs(field: 'vrrpGarpMasterDelayMs' | 'vrrpGarpMasterRefreshMs' | 'vrrpGarpLowerPrioDelayMs' | 'vrrpGarpIntervalMs' | 'vrrpGnaIntervalMs', min?: number, max?: number): Handler<G> {
  return simple((n, g, ctx) => {
    const v = timerArg(n, ctx);
    if (v !== undefined && ((min !== undefined && v < min) || (max !== undefined && v > max))) {
      ctx.sink.warn(tokLoc(n.args[0] ?? n.kw), 'range', `${n.kw.text} ${v / 1000} s is out of range ${(min ?? 0) / 1000}..${(max ?? Infinity) / 1000} s; ignored, as keepalived does`);
      return;
    }
    if (v !== undefined) {
      g[field] = v;
      setLoc(ctx, g, field, n.args[0] ?? n.kw);
    }
  });
}

function count(field: 'vrrpGarpMasterRepeat' | 'vrrpGarpMasterRefreshRepeat' | 'vrrpGarpLowerPrioRepeat'): Handler<G> {
  return simple((n, g, ctx) => {
    const v = intArg(n, ctx);
    if (v !== undefined) {
      g[field] = v;
      setLoc(ctx, g, field, n.args[0] ?? n.kw);
    }
  });
}

function mcast(field: 'vrrpMcastGroup4' | 'vrrpMcastGroup6', family: 4 | 6): Handler<G> {
  return simple((n, g, ctx) => {
    const ip = ipArg(n, ctx);
    if (ip === undefined) return;
    if (ip.family !== family) {
      ctx.sink.error(tokLoc(n.args[0] ?? n.kw), 'bad-address', `${n.kw.text} needs an IPv${family} address`);
      return;
    }
    g[field] = ip.address;
  });
}

/** A keyword that takes no value (`vrrp_no_swap`): keepalived ignores words after it. */
function flag(set: (g: G) => void): Handler<G> {
  return simple((_n, g) => set(g));
}

/**
 * `vrrp_rlimit_rttime N` (µs, 1..2^32-1; 1 becomes 2, as keepalived halves it for the soft
 * limit). The `_rtime` spelling is keepalived's deprecated one: it says so and reads it.
 */
function rlimit(field: 'vrrpRlimitRttimeUs'): Handler<G> {
  return simple((n, g, ctx) => {
    const kw = n.kw.text;
    if (kw.endsWith('_rtime')) ctx.sink.warn(tokLoc(n.kw), 'deprecated-keyword', `\`${kw}\` is deprecated; use \`${kw.slice(0, -5)}rttime\` (read all the same, as keepalived does)`);
    const t = n.args[0];
    const v = t === undefined ? undefined : parseIntStrict(t.text);
    if (v === undefined || v < 1 || v > 0xffff_ffff) {
      ctx.sink.warn(tokLoc(t ?? n.kw), 'range', `${kw}: \`${t?.text ?? ''}\` is not a realtime limit in microseconds (1..4294967295); ignored, as keepalived does`);
      return;
    }
    g[field] = Math.max(2, v);
    setLoc(ctx, g, field, t ?? n.kw);
  });
}

/** keepalived get_realtime_priority: out of 1..99 is set to the nearest bound, with a warning. */
const rtPriority = simple<G>((n, g, ctx) => {
  const t = n.args[0];
  const v = t === undefined ? undefined : parseIntStrict(t.text);
  if (v === undefined) {
    ctx.sink.warn(tokLoc(t ?? n.kw), 'bad-value', `vrrp_rt_priority \`${t?.text ?? ''}\` is not a realtime priority; ignored, as keepalived does`);
    return;
  }
  const c = Math.min(99, Math.max(1, v));
  if (c !== v) ctx.sink.warn(tokLoc(t!), 'range', `vrrp_rt_priority ${v} is outside 1..99; ${c} used, as keepalived does`);
  g.vrrpRtPriority = c;
});

/** `KEYWORD [on|off|true|false|yes|no]`: anything but those three true words is false, as vigil read it before. */
function globalBool(field: 'vrrpLowerPrioNoAdvert' | 'vrrpHigherPrioSendAdvert'): Handler<G> {
  return simple((n, g) => {
    const w = n.args[0]?.text.toLowerCase();
    g[field] = w === undefined || w === 'on' || w === 'true' || w === 'yes';
  });
}

/**
 * `vrrp_no_swap`, `checker_no_swap`, `bfd_no_swap`: vigil is one process (its checkers are
 * threads of it), so each locks the same memory; and not all of it (src/io/process-limits.ts).
 */
function noSwap(n: Node, g: G, ctx: Ctx): void {
  g.noSwap = true;
  ctx.sink.warn(
    tokLoc(n.kw),
    'partial',
    `\`${n.kw.text}\`: vigil is one process, so this locks the whole daemon (VRRP, checkers and all), and only its code and main stack, not its V8 heaps (mlockall makes V8 abort)`,
  );
}

function legacyFirewall(n: Node, g: G, ctx: Ctx): void {
  ctx.sink.warn(
    tokLoc(n.kw),
    'iptables-as-nftables',
    `\`${n.kw.text}\`: vigil drops traffic to the VIPs through nftables (table \`${g.nft.table ?? 'keepalived'}\`), not iptables chains or ipsets, as keepalived 2.2 does where iptables is nf_tables-based; replace it with \`nftables\``,
  );
  g.nft.table ??= 'keepalived';
  g.nft.fromIptables = true;
}

const keywords: Record<string, Handler<G>> = {
  notification_email: (n, g, ctx) => {
    const kids = block(n, ctx);
    if (kids === undefined) return;
    for (const k of kids) {
      g.notificationEmail.push(k.kw.text);
      for (const a of k.args) g.notificationEmail.push(a.text);
    }
  },
  notification_email_from: str('notificationEmailFrom'),
  smtp_server: simple((n, g, ctx) => {
    const h = arg(n, ctx, 0, 'a host');
    if (h === undefined) return;
    let port = 25;
    const p = n.args[1];
    if (p !== undefined) {
      const v = intTok(p, ctx, 'smtp_server port');
      if (v === undefined) return;
      port = v;
    }
    noExtra(n, ctx, 2);
    g.smtpServer = { host: h.text, port };
    setLoc(ctx, g, 'smtpServer', h);
    setLoc(ctx, g, 'smtpServerPort', p ?? h);
  }),
  smtp_helo_name: str('smtpHeloName'),
  smtp_connect_timeout: simple((n, g, ctx) => {
    const v = wholeSecondsArg(n, ctx, 'smtp_connect_timeout', 'using 30 s');
    if (v === undefined) return;
    g.smtpConnectTimeoutMs = v;
    setLoc(ctx, g, 'smtpConnectTimeoutMs', n.args[0] ?? n.kw);
  }),
  smtp_alert: bool('smtpAlert'),
  smtp_alert_vrrp: bool('smtpAlertVrrp'),
  smtp_alert_checker: bool('smtpAlertChecker'),
  router_id: str('routerId'),
  vrrp_version: simple((n, g, ctx) => {
    const v = intArg(n, ctx);
    if (v === undefined) return;
    if (v !== 2 && v !== 3) {
      ctx.sink.error(tokLoc(n.args[0] ?? n.kw), 'range', `vrrp_version must be 2 or 3, not ${v}`);
      return;
    }
    g.vrrpVersion = v;
  }),
  vrrp_mcast_group4: mcast('vrrpMcastGroup4', 4),
  vrrp_mcast_group6: mcast('vrrpMcastGroup6', 6),
  vrrp_garp_master_delay: secs('vrrpGarpMasterDelayMs'),
  vrrp_garp_master_repeat: count('vrrpGarpMasterRepeat'),
  vrrp_garp_master_refresh: secs('vrrpGarpMasterRefreshMs'),
  vrrp_garp_master_refresh_repeat: count('vrrpGarpMasterRefreshRepeat'),
  vrrp_garp_lower_prio_delay: secs('vrrpGarpLowerPrioDelayMs'),
  vrrp_garp_lower_prio_repeat: count('vrrpGarpLowerPrioRepeat'),
  // keepalived: 0.000001 .. 4294.967295 s (a µs timer in 32 bits)
  vrrp_garp_interval: secs('vrrpGarpIntervalMs', 0.001, 4_294_967.295),
  vrrp_gna_interval: secs('vrrpGnaIntervalMs', 0.001, 4_294_967.295),
  // keepalived reads no value after these three: any word after them still turns them on
  vrrp_strict: flag((g) => (g.vrrpStrict = true)),
  vrrp_skip_check_adv_addr: flag((g) => (g.vrrpSkipCheckAdvAddr = true)),
  enable_script_security: flag((g) => (g.enableScriptSecurity = true)),
  script_user: simple((n, g, ctx) => {
    const u = arg(n, ctx, 0, 'a user name');
    if (u === undefined) return;
    const grp = n.args[1];
    g.scriptUser = grp === undefined ? { user: u.text } : { user: u.text, group: grp.text };
    noExtra(n, ctx, 2);
  }),
  lvs_timeouts: simple((n, g, ctx) => {
    const t: Mutable<LvsTimeouts> = {};
    for (let i = 0; i < n.args.length; i += 2) {
      const k = n.args[i];
      const v = n.args[i + 1];
      if (k === undefined) break;
      const name = k.text.toLowerCase();
      if (name !== 'tcp' && name !== 'tcpfin' && name !== 'udp') {
        ctx.sink.error(tokLoc(k), 'bad-value', `lvs_timeouts: \`${k.text}\` is not one of tcp|tcpfin|udp`);
        return;
      }
      if (v === undefined) {
        ctx.sink.error(tokLoc(k), 'missing-value', `lvs_timeouts: \`${k.text}\` needs a time in seconds`);
        return;
      }
      const ms = parseSeconds(v.text);
      if (ms === undefined) {
        ctx.sink.error(tokLoc(v), 'bad-value', `lvs_timeouts: \`${v.text}\` is not a time in seconds`);
        return;
      }
      if (name === 'tcp') t.tcpMs = ms;
      else if (name === 'tcpfin') t.tcpFinMs = ms;
      else t.udpMs = ms;
    }
    g.lvsTimeouts = t;
  }),
  // keepalived's nftables drop rules for the VIPs of a MASTER in no-accept mode (vip-firewall.ts)
  nftables: simple((n, g, ctx) => {
    const t = n.args[0];
    if (g.nft.table !== undefined && !g.nft.fromIptables) {
      ctx.sink.warn(tokLoc(n.kw), 'duplicate', 'nftables already specified; ignored, as keepalived does');
      return;
    }
    // NFT_TABLE_MAXNAMELEN is 256 with the NUL
    if (t !== undefined && t.text.length >= 256) {
      ctx.sink.warn(tokLoc(t), 'range', 'nftables table name is too long (at most 255 characters); ignored, as keepalived does');
      return;
    }
    g.nft.table = t?.text ?? 'keepalived';
  }),
  nftables_priority: simple((n, g, ctx) => {
    const t = n.args[0];
    const v = t === undefined ? undefined : parseIntStrict(t.text);
    if (v === undefined || v < -0x8000_0000 || v > 0x7fff_ffff) {
      ctx.sink.warn(tokLoc(t ?? n.kw), 'bad-value', `invalid nftables chain priority \`${t?.text ?? ''}\`; ignored (the chains use -1), as keepalived does`);
      return;
    }
    g.nft.priority = v;
  }),
  nftables_counters: flag((g) => (g.nft.counters = true)),
  nftables_ifindex: flag((g) => (g.nft.ifindex = true)),
  // keepalived 2.2 runs these through nftables (table `keepalived`) when the `iptables`
  // command is nf_tables-based, as Debian's and RHEL's are, or absent (vrrp_firewall.c
  // check_iptables_nft); vigil always does, and says so.
  vrrp_iptables: legacyFirewall,
  vrrp_ipsets: legacyFirewall,
  vrrp_rlimit_rttime: rlimit('vrrpRlimitRttimeUs'),
  vrrp_rlimit_rtime: rlimit('vrrpRlimitRttimeUs'),
  max_auto_priority: simple((n, g, ctx) => {
    const t = n.args[0];
    // no value: the highest SCHED_RR priority (sched_get_priority_max, 99 on Linux)
    if (t === undefined) {
      g.maxAutoPriority = 99;
      return;
    }
    const v = parseIntStrict(t.text);
    if (v === undefined || v < -1 || v > 99) {
      ctx.sink.warn(tokLoc(t), 'range', `max_auto_priority \`${t.text}\` must be in [0, 99] (or -1 to disable); ignored, as keepalived does`);
      return;
    }
    g.maxAutoPriority = v;
    setLoc(ctx, g, 'maxAutoPriority', t);
  }),
  min_auto_priority_delay: simple((n, g, ctx) => {
    const t = n.args[0];
    const v = t === undefined ? undefined : parseIntStrict(t.text);
    if (v === undefined || v < 1 || v > 10_000_000) {
      ctx.sink.warn(tokLoc(t ?? n.kw), 'range', `min_auto_priority_delay \`${t?.text ?? ''}\` must be in [1, 10000000] microseconds; ignored, as keepalived does`);
      return;
    }
    g.minAutoPriorityDelayUs = v;
  }),
  vrrp_no_swap: noSwap,
  checker_no_swap: noSwap,
  bfd_no_swap: noSwap,
  default_interface: simple((n, g, ctx) => {
    const t = n.args[0];
    if (t === undefined) {
      ctx.sink.warn(tokLoc(n.kw), 'missing-value', 'default_interface requires an interface name; ignored, as keepalived does');
      return;
    }
    g.defaultInterface = t.text;
    setLoc(ctx, g, 'defaultInterface', t);
  }),
  vrrp_check_unicast_src: flag((g) => (g.vrrpCheckUnicastSrc = true)),
  vrrp_rt_priority: rtPriority,
  vrrp_priority: simple((n, g, ctx) => {
    const t = n.args[0];
    const v = t === undefined ? undefined : parseIntStrict(t.text);
    if (v === undefined || v < -20 || v > 19) {
      ctx.sink.warn(tokLoc(t ?? n.kw), 'range', `invalid vrrp process priority \`${t?.text ?? ''}\` (-20..19); ignored, as keepalived does`);
      return;
    }
    g.vrrpPriority = v;
  }),
  net_namespace: simple((n, g, ctx) => {
    const t = arg(n, ctx, 0, 'a namespace name');
    if (t !== undefined) g.netNamespace = t.text;
  }),
  lvs_sync_daemon: simple((n, g) => {
    g.lvsSyncDaemon = n.args.map((a) => a.text);
  }),
  vrrp_lower_prio_no_advert: globalBool('vrrpLowerPrioNoAdvert'),
  vrrp_higher_prio_send_advert: globalBool('vrrpHigherPrioSendAdvert'),
  notify_fifo: str('notifyFifo'),
  vrrp_notify_fifo: str('vrrpNotifyFifo'),
  lvs_notify_fifo: str('lvsNotifyFifo'),
};

export const globalDefsSpec: BlockSpec<G> = {
  name: 'global_defs',
  keywords,
  // keepalived 2.2 keywords that vigil does not act on yet: said at their line, never "unknown"
  // (OpenShift's on-prem config sets the *_rlimit_rttime family).
  // keepalived 2.2 keywords vigil does not act on: a warning at their line, never silence.
  // checker_/bfd_rlimit_rttime limit a realtime checker or BFD process: vigil's checker
  // threads never run realtime (checker_rt_priority is not built) and it has no BFD.
  unsupported: [
    'vrrp_garp_lower_prio_no_advert',
    'smtp_server_port',
    'checker_rlimit_rttime',
    'checker_rlimit_rtime',
    'bfd_rlimit_rttime',
    'bfd_rlimit_rtime',
    'checker_priority',
    'bfd_priority',
    'checker_rt_priority',
    'bfd_rt_priority',
    'vrrp_cpu_affinity',
    'checker_cpu_affinity',
    'bfd_cpu_affinity',
    'lvs_id',
    'dynamic_interfaces',
    'vrrp_rx_bufs_policy',
    'vrrp_rx_bufs_multiplier',
    'vrrp_min_garp',
    'vrrp_garp_extra_if',
    'vrrp_down_timer_adverts',
    'vrrp_startup_delay',
    'vrrp_netlink_cmd_rcv_bufs',
    'vrrp_netlink_monitor_rcv_bufs',
    'process_names',
    'process_name',
    'vrrp_process_name',
    'checker_process_name',
    'bfd_process_name',
    'lvs_flush',
    'lvs_flush_onstop',
    'snmp_socket',
    'enable_snmp_vrrp',
    'enable_snmp_keepalived',
    'enable_snmp_checker',
    'enable_snmp_rfc',
    'enable_snmp_rfcv2',
    'enable_snmp_rfcv3',
    'enable_traps',
    'enable_dbus',
    'dbus_service_name',
    'umask',
    'child_wait_time',
    'random_seed',
    'no_email_faults',
    'startup_script',
    'startup_script_timeout',
    'shutdown_script',
    'shutdown_script_timeout',
    'reload_check_config',
    'reload_time_file',
    'reload_repeat',
    'reload_file',
    'config_save_dir',
    'data_use_instance',
    'instance',
    'net_namespace_ipvs',
    'namespace_with_ipsets',
    'use_pid_dir',
    'script_group',
    'vmac_prefix',
    'vmac_addr_prefix',
    'vrrp_strict_mode',
    'vrrp_garp_master_refresh_jitter',
    'checker_log_all_failures',
    'notify_fifo_script',
    'vrrp_notify_fifo_script',
    'lvs_notify_fifo_script',
    'vrrp_notify_priority_changes',
    'fifo_write_vrrp_states_on_reload',
    'vrrp_track_process',
    'linkbeat_use_polling',
    'linkbeat_interfaces',
    'disable_local_igmp',
    'local_name',
    'smtp_alert_ignore',
    'nftables_ipvs',
    'nftables_ipvs_priority',
    'nftables_ipvs_start_fwmark',
  ],
};
