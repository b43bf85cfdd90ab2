/**
 * `virtual_server_group`, `virtual_server`, `real_server` and the checkers
 * (keepalived check_parser.c, check_http.c, check_tcp.c, check_misc.c, check_dns.c).
 *
 * Where an option can be set on the virtual server, the real server and the checker, the
 * outer setting is the default of the inner one (keepalived.conf(5), LVS CONFIGURATION).
 * Checker defaults (keepalived.conf(5)): connect_timeout 5 s; retry 1, but 3 for DNS_CHECK
 * and 0 for MISC_CHECK; delay_before_retry 3 s for HTTP_GET/SSL_GET, delay_loop for
 * DNS_CHECK, 1 s otherwise; warmup defaults to delay_loop (left undefined here).
 */
import type {
  AnnounceRoute,
  Checker,
  CheckerCommon,
  HttpUrl,
  LbKind,
  Protocol,
  RealServer,
  ScriptCommand,
  SourceLoc,
  StatusRange,
  VirtualServer,
  VirtualServerGroup,
  VirtualServerGroupEntry,
  VirtualServerKey,
} from '../model.ts';
import { tokLoc, type Node } from '../tree.ts';
import type { Token } from '../lexer.ts';
import {
  arg,
  boolArg,
  enumArg,
  enumTok,
  intArg,
  intTok,
  ipArg,
  ipTok,
  noExtra,
  parseIntStrict,
  parseIp,
  scriptArg,
  setLoc,
  timerArg,
  type Ctx,
} from '../values.ts';
import { block, runBlock, simple, type BlockSpec, type Handler, type Mutable } from './table.ts';
import { parseAnnounceRoute } from './announce.ts';

const LB_KINDS = ['NAT', 'DR', 'TUN'] as const;
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'] as const;
const SCHED_FLAGS = ['flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'];

/** Settings that cascade virtual server -> real server -> checker. */
interface Inherited {
  connectTimeoutMs?: number;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  delayLoopMs?: number;
  inhibitOnFailure?: boolean;
  alpha?: boolean;
  virtualhost?: string;
}

function inheritedKeywords<T extends { inh: Inherited }>(): Record<string, Handler<T>> {
  const secs = (f: 'connectTimeoutMs' | 'delayBeforeRetryMs' | 'warmupMs' | 'delayLoopMs'): Handler<T> =>
    simple((n, t, ctx) => {
      const v = timerArg(n, ctx);
      if (v !== undefined) {
        t.inh[f] = v;
        setLoc(ctx, t.inh, f, n.args[0] ?? n.kw);
      }
    });
  const retry: Handler<T> = simple((n, t, ctx) => {
    const v = intArg(n, ctx);
    if (v !== undefined) {
      t.inh.retry = v;
      setLoc(ctx, t.inh, 'retry', n.args[0] ?? n.kw);
    }
  });
  return {
    connect_timeout: secs('connectTimeoutMs'),
    delay_before_retry: secs('delayBeforeRetryMs'),
    warmup: secs('warmupMs'),
    delay_loop: secs('delayLoopMs'),
    retry,
    nb_get_retry: retry,
    inhibit_on_failure: simple((n, t, ctx) => {
      const v = boolArg(n, ctx);
      if (v !== undefined) t.inh.inhibitOnFailure = v;
    }),
    alpha: simple((n, t, ctx) => {
      const v = boolArg(n, ctx);
      if (v !== undefined) t.inh.alpha = v;
    }),
    virtualhost: simple((n, t, ctx) => {
      const v = arg(n, ctx, 0, 'a host name');
      if (v !== undefined) t.inh.virtualhost = v.text;
    }),
  };
}

/** `lb_kind`/`lvs_method NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]` */
function lbKindArg(n: Node, ctx: Ctx): LbKind | undefined {
  const v = enumArg(n, ctx, LB_KINDS, 0, false);
  if (v === 'TUN' && n.args.length > 1) {
    ctx.sink.warn(tokLoc(n.args[1]!), 'unsupported-option', `${n.kw.text}: tunnel options are not implemented by vigil; ipip is used`);
  } else if (v !== undefined) noExtra(n, ctx, 1);
  return v;
}

