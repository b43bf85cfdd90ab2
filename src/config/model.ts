/**
 * The typed, readonly model of a keepalived.conf, as vigil understands it.
 *
 * This file is the contract between the parser and every other layer. Durations are
 * stored in milliseconds (suffix `Ms`) whatever unit keepalived's keyword takes
 * (seconds, possibly fractional); addresses are strings in canonical form
 * (ipaddr.js `toString()`), families are 4 or 6.
 *
 * Only plain data lives here (no Map, no class): a Config crosses MessagePorts and is
 * printed by `vigil --dump-conf` as JSON.
 */

/** Where a thing was written: 1-based line and column of its first token. */
export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly loc: SourceLoc;
  readonly severity: Severity;
  /** Stable code for tests and metrics, e.g. `unknown-keyword`, `range`, `unknown-reference`. */
  readonly code: string;
  readonly message: string;
}

export type Family = 4 | 6;

/**
 * A command line as keepalived stores it for notify scripts, vrrp_script and MISC_CHECK:
 * the text as written (quotes removed as keepalived does) and the argv it splits into.
 */
export interface ScriptCommand {
  readonly raw: string;
  readonly argv: readonly string[];
  /** `user USER [GROUP]` given after the command or in the block; else script_user applies. */
  readonly user?: string;
  readonly group?: string;
  readonly loc: SourceLoc;
}

export interface SmtpServer {
  readonly host: string;
  /** default 25 */
  readonly port: number;
}

export interface LvsTimeouts {
  readonly tcpMs?: number;
  readonly tcpFinMs?: number;
  readonly udpMs?: number;
}

export interface GlobalDefs {
  readonly routerId?: string;
  readonly notificationEmail: readonly string[];
  readonly notificationEmailFrom?: string;
  readonly smtpServer?: SmtpServer;
  readonly smtpHeloName?: string;
  /** default 30 s, as keepalived */
  readonly smtpConnectTimeoutMs: number;
  /** `smtp_alert`: send mail on every transition (instance and checker) unless overridden. */
  readonly smtpAlert?: boolean;
  readonly smtpAlertVrrp?: boolean;
  readonly smtpAlertChecker?: boolean;
  /** default 2 */
  readonly vrrpVersion: 2 | 3;
  /** default 224.0.0.18 */
  readonly vrrpMcastGroup4: string;
  /** default ff02::12 */
  readonly vrrpMcastGroup6: string;
  /** Defaults applied to instances that do not set their own (keepalived: vrrp_garp_*). */
  readonly vrrpGarpMasterDelayMs: number;
  readonly vrrpGarpMasterRepeat: number;
  readonly vrrpGarpMasterRefreshMs: number;
  readonly vrrpGarpMasterRefreshRepeat: number;
  readonly vrrpGarpLowerPrioDelayMs?: number;
  readonly vrrpGarpLowerPrioRepeat?: number;
  /** delay between gratuitous ARPs sent in one burst, ms (vrrp_garp_interval) */
  readonly vrrpGarpIntervalMs: number;
  /** delay between unsolicited NAs sent in one burst, ms (vrrp_gna_interval) */
  readonly vrrpGnaIntervalMs: number;
  readonly vrrpStrict: boolean;
  readonly vrrpSkipCheckAdvAddr: boolean;
  readonly enableScriptSecurity: boolean;
  readonly scriptUser?: { readonly user: string; readonly group?: string };
  readonly lvsTimeouts?: LvsTimeouts;
  readonly notifyFifo?: string;
  readonly vrrpNotifyFifo?: string;
  readonly lvsNotifyFifo?: string;
  /**
   * keepalived's VIP drop rules: `nftables [TABLE]` (or `vrrp_iptables`/`vrrp_ipsets`, which
   * vigil runs through nftables as keepalived does where iptables is nf_tables-based). Absent: none.
   */
  readonly vipFirewall?: VipFirewall;
  /** µs of CPU a realtime thread may run without a blocking call (`vrrp_rlimit_rttime`); RLIMIT_RTTIME. keepalived's default: 10000 */
  readonly vrrpRlimitRttimeUs?: number;
  /** `max_auto_priority [N]`: raise the VRRP thread to SCHED_RR, up to N, when it wakes late; -1 or absent: never */
  readonly maxAutoPriority?: number;
  /** µs an advert timer must be late before max_auto_priority raises the thread; default 1 s (`min_auto_priority_delay`) */
  readonly minAutoPriorityDelayUs?: number;
  /** `vrrp_no_swap` / `checker_no_swap` / `bfd_no_swap`: mlockall(MCL_CURRENT|MCL_FUTURE) of the one vigil process */
  readonly noSwap?: boolean;
  /** `default_interface`: where a static or virtual address without `dev` goes; absent: eth0 */
  readonly defaultInterface?: string;
  /** `vrrp_check_unicast_src`: adverts of unicast instances must come from a unicast_peer */
  readonly vrrpCheckUnicastSrc?: boolean;
  /** `vrrp_rt_priority`: SCHED_RR 1..99 of the VRRP threads */
  readonly vrrpRtPriority?: number;
  /** `vrrp_priority`: nice −20..19 of the VRRP threads */
  readonly vrrpPriority?: number;
  /** `net_namespace` (global_defs or top level): the daemon re-executes inside it */
  readonly netNamespace?: string;
  /** `lvs_sync_daemon IFACE INSTANCE [id N] [maxlen N] [port N] [ttl N] [group ADDR]`, its words (src/supervisor/lvs-sync.ts reads them) */
  readonly lvsSyncDaemon?: readonly string[];
  /** `vrrp_lower_prio_no_advert [BOOL]` / `vrrp_higher_prio_send_advert [BOOL]`: instances' default */
  readonly vrrpLowerPrioNoAdvert?: boolean;
  readonly vrrpHigherPrioSendAdvert?: boolean;
}

