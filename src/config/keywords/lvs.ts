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
  FileCheck,
  HttpUrl,
  LbKind,
  Protocol,
  RealServer,
  ScriptCommand,
  SourceLoc,
  StatusRange,
  UdpCheck,
  UrlRegex,
  VirtualServer,
  VirtualServerGroup,
  VirtualServerGroupEntry,
  VirtualServerKey,
} from '../model.ts';
import { tokLoc, type Node } from '../tree.ts';
import { parseHexStr, type HexStr } from '../hex-str.ts';
import { addressToBigInt, cidrRange, MAX_RANGE_ADDRESSES } from '../vsg-range.ts';
import { regexOption, regexProblem } from '../regex.ts';
import { trackWeightArg } from './track-file.ts';
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
  // keepalived: "PARSER : unknown [X] routing method" — ignored, NAT unless set otherwise.
  const t = arg(n, ctx, 0, `one of ${LB_KINDS.join('|')}`);
  if (t === undefined) return undefined;
  const v = LB_KINDS.find((k) => k === t.text.toUpperCase());
  if (v === undefined) {
    ctx.sink.warn(tokLoc(t), 'bad-value', `${n.kw.text}: \`${t.text}\` is not one of ${LB_KINDS.join('|')}; ignored, as keepalived does`);
    return undefined;
  }
  if (v === 'TUN' && n.args.length > 1) {
    ctx.sink.warn(tokLoc(n.args[1]!), 'unsupported-option', `${n.kw.text}: tunnel options are not implemented by vigil; ipip is used`);
  } else if (n.args[1] !== undefined) {
    // keepalived: "Invalid tunnel option X for virtual server."
    ctx.sink.warn(tokLoc(n.args[1]), 'extra-argument', `${n.kw.text} ${v}: \`${n.args[1].text}\` is not an option of it; ignored, as keepalived does`);
  }
  return v;
}

/** A keyword taking one integer, stored by `set`. */
function intField<T>(set: (target: T, v: number) => void): Handler<T> {
  return simple((n, target, ctx) => {
    const v = intArg(n, ctx);
    if (v !== undefined) set(target, v);
  });
}

function portTok(t: Token, ctx: Ctx, what: string): number | undefined {
  const v = intTok(t, ctx, what);
  return v;
}

// ---------------------------------------------------------------- checkers

/** A checker's connection options (and those of an SMTP_CHECK `host { }` block). */
interface ConnOpts {
  connectIp?: string;
  connectPort?: number;
  bindTo?: string;
  bindPort?: number;
  bindIf?: string;
  fwmark?: number;
}

const CONN_KEYS = ['connectIp', 'connectPort', 'bindTo', 'bindPort', 'bindIf', 'fwmark'] as const;

interface CheckerDraft extends ConnOpts {
  type: Checker['type'];
  loc: SourceLoc;
  inh: Inherited;
  urls: HttpUrl[];
  enableSni: boolean;
  miscPath?: ScriptCommand;
  miscTimeoutMs?: number;
  miscDynamic: boolean;
  user?: { user: string; group?: string };
  queryType?: string;
  name?: string;
  payload?: HexStr;
  requireReply?: boolean;
  reply?: HexStr;
  minReplyLength?: number;
  maxReplyLength?: number;
  heloName?: string;
  /** SMTP_CHECK `host { }` blocks (deprecated by keepalived: each becomes a checker) */
  hosts?: HostDraft[];
}