function portTok(t: Token, ctx: Ctx, what: string): number | undefined {
  const v = intTok(t, ctx, what);
  return v;
}

// ---------------------------------------------------------------- checkers

interface CheckerDraft {
  type: Checker['type'];
  loc: SourceLoc;
  inh: Inherited;
  connectIp?: string;
  connectPort?: number;
  bindTo?: string;
  bindPort?: number;
  bindIf?: string;
  fwmark?: number;
  urls: HttpUrl[];
  enableSni: boolean;
  miscPath?: ScriptCommand;
  miscTimeoutMs?: number;
  miscDynamic: boolean;
  user?: { user: string; group?: string };
  queryType?: string;
  name?: string;
}

/** `status_code 200 200-299 400-499 503` */
function statusCodes(n: Node, ctx: Ctx, url: object): StatusRange[] {
  const out: StatusRange[] = [];
  if (n.args.length === 0) ctx.sink.error(tokLoc(n.kw), 'missing-value', '`status_code` needs a code or a range');
  for (const t of n.args) {
    const dash = t.text.indexOf('-', 1);
    const a = parseIntStrict(dash < 0 ? t.text : t.text.slice(0, dash));
    const b = dash < 0 ? a : parseIntStrict(t.text.slice(dash + 1));
    if (a === undefined || b === undefined || t.text.startsWith('-') || t.text.startsWith('+')) {
      ctx.sink.error(tokLoc(t), 'bad-value', `status_code: \`${t.text}\` is not a code or a range like 200-299`);
      continue;
    }
    if (b < a) {
      ctx.sink.error(tokLoc(t), 'bad-value', `status_code: range ${t.text} ends before it starts`);
      continue;
    }
    setLoc(ctx, url, `status${out.length}`, t);
    out.push({ from: a, to: b });
  }
  return out;
}

type UrlDraft = { path?: string; statusCodes?: StatusRange[]; digest?: string; virtualhost?: string; loc: SourceLoc };

const urlSpec: BlockSpec<UrlDraft> = {
  name: 'url',
  keywords: {
    path: simple((n, u, ctx) => {
      const t = arg(n, ctx, 0, 'a path');
      if (t !== undefined) u.path = t.text;
    }),
    status_code: simple((n, u, ctx) => {
      u.statusCodes = [...(u.statusCodes ?? []), ...statusCodes(n, ctx, u)];
    }),
    digest: simple((n, u, ctx) => {
      const t = arg(n, ctx, 0, 'an MD5 digest');
      if (t === undefined) return;
      const d = t.text.toLowerCase();
      if (d.length !== 32 || !/^[0-9a-f]{32}$/.test(d)) {
        ctx.sink.error(tokLoc(t), 'bad-value', `digest: \`${t.text}\` is not 32 hex digits (an MD5 sum as genhash prints it)`);
        return;
      }
      u.digest = d;
    }),
    virtualhost: simple((n, u, ctx) => {
      const t = arg(n, ctx, 0, 'a host name');
      if (t !== undefined) u.virtualhost = t.text;
    }),
  },
  unsupported: ['regex', 'regex_no_match', 'regex_options', 'regex_stack', 'regex_min_offset', 'regex_max_offset'],
};

const commonCheckerKeywords: Record<string, Handler<CheckerDraft>> = {
  ...inheritedKeywords<CheckerDraft>(),
  connect_ip: simple((n, c, ctx) => {
    const ip = ipArg(n, ctx);
    if (ip !== undefined) c.connectIp = ip.address;
  }),
  connect_port: simple((n, c, ctx) => {
    const v = intArg(n, ctx);
    if (v !== undefined) {
      c.connectPort = v;
      setLoc(ctx, c, 'connectPort', n.args[0] ?? n.kw);
    }
  }),
  bindto: simple((n, c, ctx) => {
    const ip = ipArg(n, ctx);
    if (ip !== undefined) c.bindTo = ip.address;
  }),
  bind_port: simple((n, c, ctx) => {
    const v = intArg(n, ctx);
    if (v !== undefined) {
      c.bindPort = v;
      setLoc(ctx, c, 'bindPort', n.args[0] ?? n.kw);
    }
  }),
  bind_if: simple((n, c, ctx) => {
    const t = arg(n, ctx, 0, 'an interface name');
    if (t !== undefined) c.bindIf = t.text;
  }),
  fwmark: simple((n, c, ctx) => {
    const v = intArg(n, ctx);
    if (v !== undefined) c.fwmark = v;
  }),
};