/** keepalived's nftables VIP drop rules (keepalived.conf(5), `nftables`). */
export interface VipFirewall {
  /** the table, in families ip and ip6; default `keepalived` */
  readonly table: string;
  /** the input and output chains' hook priority; default -1 (`nftables_priority`) */
  readonly priority: number;
  /** a counter on every rule (`nftables_counters`) */
  readonly counters: boolean;
  /** link-local VIPs keyed by ifindex, not name (`nftables_ifindex`) */
  readonly ifindex: boolean;
}

export interface VrrpScript {
  readonly name: string;
  readonly script: ScriptCommand;
  /** default 1 s */
  readonly intervalMs: number;
  /** default: interval */
  readonly timeoutMs: number;
  /** -253..253, default 0 (0: failure puts the tracking instance in FAULT) */
  readonly weight: number;
  /** `weight N reverse` */
  readonly weightReverse: boolean;
  /** default 1 */
  readonly fall: number;
  /** default 1 */
  readonly rise: number;
  /** `init_fail`: start as failed */
  readonly initFail: boolean;
  readonly loc: SourceLoc;
  /**
   * The block's `}` (or where the input ends, if never closed): keepalived resolves the
   * script's user when it reads it, and names that line when there is none.
   */
  readonly endLoc?: SourceLoc;
}

export interface TrackRef {
  readonly name: string;
  /** Overrides the script's own weight (track_script) or sets one (track_interface). */
  readonly weight?: number;
  readonly weightReverse?: boolean;
  readonly loc: SourceLoc;
}

/**
 * `track_file NAME { file PATH; weight N [reverse]; init_file [VALUE] [overwrite] }`
 * (`vrrp_track_file` is keepalived's deprecated synonym). The number in the file times the
 * weight moves the priority of every instance that tracks it.
 */
export interface TrackFile {
  readonly name: string;
  readonly file: string;
  /** -254..254, default 1; 0: a non-zero value puts the tracking instance in FAULT */
  readonly weight: number;
  readonly weightReverse: boolean;
  /** `init_file`: write `value` (default 0) at start-up if the file is missing, or always with `overwrite` */
  readonly init?: { readonly value: number; readonly overwrite: boolean };
  readonly loc: SourceLoc;
}

/**
 * `vrrp_track_process NAME { … }`: how many processes match decides a status, as a
 * vrrp_script's exit does (keepalived.conf(5) "VRRP track processes").
 */