/** An SMTP_CHECK `host { }` block. */
interface HostDraft extends ConnOpts {
  connectTimeoutMs?: number;
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

type UrlDraft = {
  path?: string;
  statusCodes?: StatusRange[];
  digest?: string;
  virtualhost?: string;
  loc: SourceLoc;
  regex?: { pattern: string; loc: SourceLoc };
  regexOptions: string[];
  regexNoMatch?: SourceLoc;
  regexMinOffset?: number;
  regexMaxOffset?: number;
};

/** The url's regex settings, checked as keepalived check_http.c does at the url's end. */
function finishRegex(u: UrlDraft, ctx: Ctx): UrlRegex | undefined {
  if (u.regex === undefined) {
    if (u.regexNoMatch !== undefined || u.regexOptions.length > 0 || u.regexMinOffset !== undefined || u.regexMaxOffset !== undefined) {
      ctx.sink.warn(u.loc, 'ignored-keyword', 'url: regex options without `regex` are ignored (keepalived: "regex parameters specified without regex")');
    }
    return undefined;
  }
  let flags = '';
  let utf8 = false;
  let firstline = false;
  for (const o of u.regexOptions) {
    const opt = regexOption(o)!;
    if (opt.flag !== undefined && !flags.includes(opt.flag)) flags += opt.flag;
    if (opt.utf8) utf8 = true;
    if (opt.firstline) firstline = true;
  }
  const problem = regexProblem(u.regex.pattern, flags);
  if (problem !== undefined) {
    ctx.sink.error(u.regex.loc, 'bad-value', `regex: ${problem}`);
    return undefined;
  }
  let minOffset = u.regexMinOffset ?? 0;
  let maxOffset = u.regexMaxOffset;
  if (maxOffset !== undefined && minOffset > maxOffset) {
    ctx.sink.warn(u.loc, 'bad-value', `url: regex_min_offset ${minOffset} is beyond regex_max_offset ${maxOffset}; both ignored (keepalived)`);
    minOffset = 0;
    maxOffset = undefined;
  }
  const r: Mutable<UrlRegex> = { pattern: u.regex.pattern, flags, utf8, firstline, noMatch: u.regexNoMatch !== undefined, minOffset };
  if (maxOffset !== undefined) r.maxOffset = maxOffset;
  return r;
}

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
    regex: simple((n, u, ctx) => {
      const t = arg(n, ctx, 0, 'a regular expression');
      if (t === undefined) return;
      noExtra(n, ctx, 1);
      if (u.regex !== undefined) ctx.sink.warn(tokLoc(n.kw), 'duplicate-keyword', 'url: a second `regex` replaces the first');
      u.regex = { pattern: t.text, loc: tokLoc(t) };
    }),
    regex_no_match: simple((n, u, ctx) => {
      noExtra(n, ctx, 0);
      u.regexNoMatch = tokLoc(n.kw);
    }),
    regex_options: simple((n, u, ctx) => {
      for (const t of n.args) {
        const o = regexOption(t.text);
        if (o === undefined) ctx.sink.warn(tokLoc(t), 'unknown-option', `regex_options: unknown option \`${t.text}\`; ignored`);
        else if (o.unsupported !== undefined) ctx.sink.warn(tokLoc(t), 'unsupported-option', `regex_options \`${t.text}\` is not implemented by vigil (${o.unsupported}); ignored`);
        else u.regexOptions.push(t.text);
      }
    }),
    regex_min_offset: intField((u, v) => (u.regexMinOffset = v)),
    regex_max_offset: intField((u, v) => (u.regexMaxOffset = v)),
    // PCRE2's JIT stack sizes: nothing to size in JavaScript
    regex_stack: simple((n, _u, ctx) => {
      intArg(n, ctx, 0, false);
      intArg(n, ctx, 1);
    }),
  },
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
      const u: UrlDraft = { loc: tokLoc(n.kw), regexOptions: [] };
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
      const regex = finishRegex(u, ctx);
      if (regex !== undefined) url.regex = regex;
      const l = ctx.locs.get(u);
      if (l !== undefined) ctx.locs.set(url, l);
      c.urls.push(url);
    },
    // keepalived 2.2 keeps nb_get_retry in HTTP_GET/SSL_GET only, as a deprecated `retry`;
    // elsewhere it is an unknown keyword, so the retry count stays the default.
    nb_get_retry: simple((n, c, ctx) => {
      ctx.sink.warn(tokLoc(n.kw), 'deprecated-keyword', '`nb_get_retry` is deprecated; keepalived reads it as `retry`, and so does vigil');
      const v = intArg(n, ctx);
      if (v !== undefined) {
        c.inh.retry = v;
        setLoc(ctx, c.inh, 'retry', n.args[0] ?? n.kw);
      }
    }),
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

/** `payload`/`require_reply` HEX_STR: the words after the keyword, joined. */
function hexArg(n: Node, ctx: Ctx, allowWildcard: boolean): HexStr | undefined {
  const text = n.args.map((a) => a.text).join(' ');
  const v = parseHexStr(text, allowWildcard);
  if (v === undefined) ctx.sink.error(tokLoc(n.args[0] ?? n.kw), 'bad-value', `${n.kw.text}: \`${text}\` is not a hex string`);
  return v;
}