const COMMON_UNSUPPORTED = ['log_all_failures'];

const httpSpec: BlockSpec<CheckerDraft> = {
  name: 'HTTP_GET',
  keywords: {
    ...commonCheckerKeywords,
    url: (n, c, ctx) => {
      const kids = block(n, ctx);
      if (kids === undefined) return;
      const u: UrlDraft = { loc: tokLoc(n.kw) };
      runBlock(kids, urlSpec, u, ctx);
      if (u.path === undefined) {
        ctx.sink.error(u.loc, 'missing-keyword', 'url has no `path`');
        return;
      }
      const url: Mutable<HttpUrl> = {
        path: u.path,
        // keepalived: 200-299 unless status_code or digest is given.
        statusCodes: u.statusCodes ?? (u.digest === undefined ? [{ from: 200, to: 299 }] : []),
        loc: u.loc,
      };
      if (u.digest !== undefined) url.digest = u.digest;
      if (u.virtualhost !== undefined) url.virtualhost = u.virtualhost;
      const l = ctx.locs.get(u);
      if (l !== undefined) ctx.locs.set(url, l);
      c.urls.push(url);
    },
    enable_sni: simple((n, c, ctx) => {
      if (c.type !== 'SSL_GET') ctx.sink.warn(tokLoc(n.kw), 'wrong-checker', '`enable_sni` only applies to SSL_GET');
      const v = boolArg(n, ctx);
      if (v !== undefined) c.enableSni = v;
    }),
  },
  unsupported: [...COMMON_UNSUPPORTED, 'http_protocol', 'fast_recovery'],
};

const tcpSpec: BlockSpec<CheckerDraft> = { name: 'TCP_CHECK', keywords: commonCheckerKeywords, unsupported: COMMON_UNSUPPORTED };

const miscSpec: BlockSpec<CheckerDraft> = {
  name: 'MISC_CHECK',
  keywords: {
    ...commonCheckerKeywords,
    misc_path: simple((n, c, ctx) => {
      const s = scriptArg(n, ctx, false);
      if (s !== undefined) c.miscPath = s;
    }),
    misc_timeout: simple((n, c, ctx) => {
      const v = timerArg(n, ctx);
      if (v !== undefined) c.miscTimeoutMs = v;
    }),
    misc_dynamic: simple((n, c, ctx) => {
      const v = boolArg(n, ctx);
      if (v !== undefined) c.miscDynamic = v;
    }),
    user: simple((n, c, ctx) => {
      const u = arg(n, ctx, 0, 'a user name');
      if (u === undefined) return;
      const g = n.args[1];
      c.user = g === undefined ? { user: u.text } : { user: u.text, group: g.text };
      noExtra(n, ctx, 2);
    }),
  },
  unsupported: COMMON_UNSUPPORTED,
};

const DNS_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'] as const;

const dnsSpec: BlockSpec<CheckerDraft> = {
  name: 'DNS_CHECK',
  keywords: {
    ...commonCheckerKeywords,
    type: simple((n, c, ctx) => {
      const v = enumArg(n, ctx, DNS_TYPES);
      if (v !== undefined) c.queryType = v;
    }),
    name: simple((n, c, ctx) => {
      const t = arg(n, ctx, 0, 'a domain name');
      if (t !== undefined) c.name = t.text;
    }),
  },
  unsupported: COMMON_UNSUPPORTED,
};

const CHECKER_SPECS: Record<string, BlockSpec<CheckerDraft>> = {
  HTTP_GET: httpSpec,
  SSL_GET: { ...httpSpec, name: 'SSL_GET' },
  TCP_CHECK: tcpSpec,
  MISC_CHECK: miscSpec,
  DNS_CHECK: dnsSpec,
};