export interface TrackProcess {
  readonly name: string;
  /** the process name (comm, at most 15 bytes) or, with parameters or full_command, argv[0] */
  readonly process: string;
  /** `process NAME P1 P2 …`: the parameters that must follow argv[0] */
  readonly params: readonly string[];
  /** exact (default with parameters or `param_match` alone), partial (the first n match), initial (the last may be longer); none: the name only */
  readonly paramMatch: 'none' | 'exact' | 'partial' | 'initial';
  /** match /proc/PID/cmdline instead of the process name (implied by parameters) */
  readonly fullCommand: boolean;
  /** -254..254, default 1 */
  readonly weight: number;
  readonly weightReverse: boolean;
  /** minimum number of matching processes for success, default 1 */
  readonly quorum: number;
  /** maximum number for success, default unlimited */
  readonly quorumMax?: number;
  /** ms to wait after quorum is gained by a fork before it counts; default 0 */
  readonly forkDelayMs: number;
  /** ms to wait after quorum is lost before it counts; default 0 */
  readonly terminateDelayMs: number;
  readonly loc: SourceLoc;
}

/** `garp_group { garp_interval S; gna_interval S; interface X | interfaces { X Y } }` */
export interface GarpGroup {
  readonly garpIntervalMs?: number;
  readonly gnaIntervalMs?: number;
  readonly interfaces: readonly string[];
  readonly loc: SourceLoc;
}

export interface VirtualAddress {
  readonly address: string;
  readonly prefixLen: number;
  readonly family: Family;
  readonly dev?: string;
  readonly label?: string;
  /** `scope global|host|link|site|nowhere` or a number */
  readonly scope?: string;
  readonly broadcast?: string;
  readonly peer?: string;
  readonly noPrefixRoute?: boolean;
  /** `no_track`: its deletion by someone else does not make a master step down (keepalived) */
  readonly noTrack?: boolean;
  readonly loc: SourceLoc;
}

/** `encap ip|ip6 [id N] [dst A] [src A] [tos N] [ttl N] [flags N]`: a lightweight IP tunnel (LWTUNNEL_ENCAP_IP/IP6) */
export interface RouteEncap {
  readonly type: 'ip' | 'ip6';
  /** tunnel id, u64 as decimal text */
  readonly id?: string;
  readonly dst?: string;
  readonly src?: string;
  /** tos (ip) / traffic class (ip6) */
  readonly tos?: number;
  /** ttl (ip) / hop limit (ip6) */
  readonly ttl?: number;
  readonly flags?: number;
}

export interface VirtualRoute {
  /** destination prefix, `default` mapped to 0.0.0.0/0 or ::/0 */
  readonly to: string;
  readonly prefixLen: number;
  readonly family: Family;
  readonly via?: string;
  readonly src?: string;
  readonly dev?: string;
  readonly table?: number;
  readonly metric?: number;
  readonly scope?: string;
  /** blackhole, unreachable, prohibit … ; default unicast */
  readonly type?: string;
  /** `proto N|NAME`: the route's protocol; default keepalived's (18) */
  readonly protocol?: number;
  /** `via A or B`: a second gateway; the route becomes multipath over both (keepalived) */
  readonly orVia?: string;
  /** `nexthop [via A] [dev X] [weight N] [onlink] …`: a multipath route */
  readonly nexthops?: readonly RouteNextHop[];
  /** `onlink`: the gateway is on the link even if no prefix says so */
  readonly onlink?: boolean;
  /** `tos N` / `dsfield N` */
  readonly tos?: number;
  /** route metrics as ip-route(8) names them (mtu, advmss, window, cwnd, ssthresh, initcwnd, initrwnd, hoplimit, reordering, quickack, fastopen_no_cookie) */
  readonly metrics?: Readonly<Record<string, number>>;
  /** metrics written `NAME lock N` */
  readonly lockedMetrics?: readonly string[];
  /** `features ecn` */
  readonly ecn?: boolean;
  /** `realms [FROM/]TO`: RTA_FLOW, FROM << 16 | TO (IPv4) */
  readonly realms?: number;
  /** `congctl [lock] NAME`: the TCP congestion control algorithm (RTAX_CC_ALGO) */
  readonly congctl?: string;
  /** `pref low|medium|high|N`: RFC 4191 router preference as the kernel codes it (IPv6) */
  readonly pref?: number;
  /** `expires N`: seconds until the kernel removes the route (IPv6) */
  readonly expires?: number;
  /** `append` / `prepend` (NLM_F_APPEND / plain NLM_F_CREATE); absent: `add` (NLM_F_EXCL) */
  readonly insert?: 'append' | 'prepend';
  readonly encap?: RouteEncap;
  /** `no_track`: its deletion by someone else does not make a master step down (keepalived) */
  readonly noTrack?: boolean;
  readonly loc: SourceLoc;
}