const udpSpec: BlockSpec<CheckerDraft> = {
  name: 'UDP_CHECK',
  keywords: {
    ...commonCheckerKeywords,
    payload: simple((n, c, ctx) => {
      if (n.args.length === 0) {
        ctx.sink.error(tokLoc(n.kw), 'missing-value', '`payload` needs a hex string');
        return;
      }
      const v = hexArg(n, ctx, false);
      if (v !== undefined) c.payload = v;
    }),
    require_reply: simple((n, c, ctx) => {
      c.requireReply = true;
      if (n.args.length === 0) return;
      const v = hexArg(n, ctx, true);
      if (v !== undefined) c.reply = v;
    }),
    min_reply_length: intField((c, v) => (c.minReplyLength = v)),
    max_reply_length: intField((c, v) => (c.maxReplyLength = v)),
  },
  unsupported: COMMON_UNSUPPORTED,
};

/** keepalived check_smtp.h SMTP_DEFAULT_HELO */
const SMTP_DEFAULT_HELO = 'smtpchecker.keepalived.org';

const hostSpec: BlockSpec<CheckerDraft> = {
  name: 'host',
  keywords: {
    connect_ip: commonCheckerKeywords['connect_ip']!,
    connect_port: commonCheckerKeywords['connect_port']!,
    bindto: commonCheckerKeywords['bindto']!,
    bind_port: commonCheckerKeywords['bind_port']!,
    bind_if: commonCheckerKeywords['bind_if']!,
    fwmark: commonCheckerKeywords['fwmark']!,
    connect_timeout: commonCheckerKeywords['connect_timeout']!,
  },
};

const smtpSpec: BlockSpec<CheckerDraft> = {
  name: 'SMTP_CHECK',
  keywords: {
    ...commonCheckerKeywords,
    helo_name: simple((n, c, ctx) => {
      const t = arg(n, ctx, 0, 'a host name');
      if (t === undefined) return;
      if (c.heloName !== undefined) ctx.sink.warn(tokLoc(n.kw), 'duplicate-keyword', 'SMTP_CHECK: helo_name already given; the last one counts');
      c.heloName = t.text;
    }),
    host: (n, c, ctx) => {
      const kids = block(n, ctx);
      if (kids === undefined) return;
      const h: CheckerDraft = { type: 'SMTP_CHECK', loc: tokLoc(n.kw), inh: {}, urls: [], enableSni: false, miscDynamic: false };
      runBlock(kids, hostSpec, h, ctx);
      const host: HostDraft = {};
      for (const k of CONN_KEYS) if (h[k] !== undefined) (host as Record<string, unknown>)[k] = h[k];
      if (h.inh.connectTimeoutMs !== undefined) host.connectTimeoutMs = h.inh.connectTimeoutMs;
      (c.hosts ??= []).push(host);
    },
  },
  unsupported: COMMON_UNSUPPORTED,
};

/**
 * An SMTP_CHECK with `host` blocks is one checker per host (keepalived check_smtp.c
 * smtp_check_end_handler): the checker itself stays when it has connection options of its
 * own (or no hosts); without them the first host takes its place. Each host's checker keeps
 * the checker's other settings.
 */
function expandSmtpHosts(c: CheckerDraft): CheckerDraft[] {
  const hosts = c.hosts ?? [];
  if (hosts.length === 0) return [c];
  const own = CONN_KEYS.some((k) => c[k] !== undefined) || c.inh.connectTimeoutMs !== undefined;
  const base: CheckerDraft = { ...c, inh: { ...c.inh } };
  delete base.hosts;
  for (const k of CONN_KEYS) delete base[k];
  const perHost = hosts.map((h): CheckerDraft => {
    const d: CheckerDraft = { ...base, inh: { ...base.inh }, ...definedOnly(h) };
    delete (d as { connectTimeoutMs?: number }).connectTimeoutMs;
    if (h.connectTimeoutMs !== undefined) d.inh.connectTimeoutMs = h.connectTimeoutMs;
    return d;
  });
  if (!own) return perHost;
  const main: CheckerDraft = { ...c };
  delete main.hosts;
  return [main, ...perHost];
}