function finishChecker(c: CheckerDraft, rs: Inherited, ctx: Ctx): Checker | undefined {
  const t = c.type;
  const delayLoopMs = c.inh.delayLoopMs ?? rs.delayLoopMs ?? 60_000;
  const common: Mutable<CheckerCommon> = {
    loc: c.loc,
    connectTimeoutMs: c.inh.connectTimeoutMs ?? rs.connectTimeoutMs ?? 5000,
    retry: c.inh.retry ?? rs.retry ?? (t === 'DNS_CHECK' ? 3 : t === 'MISC_CHECK' ? 0 : 1),
    delayBeforeRetryMs:
      c.inh.delayBeforeRetryMs ?? rs.delayBeforeRetryMs ?? (t === 'HTTP_GET' || t === 'SSL_GET' ? 3000 : t === 'DNS_CHECK' ? delayLoopMs : 1000),
    delayLoopMs,
    alpha: c.inh.alpha ?? rs.alpha ?? false,
  };
  const warm = c.inh.warmupMs ?? rs.warmupMs;
  if (warm !== undefined) common.warmupMs = warm;
  if (c.connectIp !== undefined) common.connectIp = c.connectIp;
  if (c.connectPort !== undefined) common.connectPort = c.connectPort;
  if (c.bindTo !== undefined) common.bindTo = c.bindTo;
  if (c.bindPort !== undefined) common.bindPort = c.bindPort;
  if (c.bindIf !== undefined) common.bindIf = c.bindIf;
  if (c.fwmark !== undefined) common.fwmark = c.fwmark;
  let out: Checker;
  switch (t) {
    case 'HTTP_GET':
    case 'SSL_GET': {
      if (c.urls.length === 0) {
        ctx.sink.error(c.loc, 'missing-keyword', `${t} has no \`url\` block`);
        return undefined;
      }
      const vh = c.inh.virtualhost ?? rs.virtualhost;
      out = { ...common, type: t, urls: c.urls, enableSni: c.enableSni, tlsVerify: false, ...(vh !== undefined ? { virtualhost: vh } : {}) };
      break;
    }
    case 'TCP_CHECK':
      out = { ...common, type: t };
      break;
    case 'MISC_CHECK': {
      if (c.miscPath === undefined) {
        ctx.sink.error(c.loc, 'missing-keyword', 'MISC_CHECK has no `misc_path`');
        return undefined;
      }
      const miscPath = c.user !== undefined ? { ...c.miscPath, ...c.user } : c.miscPath;
      out = { ...common, type: t, miscPath, miscTimeoutMs: c.miscTimeoutMs ?? delayLoopMs, miscDynamic: c.miscDynamic };
      break;
    }
    case 'DNS_CHECK':
      // keepalived.conf(5): "The default is SOA".
      out = { ...common, type: t, queryType: c.queryType ?? 'SOA', name: c.name ?? '.' };
      break;
  }
  const l = { ...(ctx.locs.get(c) ?? {}), ...(ctx.locs.get(c.inh) ?? {}) };
  ctx.locs.set(out, l);
  return out;
}

// ---------------------------------------------------------------- real_server

interface RsDraft {
  loc: SourceLoc;
  address: string;
  family: 4 | 6;
  port?: number;
  weight: number;
  inh: Inherited;
  notifyUp?: ScriptCommand;
  notifyDown?: ScriptCommand;
  upperThreshold?: number;
  lowerThreshold?: number;
  lbKind?: LbKind;
  checkers: CheckerDraft[];
}

function checkerHandler(type: Checker['type']): Handler<RsDraft> {
  return (n, rs, ctx) => {
    const kids = n.children ?? [];
    if (n.children === undefined) ctx.sink.warn(tokLoc(n.kw), 'missing-block', `\`${type}\` without a { } block: a check with default settings`);
    const c: CheckerDraft = { type, loc: tokLoc(n.kw), inh: {}, urls: [], enableSni: false, miscDynamic: false };
    runBlock(kids, CHECKER_SPECS[type]!, c, ctx);
    rs.checkers.push(c);
  };
}