export interface RouteNextHop {
  readonly via?: string;
  readonly dev?: string;
  /** 1..256, default 1 */
  readonly weight?: number;
  readonly onlink?: boolean;
}

/** `[not] [from P|all] [to P|all] [iif X] [oif X] [fwmark N[/M]] [tos N] [priority N] [table N|goto N|blackhole|…]` */
export interface VirtualRule {
  readonly family: Family;
  readonly from?: { readonly address: string; readonly prefixLen: number };
  readonly to?: { readonly address: string; readonly prefixLen: number };
  /** `not`: the selector is inverted */
  readonly invert?: boolean;
  readonly iif?: string;
  readonly oif?: string;
  readonly fwmark?: number;
  readonly fwmask?: number;
  readonly tos?: number;
  /** `preference` / `priority` / `order`: the rule's position */
  readonly priority?: number;
  /** `table` / `lookup` (the action when nothing else is given) */
  readonly table?: number;
  /** `goto N`: jump to the rule with preference N */
  readonly goto?: number;
  /** the action when not a table lookup: blackhole, unreachable, prohibit, nop */
  readonly action?: 'blackhole' | 'unreachable' | 'prohibit' | 'nop';
  /** `l3mdev`: look up the table of the VRF device the packet came or goes through */
  readonly l3mdev?: boolean;
  /** `protocol N|NAME`; default keepalived's (18) */
  readonly protocol?: number;
  readonly uidRange?: { readonly start: number; readonly end: number };
  readonly sport?: { readonly start: number; readonly end: number };
  readonly dport?: { readonly start: number; readonly end: number };
  /** `suppress_prefixlength N`: reject a table's answer with a prefix this long or shorter */
  readonly suppressPrefixLength?: number;
  /** `realms [FROM/]TO`: FRA_FLOW, FROM << 16 | TO (IPv4) */
  readonly realms?: number;
  /** `suppress_ifgroup N`: reject a table's answer through a device of this group */
  readonly suppressIfgroup?: number;
  /** `ipproto` / `ip_proto` NAME|N: the IP protocol the rule matches */
  readonly ipProto?: number;
  /** `no_track`: its deletion by someone else does not make a master step down (keepalived) */
  readonly noTrack?: boolean;
  readonly loc: SourceLoc;
}

export interface Authentication {
  readonly type: 'PASS' | 'AH';
  /** at most 8 bytes; keepalived truncates longer ones with a warning */
  readonly pass: string;
}