const CHECKER_SPECS: Record<string, BlockSpec<CheckerDraft>> = {
  HTTP_GET: httpSpec,
  SSL_GET: { ...httpSpec, name: 'SSL_GET' },
  TCP_CHECK: tcpSpec,
  MISC_CHECK: miscSpec,
  DNS_CHECK: dnsSpec,
  UDP_CHECK: udpSpec,
  PING_CHECK: { name: 'PING_CHECK', keywords: commonCheckerKeywords, unsupported: COMMON_UNSUPPORTED },
  SMTP_CHECK: smtpSpec,
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
    case 'PING_CHECK':
      out = { ...common, type: t };
      break;
    case 'SMTP_CHECK':
      out = { ...common, type: t, heloName: c.heloName ?? SMTP_DEFAULT_HELO };
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
    case 'UDP_CHECK': {
      const min = c.minReplyLength ?? 0;
      const max = c.maxReplyLength ?? 255;
      if (min > max) {
        ctx.sink.error(c.loc, 'bad-value', `UDP_CHECK: min_reply_length ${min} is above max_reply_length ${max}`);
        return undefined;
      }
      const udp: Mutable<UdpCheck> = { ...common, type: t, requireReply: c.requireReply ?? false, minReplyLength: min, maxReplyLength: max };
      if (c.payload !== undefined) udp.payload = [...c.payload.data];
      if (c.reply !== undefined) udp.reply = c.reply.mask !== undefined ? { data: [...c.reply.data], mask: [...c.reply.mask] } : { data: [...c.reply.data] };
      out = udp;
      break;
    }
  }
  const l = { ...(ctx.locs.get(c) ?? {}), ...(ctx.locs.get(c.inh) ?? {}) };
  ctx.locs.set(out, l);
  return out;
}

// ---------------------------------------------------------------- real_server

/** `FILE_CHECK { track_file NAME; weight W [reverse] }` (no other checker option applies) */
const fileCheckSpec: BlockSpec<{ name?: string; weight?: { weight: number; reverse: boolean } }> = {
  name: 'FILE_CHECK',
  keywords: {
    track_file: simple((n, d, ctx) => {
      const t = arg(n, ctx, 0, 'a track_file name');
      noExtra(n, ctx, 1);
      if (t !== undefined) d.name = t.text;
    }),
    weight: simple((n, d, ctx) => {
      const w = trackWeightArg(n, ctx);
      if (w !== undefined) d.weight = w;
    }),
  },
};

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
  smtpAlert?: boolean;
  checkers: CheckerDraft[];
  fileChecks: FileCheck[];
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
      // keepalived: "Real server weight X is outside range 0-2147483647" (IPVS_WEIGHT_LIMIT,
      // INT32_MAX) — ignored, the weight stays.
      if (v !== undefined && (v < 0 || v > 0x7fff_ffff)) {
        ctx.sink.warn(tokLoc(n.args[0] ?? n.kw), 'range', `real_server weight ${v} is outside 0..2147483647; ignored, as keepalived does`);
        return;
      }
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
    smtp_alert: simple((n, rs, ctx) => {
      const v = boolArg(n, ctx);
      if (v !== undefined) rs.smtpAlert = v;
    }),
    HTTP_GET: checkerHandler('HTTP_GET'),
    SSL_GET: checkerHandler('SSL_GET'),
    TCP_CHECK: checkerHandler('TCP_CHECK'),
    MISC_CHECK: checkerHandler('MISC_CHECK'),
    DNS_CHECK: checkerHandler('DNS_CHECK'),
    UDP_CHECK: checkerHandler('UDP_CHECK'),
    FILE_CHECK: (n, rs, ctx) => {
      const kids = block(n, ctx);
      if (kids === undefined) return;
      const d: { name?: string; weight?: { weight: number; reverse: boolean } } = {};
      runBlock(kids, fileCheckSpec, d, ctx);
      if (d.name === undefined) {
        ctx.sink.error(tokLoc(n.kw), 'missing-keyword', 'FILE_CHECK has no `track_file`');
        return;
      }
      rs.fileChecks.push({ loc: tokLoc(n.kw), trackFile: d.name, ...(d.weight !== undefined ? { weight: d.weight.weight, reverse: d.weight.reverse } : {}) });
    },
    PING_CHECK: checkerHandler('PING_CHECK'),
    SMTP_CHECK: checkerHandler('SMTP_CHECK'),
  },
  unsupported: ['snmp_name', 'BFD_CHECK', 'track_file', 'tunnel_type'],
};
(rsSpec.keywords as Record<string, Handler<RsDraft>>)['lvs_method'] = rsSpec.keywords['lb_kind']!;