const rsSpec: BlockSpec<RsDraft> = {
  name: 'real_server',
  keywords: {
    ...inheritedKeywords<RsDraft>(),
    weight: simple((n, rs, ctx) => {
      const v = intArg(n, ctx);
      if (v !== undefined) {
        rs.weight = v;
        setLoc(ctx, rs, 'weight', n.args[0] ?? n.kw);
      }
    }),
    notify_up: simple((n, rs, ctx) => {
      const s = scriptArg(n, ctx, true);
      if (s !== undefined) rs.notifyUp = s;
    }),
    notify_down: simple((n, rs, ctx) => {
      const s = scriptArg(n, ctx, true);
      if (s !== undefined) rs.notifyDown = s;
    }),
    uthreshold: simple((n, rs, ctx) => {
      const v = intArg(n, ctx);
      if (v !== undefined) rs.upperThreshold = v;
    }),
    lthreshold: simple((n, rs, ctx) => {
      const v = intArg(n, ctx);
      if (v !== undefined) rs.lowerThreshold = v;
    }),
    lb_kind: simple((n, rs, ctx) => {
      const v = lbKindArg(n, ctx);
      if (v !== undefined) rs.lbKind = v;
    }),
    HTTP_GET: checkerHandler('HTTP_GET'),
    SSL_GET: checkerHandler('SSL_GET'),
    TCP_CHECK: checkerHandler('TCP_CHECK'),
    MISC_CHECK: checkerHandler('MISC_CHECK'),
    DNS_CHECK: checkerHandler('DNS_CHECK'),
  },
  unsupported: ['smtp_alert', 'snmp_name', 'SMTP_CHECK', 'UDP_CHECK', 'PING_CHECK', 'FILE_CHECK', 'BFD_CHECK', 'track_file', 'tunnel_type'],
};
(rsSpec.keywords as Record<string, Handler<RsDraft>>)['lvs_method'] = rsSpec.keywords['lb_kind']!;

// ---------------------------------------------------------------- virtual_server

interface VsDraft {
  loc: SourceLoc;
  key: VirtualServerKey;
  inh: Inherited;
  lbAlgo: string;
  lbKind: LbKind;
  persistenceTimeoutMs?: number;
  persistenceGranularity?: string;
  protocol: Protocol;
  quorum: number;
  hysteresis: number;
  quorumUp?: ScriptCommand;
  quorumDown?: ScriptCommand;
  omega: boolean;
  sorryServer?: { address: string; port: number; lbKind?: LbKind };
  sorryServerLbKind?: LbKind;
  sorryServerInhibit: boolean;
  haSuspend: boolean;
  schedFlags: string[];
  realServers: RsDraft[];
  announceRoute?: AnnounceRoute;
}