export interface VrrpInstance {
  readonly name: string;
  readonly loc: SourceLoc;
  /** Initial state wanted by `state`; default BACKUP. */
  readonly initialState: 'MASTER' | 'BACKUP';
  readonly interface: string;
  readonly virtualRouterId: number;
  /** 1..255, default 100 */
  readonly priority: number;
  /** default 1000 ms; VRRPv3 allows centisecond resolution */
  readonly advertIntMs: number;
  /** instance `version`, else global vrrp_version */
  readonly version: 2 | 3;
  /** 4 or 6: from the virtual addresses (keepalived: the first VIP), or `native_ipv6`. */
  readonly family: Family;
  readonly authentication?: Authentication;
  readonly virtualIpaddress: readonly VirtualAddress[];
  readonly virtualIpaddressExcluded: readonly VirtualAddress[];
  readonly virtualRoutes: readonly VirtualRoute[];
  /** `virtual_rules`, added with the instance's MASTER state; absent: none */
  readonly virtualRules?: readonly VirtualRule[];
  readonly nopreempt: boolean;
  /** default 0 */
  readonly preemptDelayMs: number;
  readonly unicastSrcIp?: string;
  readonly unicastPeers: readonly string[];
  /** `unicast_peer { ADDR min_ttl N max_ttl M }`: the TTL / hop limit a peer's adverts must arrive with; absent: any */
  readonly unicastPeerTtl?: Readonly<Record<string, { readonly min: number; readonly max: number }>>;
  /** `unicast_ttl`: TTL / hop limit of the adverts sent to unicast peers; absent: 255 */
  readonly unicastTtl?: number;
  /** adverts of a unicast instance must come from one of its unicast_peer (`check_unicast_src`, global `vrrp_check_unicast_src`, or a peer's min_ttl/max_ttl) */
  readonly checkUnicastSrc?: boolean;
  readonly mcastSrcIp?: string;
  readonly trackInterfaces: readonly TrackRef[];
  readonly trackScripts: readonly TrackRef[];
  /** `track_file { NAME [weight N [reverse]] }`; absent: none */
  readonly trackFiles?: readonly TrackRef[];
  /** `track_process { NAME [weight N [reverse]] }`; absent: none */
  readonly trackProcesses?: readonly TrackRef[];
  readonly dontTrackPrimary: boolean;
  readonly notifyMaster?: ScriptCommand;
  readonly notifyBackup?: ScriptCommand;
  readonly notifyFault?: ScriptCommand;
  readonly notifyStop?: ScriptCommand;
  readonly notify?: ScriptCommand;
  readonly smtpAlert?: boolean;
  /** `use_vmac [NAME]`: name defaults to vrrp.VRID */
  readonly useVmac?: { readonly name: string };
  readonly vmacXmitBase: boolean;
  readonly garpMasterDelayMs: number;
  readonly garpMasterRepeat: number;
  readonly garpMasterRefreshMs: number;
  readonly garpMasterRefreshRepeat: number;
  readonly garpLowerPrioDelayMs?: number;
  readonly garpLowerPrioRepeat?: number;
  /** `lower_prio_no_advert`: a MASTER hearing a lower priority does not answer with an advert (RFC); absent: it does (keepalived) */
  readonly lowerPrioNoAdvert?: boolean;
  /** `higher_prio_send_advert`: a MASTER hearing a higher priority sends one advert before it steps down */
  readonly higherPrioSendAdvert?: boolean;
  /**
   * The spacing of gratuitous ARPs / NAs on the instance's interface: from the `garp_group`
   * that lists it, else vrrp_garp_interval / vrrp_gna_interval. `group` names what shares
   * the pacing (the interface, or the garp_group's interfaces together). Absent: no spacing.
   */
  readonly garpPacing?: { readonly group: string; readonly arpIntervalMs: number; readonly naIntervalMs: number };
  /** `lvs_sync_daemon_interface IFACE` (keepalived's old form of global lvs_sync_daemon IFACE THIS-INSTANCE) */
  readonly lvsSyncDaemonInterface?: string;
  readonly accept: boolean;
  readonly strictMode: boolean;
  /** the vrrp_sync_group this instance belongs to, filled in by the parser */
  readonly syncGroup?: string;
}