// ---------------------------------------------------------------- virtual_server

interface VsDraft {
  loc: SourceLoc;
  key: VirtualServerKey;
  inh: Inherited;
  lbAlgo?: string;
  lbKind?: LbKind;
  persistenceTimeoutMs?: number;
  persistenceGranularity?: string;
  protocol?: Protocol;
  quorum: number;
  hysteresis: number;
  quorumUp?: ScriptCommand;
  quorumDown?: ScriptCommand;
  omega: boolean;
  sorryServer?: { address: string; port: number; lbKind?: LbKind };
  sorryServerLbKind?: LbKind;
  sorryServerInhibit: boolean;
  haSuspend: boolean;
  smtpAlert?: boolean;
  schedFlags: string[];
  realServers: RsDraft[];
  announceRoute?: AnnounceRoute;
}

const vsKeywords: Record<string, Handler<VsDraft>> = {
  ...inheritedKeywords<VsDraft>(),
  lb_algo: simple((n, vs, ctx) => {
    // keepalived: "Invalid lvs_scheduler 'X' - ignoring", then wlc unless another lb_algo is valid.
    const t = arg(n, ctx, 0, `one of ${SCHEDULERS.join('|')}`);
    noExtra(n, ctx, 1);
    if (t === undefined) return;
    const v = SCHEDULERS.find((s) => s === t.text.toLowerCase());
    if (v === undefined) {
      ctx.sink.warn(tokLoc(t), 'bad-value', `${n.kw.text}: \`${t.text}\` is not one of ${SCHEDULERS.join('|')}; ignored, as keepalived does`);
      return;
    }
    vs.lbAlgo = v;
  }),
  lb_kind: simple((n, vs, ctx) => {
    const v = lbKindArg(n, ctx);
    if (v !== undefined) vs.lbKind = v;
  }),
  persistence_timeout: simple((n, vs, ctx) => {
    const t = n.args[0];
    // keepalived: no value means 6 minutes; a value outside 1..2678400 s (LVS_MAX_TIMEOUT,
    // 31 days) is "persistence_timeout invalid" and ignored: no persistence.
    if (t === undefined) {
      vs.persistenceTimeoutMs = 360_000;
      return;
    }
    noExtra(n, ctx, 1);
    const v = parseIntStrict(t.text);
    if (v === undefined || v < 1 || v > 2_678_400 || t.text.startsWith('+') || t.text.startsWith('-')) {
      ctx.sink.warn(tokLoc(t), 'range', `persistence_timeout \`${t.text}\` is not a whole number of seconds in 1..2678400; ignored (no persistence), as keepalived does`);
      return;
    }
    setLoc(ctx, vs, 'persistenceTimeoutMs', t);
    vs.persistenceTimeoutMs = v * 1000;
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
    const t = arg(n, ctx, 0, `one of ${PROTOCOLS.join('|')}`);
    noExtra(n, ctx, 1);
    if (t === undefined) return;
    const v = PROTOCOLS.find((p) => p === t.text.toUpperCase());
    if (v === undefined) {
      ctx.sink.warn(tokLoc(t), 'bad-value', `protocol: \`${t.text}\` is not one of ${PROTOCOLS.join('|')}; ignored, as keepalived does`);
      return;
    }
    vs.protocol = v;
    setLoc(ctx, vs, 'protocol', t);
  }),
  quorum: simple((n, vs, ctx) => {
    // keepalived: "Quorum X must be in [1, 4294967295]. Setting to 1."
    const t = arg(n, ctx, 0, 'an integer');
    noExtra(n, ctx, 1);
    if (t === undefined) return;
    const v = parseIntStrict(t.text);
    if (v === undefined || v < 1 || v > 0xffff_ffff) {
      ctx.sink.warn(tokLoc(t), 'range', `quorum \`${t.text}\` must be in 1..4294967295; using 1, as keepalived does`);
      vs.quorum = 1;
      return;
    }
    vs.quorum = v;
  }),
  hysteresis: simple((n, vs, ctx) => {
    // keepalived: "Hysteresis X must be in [0, 4294967295] - ignoring"
    const t = arg(n, ctx, 0, 'an integer');
    noExtra(n, ctx, 1);
    if (t === undefined) return;
    const v = parseIntStrict(t.text);
    if (v === undefined || v < 0 || v > 0xffff_ffff || t.text.startsWith('-')) {
      ctx.sink.warn(tokLoc(t), 'range', `hysteresis \`${t.text}\` must be in 0..4294967295; ignored, as keepalived does`);
      return;
    }
    vs.hysteresis = v;
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
  smtp_alert: simple((n, vs, ctx) => {
    const v = boolArg(n, ctx);
    if (v !== undefined) vs.smtpAlert = v;
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
    const rs: RsDraft = { loc: tokLoc(n.kw), address: ip.address, family: ip.family, weight: 1, inh: {}, checkers: [], fileChecks: [] };
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
  unsupported: ['ops', 'persistence_engine', 'snmp_name', 'ip_family', 'tunnel_type'],
  obsolete: { nat_mask: 'removed in keepalived 2 (LVS NAT needs no netmask)' },
};

/** `virtual_server IP PORT | fwmark N | group NAME { ... }` */
export function parseVirtualServer(n: Node, ctx: Ctx): VirtualServer | undefined {
  const kids = block(n, ctx);
  if (kids === undefined) return undefined;
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
    // keepalived: "zero port only valid for persistent services - setting" (360 s).
    ctx.sink.warn(tokLoc(a0), 'zero-port', 'virtual_server without a port must be persistent; persistence_timeout 360 s set, as keepalived does');
    vs.persistenceTimeoutMs = 360_000;
  }
  // A fwmark service takes its family from its real servers when they agree.
  if (key.kind === 'fwmark' && vs.realServers.length > 0 && vs.realServers.every((r) => r.family === 6)) {
    key = { ...key, family: 6 };
  }
  // keepalived check_data.c (validate_check_config): a virtual server without real servers
  // is dropped; missing protocol, scheduler and forwarding method get defaults, said aloud.
  const vsAt = tokLoc(a0);
  // keepalived exited at the keyword missing its value before getting here
  if (ctx.sink.stopped) return undefined;
  if (vs.realServers.length === 0) {
    ctx.sink.warn(vsAt, 'no-real-server', 'virtual_server has no real_server; ignored, as keepalived does');
    return undefined;
  }
  let protocol: Protocol;
  if (key.kind === 'fwmark') {
    if (vs.protocol !== undefined) ctx.sink.warn(vsAt, 'fwmark-protocol', 'virtual_server fwmark: `protocol` does not apply to a fwmark service; ignored, as keepalived does');
    protocol = 'TCP';
  } else if (vs.protocol === undefined) {
    // The kernel takes protocol 0 as UDP; keepalived sets it explicitly.
    ctx.sink.warn(vsAt, 'default-protocol', 'virtual_server has no `protocol`; keepalived uses UDP, and so does vigil');
    protocol = 'UDP';
  } else protocol = vs.protocol;
  if (vs.lbAlgo === undefined) ctx.sink.warn(vsAt, 'default-scheduler', 'virtual_server has no valid `lb_algo`; using wlc, as keepalived does');
  const lbAlgo = vs.lbAlgo ?? 'wlc';
  if (vs.lbKind === undefined && (vs.realServers.some((r) => r.lbKind === undefined) || (vs.sorryServer !== undefined && vs.sorryServerLbKind === undefined))) {
    ctx.sink.warn(vsAt, 'default-lb-kind', 'virtual_server has no `lb_kind`; using NAT, as keepalived does');
  }
  const lbKind = vs.lbKind ?? 'NAT';
  const vsPort = key.kind === 'ip' ? key.port : 0;
  const realServers: RealServer[] = [];
  for (const d of vs.realServers) {
    const rsInh: Inherited = { ...vs.inh, ...definedOnly(d.inh) };
    const checkers: Checker[] = [];
    for (const c of d.checkers.flatMap(expandSmtpHosts)) {
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
    if (d.smtpAlert !== undefined) rs.smtpAlert = d.smtpAlert;
    if (d.fileChecks.length > 0) rs.fileChecks = d.fileChecks;
    const l = ctx.locs.get(d);
    if (l !== undefined) ctx.locs.set(rs, l);
    realServers.push(rs);
  }
  // keepalived: a quorum above the real servers' total weight could never be reached; it is
  // lowered to that total, and hysteresis kept below the quorum.
  let quorum = vs.quorum;
  let hysteresis = vs.hysteresis;
  const weightSum = realServers.reduce((a, r) => a + r.weight, 0);
  if (quorum > weightSum) {
    ctx.sink.warn(vsAt, 'quorum-weight', `quorum ${quorum} exceeds the real servers' total weight ${weightSum}; lowered to ${weightSum}, as keepalived does`);
    quorum = weightSum;
  }
  if (hysteresis >= quorum) {
    const h = Math.max(0, quorum - 1);
    ctx.sink.warn(vsAt, 'hysteresis-quorum', `hysteresis ${hysteresis} is not below quorum ${quorum}; set to ${h}, as keepalived does`);
    hysteresis = h;
  }
  const out: Mutable<VirtualServer> = {
    loc: vs.loc,
    key,
    delayLoopMs: vs.inh.delayLoopMs ?? 60_000,
    lbAlgo,
    lbKind,
    protocol,
    quorum,
    hysteresis,
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
  if (vs.smtpAlert !== undefined) out.smtpAlert = vs.smtpAlert;
  if (vs.announceRoute !== undefined) out.announceRoute = vs.announceRoute;
  const l = ctx.locs.get(vs);
  if (l !== undefined) ctx.locs.set(out, l);
  return out;
}

function definedOnly<T extends object>(o: T): T {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) r[k] = v;
  return r as T;
}

// ---------------------------------------------------------------- virtual_server_group

/** `IP[-END] [PORT]` or `fwmark N [inet|inet6]` lines. */
export function parseVirtualServerGroup(n: Node, ctx: Ctx): VirtualServerGroup | undefined {
  const name = arg(n, ctx, 0, 'a name');
  const kids = block(n, ctx);
  if (kids === undefined) return undefined;
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
    let port = 0;
    const p = k.args[0];
    if (p !== undefined) {
      const v = intTok(p, ctx, 'virtual_server_group port');
      if (v === undefined) continue;
      port = v;
    }
    if (text.includes('/')) {
      const r = cidrRange(text);
      if ('error' in r) {
        ctx.sink.error(loc, 'bad-address', `virtual_server_group: ${r.error}`);
        continue;
      }
      const e: Mutable<Extract<VirtualServerGroupEntry, { kind: 'ip' }>> = { kind: 'ip', address: r.start, family: r.family, port, loc };
      if (r.end !== r.start) e.rangeEnd = r.end;
      if (p !== undefined) setLoc(ctx, e, 'port', p);
      entries.push(e);
      continue;
    }
    const dash = text.indexOf('-');
    const addrText = dash < 0 ? text : text.slice(0, dash);
    const ip = parseIp(addrText);
    if (ip === undefined) {
      ctx.sink.error(loc, 'bad-address', `virtual_server_group: \`${addrText}\` is not an IP address`);
      continue;
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
      if (endIp !== undefined) {
        const size = endIp.family === ip.family ? addressToBigInt(endIp.address) - addressToBigInt(ip.address) + 1n : 0n;
        if (size < 1n || size > BigInt(MAX_RANGE_ADDRESSES)) {
          ctx.sink.error(loc, 'bad-address', `virtual_server_group: range ${text} ${size < 1n ? 'ends before it starts' : `is more than vigil's ${MAX_RANGE_ADDRESSES} services per range`}`);
          continue;
        }
      }
      e.rangeEnd = endIp?.address ?? end.toLowerCase();
    }
    if (p !== undefined) setLoc(ctx, e, 'port', p);
    entries.push(e);
  }
  return { name: name.text, loc: tokLoc(n.kw), entries };
}