const vsKeywords: Record<string, Handler<VsDraft>> = {
  ...inheritedKeywords<VsDraft>(),
  lb_algo: simple((n, vs, ctx) => {
    const v = enumArg(n, ctx, SCHEDULERS);
    if (v !== undefined) vs.lbAlgo = v;
  }),
  lb_kind: simple((n, vs, ctx) => {
    const v = lbKindArg(n, ctx);
    if (v !== undefined) vs.lbKind = v;
  }),
  persistence_timeout: simple((n, vs, ctx) => {
    const t = n.args[0];
    // keepalived: no value means 6 minutes; vigil: 0 means no persistence.
    if (t === undefined) {
      vs.persistenceTimeoutMs = 360_000;
      return;
    }
    const v = intTok(t, ctx, 'persistence_timeout');
    if (v === undefined) return;
    setLoc(ctx, vs, 'persistenceTimeoutMs', t);
    if (v === 0) delete vs.persistenceTimeoutMs;
    else vs.persistenceTimeoutMs = v * 1000;
  }),
  persistence_granularity: simple((n, vs, ctx) => {
    const t = arg(n, ctx, 0, 'a netmask');
    if (t === undefined) return;
    const ip = parseIp(t.text);
    const len = parseIntStrict(t.text);
    if (ip === undefined && (len === undefined || len < 0 || len > 128)) {
      ctx.sink.error(tokLoc(t), 'bad-value', `persistence_granularity: \`${t.text}\` is not a netmask`);
      return;
    }
    vs.persistenceGranularity = ip?.address ?? t.text;
  }),
  protocol: simple((n, vs, ctx) => {
    const v = enumArg(n, ctx, PROTOCOLS);
    if (v !== undefined) vs.protocol = v;
  }),
  quorum: simple((n, vs, ctx) => {
    const v = intArg(n, ctx);
    if (v !== undefined) vs.quorum = v;
  }),
  hysteresis: simple((n, vs, ctx) => {
    const v = intArg(n, ctx);
    if (v !== undefined) vs.hysteresis = v;
  }),
  quorum_up: simple((n, vs, ctx) => {
    const s = scriptArg(n, ctx, true);
    if (s !== undefined) vs.quorumUp = s;
  }),
  quorum_down: simple((n, vs, ctx) => {
    const s = scriptArg(n, ctx, true);
    if (s !== undefined) vs.quorumDown = s;
  }),
  omega: simple((n, vs, ctx) => {
    noExtra(n, ctx, 0);
    vs.omega = true;
  }),
  ha_suspend: simple((n, vs, ctx) => {
    noExtra(n, ctx, 0);
    vs.haSuspend = true;
  }),
  sorry_server: simple((n, vs, ctx) => {
    const ip = ipArg(n, ctx);
    if (ip === undefined) return;
    let port = vs.key.kind === 'ip' ? vs.key.port : 0;
    const p = n.args[1];
    if (p !== undefined) {
      const v = portTok(p, ctx, 'sorry_server port');
      if (v === undefined) return;
      port = v;
      setLoc(ctx, vs, 'sorryServerPort', p);
    }
    vs.sorryServer = { address: ip.address, port };
    setLoc(ctx, vs, 'sorryServer', n.args[0]!);
  }),
  sorry_server_inhibit: simple((_n, vs) => {
    vs.sorryServerInhibit = true;
  }),
  sorry_server_lvs_method: simple((n, vs, ctx) => {
    const v = lbKindArg(n, ctx);
    if (v !== undefined) vs.sorryServerLbKind = v;
  }),
  announce_route: (n, vs, ctx) => {
    const a = parseAnnounceRoute(n, ctx);
    if (a === undefined) return;
    // a fwmark service has no address to announce (a group's addresses are checked in validate.ts)
    if (vs.key.kind === 'fwmark') ctx.sink.error(tokLoc(n.kw), 'no-address', 'announce_route needs a virtual server with an address; `fwmark` has none to announce');
    else vs.announceRoute = a;
  },
  real_server: (n, vs, ctx) => {
    const kids = n.children ?? [];
    const ip = ipArg(n, ctx);
    if (ip === undefined) return;
    const rs: RsDraft = { loc: tokLoc(n.kw), address: ip.address, family: ip.family, weight: 1, inh: {}, checkers: [] };
    const p = n.args[1];
    if (p !== undefined) {
      const v = portTok(p, ctx, 'real_server port');
      if (v === undefined) return;
      rs.port = v;
      setLoc(ctx, rs, 'port', p);
    }
    noExtra(n, ctx, 2);
    runBlock(kids, rsSpec, rs, ctx);
    vs.realServers.push(rs);
  },
};
for (const f of SCHED_FLAGS) {
  vsKeywords[f] = simple((_n, vs) => {
    if (!vs.schedFlags.includes(f)) vs.schedFlags.push(f);
  });
}
vsKeywords['lvs_sched'] = vsKeywords['lb_algo']!;
vsKeywords['lvs_method'] = vsKeywords['lb_kind']!;

const vsSpec: BlockSpec<VsDraft> = {
  name: 'virtual_server',
  keywords: vsKeywords,
  unsupported: ['ops', 'persistence_engine', 'smtp_alert', 'snmp_name', 'ip_family', 'tunnel_type'],
  obsolete: { nat_mask: 'removed in keepalived 2 (LVS NAT needs no netmask)' },
};