export interface VrrpSyncGroup {
  readonly name: string;
  readonly loc: SourceLoc;
  readonly members: readonly string[];
  readonly trackScripts: readonly TrackRef[];
  readonly trackInterfaces: readonly TrackRef[];
  /** absent: none */
  readonly trackFiles?: readonly TrackRef[];
  readonly trackProcesses?: readonly TrackRef[];
  readonly notifyMaster?: ScriptCommand;
  readonly notifyBackup?: ScriptCommand;
  readonly notifyFault?: ScriptCommand;
  readonly notifyStop?: ScriptCommand;
  readonly notify?: ScriptCommand;
  readonly smtpAlert?: boolean;
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type LbKind = 'NAT' | 'DR' | 'TUN';

export interface StatusRange {
  readonly from: number;
  readonly to: number;
}

export interface HttpUrl {
  readonly path: string;
  /** default 200-299 when neither status_code nor digest is given (keepalived) */
  readonly statusCodes: readonly StatusRange[];
  /** lowercase hex MD5 of the body, as genhash prints it */
  readonly digest?: string;
  readonly virtualhost?: string;
  /** `regex` and its options (matched with JavaScript's RegExp: src/check/http-regex.ts) */
  readonly regex?: UrlRegex;
  readonly loc: SourceLoc;
}

export interface UrlRegex {
  readonly pattern: string;
  /** RegExp flags from regex_options */
  readonly flags: string;
  /** regex_options utf: the body is UTF-8 (else bytes as latin1) */
  readonly utf8: boolean;
  readonly firstline: boolean;
  /** regex_no_match */
  readonly noMatch: boolean;
  /** bytes; default 0 */
  readonly minOffset: number;
  /** bytes: the last offset a match may start at */
  readonly maxOffset?: number;
}

/** Keywords every checker takes; defaults are filled in by the parser. */
export interface CheckerCommon {
  readonly loc: SourceLoc;
  readonly connectIp?: string;
  readonly connectPort?: number;
  readonly bindTo?: string;
  readonly bindPort?: number;
  readonly bindIf?: string;
  /** default 5000 ms */
  readonly connectTimeoutMs: number;
  /** retries after the first failure before the server is marked down; default 1 */
  readonly retry: number;
  /** default 1000 ms */
  readonly delayBeforeRetryMs: number;
  /** checker's own delay_loop, else the real server's, else the virtual server's */
  readonly delayLoopMs: number;
  /** random first delay in [0, warmup); default: delay_loop */
  readonly warmupMs?: number;
  /** start down (alpha) */
  readonly alpha: boolean;
  readonly fwmark?: number;
}

export interface HttpCheck extends CheckerCommon {
  readonly type: 'HTTP_GET' | 'SSL_GET';
  readonly urls: readonly HttpUrl[];
  readonly virtualhost?: string;
  /** SSL_GET: verify the peer's certificate (keepalived: off) */
  readonly enableSni: boolean;
  readonly tlsVerify: boolean;
}

export interface TcpCheck extends CheckerCommon {
  readonly type: 'TCP_CHECK';
}

export interface MiscCheck extends CheckerCommon {
  readonly type: 'MISC_CHECK';
  readonly miscPath: ScriptCommand;
  /** default: delay_loop */
  readonly miscTimeoutMs: number;
  readonly miscDynamic: boolean;
}

export interface DnsCheck extends CheckerCommon {
  readonly type: 'DNS_CHECK';
  /** default A */
  readonly queryType: string;
  /** default "." */
  readonly name: string;
}

export interface UdpCheck extends CheckerCommon {
  readonly type: 'UDP_CHECK';
  /** bytes sent; default 32 bytes of filler */
  readonly payload?: readonly number[];
  readonly requireReply: boolean;
  /** require_reply HEX_STR: bytes, and the bits an X digit ignores */
  readonly reply?: { readonly data: readonly number[]; readonly mask?: readonly number[] };
  /** default 0 */
  readonly minReplyLength: number;
  /** default 255 */
  readonly maxReplyLength: number;
}

/** ICMP echo to connect_ip (else the real server); no options of its own. */
export interface PingCheck extends CheckerCommon {
  readonly type: 'PING_CHECK';
}

export interface SmtpCheck extends CheckerCommon {
  readonly type: 'SMTP_CHECK';
  /** default smtpchecker.keepalived.org */
  readonly heloName: string;
}

export type Checker = HttpCheck | TcpCheck | MiscCheck | DnsCheck | UdpCheck | PingCheck | SmtpCheck;

export interface RealServer {
  readonly loc: SourceLoc;
  readonly address: string;
  readonly family: Family;
  /** default: the virtual server's port (fwmark services: 0) */
  readonly port: number;
  /** default 1 */
  readonly weight: number;
  readonly inhibitOnFailure: boolean;
  readonly notifyUp?: ScriptCommand;
  readonly notifyDown?: ScriptCommand;
  readonly upperThreshold?: number;
  readonly lowerThreshold?: number;
  /** per-real-server forwarding method (keepalived 2.x lb_kind in real_server) */
  readonly lbKind?: LbKind;
  /** mail on this server's up/down; unset: global smtp_alert_checker, else smtp_alert, else yes (keepalived) */
  readonly smtpAlert?: boolean;
  readonly checkers: readonly Checker[];
  /** FILE_CHECKs: driven by the tracked file's contents, not polled */
  readonly fileChecks?: readonly FileCheck[];
}

export type VirtualServerKey =
  | { readonly kind: 'ip'; readonly address: string; readonly family: Family; readonly port: number }
  | { readonly kind: 'fwmark'; readonly fwmark: number; readonly family: Family }
  | { readonly kind: 'group'; readonly name: string };

/**
 * vigil extension, `announce_route { }` in a virtual_server: while the virtual server is up
 * (quorum met), the route `VIP/32 dev lo table T proto P` is held in the kernel for a routing
 * daemon (BIRD, FRR) to export; see src/lvs/announce.ts.
 */
export interface AnnounceRoute {
  /** kernel routing table, 1..2^32-1 but not 253 (default), 254 (main), 255 (local) */
  readonly table: number;
  /** rtnetlink protocol of the routes, 0..255; default 248 */
  readonly protocol: number;
  readonly metric?: number;
  /** ms from withdrawal to tearing IPVS down on stop; default 2000 */
  readonly withdrawGraceMs: number;
  readonly loc: SourceLoc;
}

export interface VirtualServer {
  readonly loc: SourceLoc;
  readonly key: VirtualServerKey;
  /** default 60000 ms */
  readonly delayLoopMs: number;
  /** lowercase scheduler name: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh; default wlc */
  readonly lbAlgo: string;
  /** default NAT */
  readonly lbKind: LbKind;
  /** undefined (or 0 in the file): no persistence */
  readonly persistenceTimeoutMs?: number;
  readonly persistenceGranularity?: string;
  /** default TCP */
  readonly protocol: Protocol;
  /** default 1 */
  readonly quorum: number;
  /** default 0 */
  readonly hysteresis: number;
  readonly quorumUp?: ScriptCommand;
  readonly quorumDown?: ScriptCommand;
  readonly alpha: boolean;
  readonly omega: boolean;
  readonly sorryServer?: { readonly address: string; readonly port: number; readonly lbKind?: LbKind };
  readonly sorryServerInhibit: boolean;
  readonly virtualhost?: string;
  /** mail on quorum up/down; unset: global smtp_alert_checker, else smtp_alert, else no (keepalived) */
  readonly smtpAlert?: boolean;
  readonly haSuspend: boolean;
  /** scheduler flags (sh-fallback, sh-port, flag-1..3) */
  readonly schedFlags: readonly string[];
  readonly realServers: readonly RealServer[];
  readonly announceRoute?: AnnounceRoute;
}

export type VirtualServerGroupEntry =
  | {
      readonly kind: 'ip';
      readonly address: string;
      readonly family: Family;
      readonly port: number;
      /** `10.0.0.1-10 80`: the last octet (or hextet) of a range, inclusive; or the full last address (`-10.0.1.5`, `/29`) */
      readonly rangeEnd?: string;
      readonly loc: SourceLoc;
    }
  | { readonly kind: 'fwmark'; readonly fwmark: number; readonly loc: SourceLoc };

export interface VirtualServerGroup {
  readonly name: string;
  readonly loc: SourceLoc;
  readonly entries: readonly VirtualServerGroupEntry[];
}

export interface Config {
  /** every file read, in order, the main one first */
  readonly files: readonly string[];
  readonly globalDefs: GlobalDefs;
  readonly vrrpScripts: readonly VrrpScript[];
  /** `track_file` / `vrrp_track_file` blocks; absent: none */
  readonly trackFiles?: readonly TrackFile[];
  /** `vrrp_track_process` blocks; absent: none */
  readonly trackProcesses?: readonly TrackProcess[];
  /** `garp_group` blocks (already applied to each instance's `garpPacing`); absent: none */
  readonly garpGroups?: readonly GarpGroup[];
  /** `static_ipaddress`, `static_routes`, `static_rules`: set for the daemon's lifetime; absent: none */
  readonly staticIpaddress?: readonly VirtualAddress[];
  readonly staticRoutes?: readonly VirtualRoute[];
  readonly staticRules?: readonly VirtualRule[];
  readonly vrrpSyncGroups: readonly VrrpSyncGroup[];
  readonly vrrpInstances: readonly VrrpInstance[];
  readonly virtualServerGroups: readonly VirtualServerGroup[];
  readonly virtualServers: readonly VirtualServer[];
}


/** `FILE_CHECK { track_file NAME; weight W [reverse] }` in a real_server (keepalived check_file.c). */
export interface FileCheck {
  readonly loc: SourceLoc;
  /** the track_file's name */
  readonly trackFile: string;
  /** default: the track_file's weight and reverse */
  readonly weight?: number;
  readonly reverse?: boolean;
}

export interface LoadResult {
  /** undefined when any diagnostic is an error */
  readonly config?: Config;
  readonly diagnostics: readonly Diagnostic[];
}