/** `virtual_server IP PORT | fwmark N | group NAME { ... }` */
export function parseVirtualServer(n: Node, ctx: Ctx): VirtualServer | undefined {
  const kids = n.children;
  if (kids === undefined) {
    ctx.sink.error(tokLoc(n.kw), 'missing-block', '`virtual_server` needs a { } block');
    return undefined;
  }
  const a0 = n.args[0];
  if (a0 === undefined) {
    ctx.sink.error(tokLoc(n.kw), 'missing-value', '`virtual_server` needs `IP PORT`, `fwmark N` or `group NAME`');
    return undefined;
  }
  let key: VirtualServerKey;
  const w = a0.text.toLowerCase();
  if (w === 'fwmark') {
    const v = intArg(n, ctx, 1);
    if (v === undefined) return undefined;
    key = { kind: 'fwmark', fwmark: v, family: 4 };
  } else if (w === 'group') {
    const g = arg(n, ctx, 1, 'a virtual_server_group name');
    if (g === undefined) return undefined;
    key = { kind: 'group', name: g.text };
  } else {
    const ip = ipTok(a0, ctx, 'virtual_server');
    if (ip === undefined) return undefined;
    const p = n.args[1];
    let port = 0;
    if (p !== undefined) {
      const v = portTok(p, ctx, 'virtual_server port');
      if (v === undefined) return undefined;
      port = v;
    }
    key = { kind: 'ip', address: ip.address, family: ip.family, port };
  }
  noExtra(n, ctx, 2);
  const vs: VsDraft = {
    loc: tokLoc(n.kw),
    key,
    inh: {},
    lbAlgo: 'wlc',
    lbKind: 'NAT',
    protocol: 'TCP',
    quorum: 1,
    hysteresis: 0,
    omega: false,
    sorryServerInhibit: false,
    haSuspend: false,
    schedFlags: [],
    realServers: [],
  };
  if (key.kind === 'ip') setLoc(ctx, vs, 'port', n.args[1] ?? n.args[0]!);
  runBlock(kids, vsSpec, vs, ctx);
  if (key.kind === 'ip' && key.port === 0 && vs.persistenceTimeoutMs === undefined) {
    ctx.sink.error(tokLoc(a0), 'missing-value', 'virtual_server: the port can only be omitted when the service is persistent (persistence_timeout)');
  }
  // A fwmark service takes its family from its real servers when they agree.
  if (key.kind === 'fwmark' && vs.realServers.length > 0 && vs.realServers.every((r) => r.family === 6)) {
    key = { ...key, family: 6 };
  }
  const vsPort = key.kind === 'ip' ? key.port : 0;
  const realServers: RealServer[] = [];
  for (const d of vs.realServers) {
    const rsInh: Inherited = { ...vs.inh, ...definedOnly(d.inh) };
    const checkers: Checker[] = [];
    for (const c of d.checkers) {
      const ch = finishChecker(c, rsInh, ctx);
      if (ch !== undefined) checkers.push(ch);
    }
    const rs: Mutable<RealServer> = {
      loc: d.loc,
      address: d.address,
      family: d.family,
      port: d.port ?? vsPort,
      weight: d.weight,
      inhibitOnFailure: rsInh.inhibitOnFailure ?? false,
      checkers,
    };
    if (d.notifyUp !== undefined) rs.notifyUp = d.notifyUp;
    if (d.notifyDown !== undefined) rs.notifyDown = d.notifyDown;
    if (d.upperThreshold !== undefined) rs.upperThreshold = d.upperThreshold;
    if (d.lowerThreshold !== undefined) rs.lowerThreshold = d.lowerThreshold;
    if (d.lbKind !== undefined) rs.lbKind = d.lbKind;
    const l = ctx.locs.get(d);
    if (l !== undefined) ctx.locs.set(rs, l);
    realServers.push(rs);
  }
  const out: Mutable<VirtualServer> = {
    loc: vs.loc,
    key,
    delayLoopMs: vs.inh.delayLoopMs ?? 60_000,
    lbAlgo: vs.lbAlgo,
    lbKind: vs.lbKind,
    protocol: vs.protocol,
    quorum: vs.quorum,
    hysteresis: vs.hysteresis,
    alpha: vs.inh.alpha ?? false,
    omega: vs.omega,
    sorryServerInhibit: vs.sorryServerInhibit,
    haSuspend: vs.haSuspend,
    schedFlags: vs.schedFlags,
    realServers,
  };
  if (vs.persistenceTimeoutMs !== undefined) out.persistenceTimeoutMs = vs.persistenceTimeoutMs;
  if (vs.persistenceGranularity !== undefined) out.persistenceGranularity = vs.persistenceGranularity;
  if (vs.quorumUp !== undefined) out.quorumUp = vs.quorumUp;
  if (vs.quorumDown !== undefined) out.quorumDown = vs.quorumDown;
  if (vs.sorryServer !== undefined) {
    out.sorryServer = vs.sorryServerLbKind !== undefined ? { ...vs.sorryServer, lbKind: vs.sorryServerLbKind } : vs.sorryServer;
  }
  if (vs.inh.virtualhost !== undefined) out.virtualhost = vs.inh.virtualhost;
  if (vs.announceRoute !== undefined) out.announceRoute = vs.announceRoute;
  const l = ctx.locs.get(vs);
  if (l !== undefined) ctx.locs.set(out, l);
  return out;
}

function definedOnly(o: Inherited): Inherited {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) r[k] = v;
  return r as Inherited;
}

// ---------------------------------------------------------------- virtual_server_group

/** `IP[-END] [PORT]` or `fwmark N [inet|inet6]` lines. */
export function parseVirtualServerGroup(n: Node, ctx: Ctx): VirtualServerGroup | undefined {
  const name = arg(n, ctx, 0, 'a name');
  const kids = n.children;
  if (kids === undefined) {
    ctx.sink.error(tokLoc(n.kw), 'missing-block', '`virtual_server_group` needs a { } block');
    return undefined;
  }
  if (name === undefined) return undefined;
  const entries: VirtualServerGroupEntry[] = [];
  for (const k of kids) {
    const loc = tokLoc(k.kw);
    if (k.kw.text.toLowerCase() === 'fwmark') {
      const v = intArg(k, ctx, 0, false);
      if (v === undefined) continue;
      noExtra(k, ctx, 2);
      const fam = k.args[1];
      if (fam !== undefined) enumTok(fam, ctx, 'fwmark family', ['inet', 'inet6'] as const);
      entries.push({ kind: 'fwmark', fwmark: v, loc });
      continue;
    }
    const text = k.kw.text;
    if (text.includes('/')) {
      ctx.sink.warn(loc, 'unsupported-option', `virtual_server_group: CIDR ranges (${text}) are not implemented by vigil; ignored`);
      continue;
    }
    const dash = text.indexOf('-');
    const addrText = dash < 0 ? text : text.slice(0, dash);
    const ip = parseIp(addrText);
    if (ip === undefined) {
      ctx.sink.error(loc, 'bad-address', `virtual_server_group: \`${addrText}\` is not an IP address`);
      continue;
    }
    let port = 0;
    const p = k.args[0];
    if (p !== undefined) {
      const v = intTok(p, ctx, 'virtual_server_group port');
      if (v === undefined) continue;
      port = v;
    }
    const e: Mutable<Extract<VirtualServerGroupEntry, { kind: 'ip' }>> = { kind: 'ip', address: ip.address, family: ip.family, port, loc };
    if (dash >= 0) {
      const end = text.slice(dash + 1);
      const endNum = ip.family === 4 ? parseIntStrict(end) : end.length <= 4 && /^[0-9a-fA-F]+$/.test(end) ? parseInt(end, 16) : undefined;
      const endIp = endNum === undefined ? parseIp(end) : undefined;
      if (endNum === undefined && endIp === undefined) {
        ctx.sink.error(loc, 'bad-address', `virtual_server_group: range end \`${end}\` is neither a last ${ip.family === 4 ? 'octet' : 'hextet'} nor an address`);
        continue;
      }
      e.rangeEnd = endIp?.address ?? end.toLowerCase();
    }
    if (p !== undefined) setLoc(ctx, e, 'port', p);
    entries.push(e);
  }
  return { name: name.text, loc: tokLoc(n.kw), entries };
}

