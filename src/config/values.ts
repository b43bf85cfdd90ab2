/**
 * Value syntax shared by every keyword table: integers, timers, booleans, addresses,
 * enumerations (case-insensitive, as keepalived 2.2 compares them) and script command
 * lines. Each reader reports a diagnostic at the token at fault and returns undefined;
 * it never throws.
 */
import ipaddr from 'ipaddr.js';
import type { DiagnosticSink } from './diagnostics.ts';
import type { Token } from './lexer.ts';
import type { Family, ScriptCommand, SourceLoc } from './model.ts';
import { tokLoc, type Node } from './tree.ts';

/** Where each field of a model object was set, for validation diagnostics. */
export type FieldLocs = Map<object, Record<string, SourceLoc>>;

export interface Ctx {
  readonly sink: DiagnosticSink;
  readonly locs: FieldLocs;
  /** set by runBlock: the keyword of the statement after the one being handled */
  next?: Token | undefined;
}

export function setLoc(ctx: Ctx, obj: object, field: string, t: Token | SourceLoc): void {
  let m = ctx.locs.get(obj);
  if (m === undefined) {
    m = {};
    ctx.locs.set(obj, m);
  }
  // A Token is a SourceLoc (file, line, col); keeping it avoids a copy per field. These
  // locations only feed diagnostics, which copy what they keep.
  m[field] = t;
}

export function locOf(locs: FieldLocs, obj: object, field: string, fallback: SourceLoc): SourceLoc {
  return locs.get(obj)?.[field] ?? fallback;
}

/** The argument `i` of a statement, or a `missing-value` error at the keyword. */
export function arg(node: Node, ctx: Ctx, i = 0, what = 'a value'): Token | undefined {
  const t = node.args[i];
  if (t === undefined) {
    ctx.sink.error(tokLoc(node.kw), 'missing-value', `\`${node.kw.text}\` needs ${what}`);
  }
  return t;
}

/**
 * Arguments after the last one a keyword takes are ignored, in silence, as keepalived 2.2
 * ignores them (it only complains of words after a block keyword: table.ts block()). A
 * warning here made `vigil -t` disagree with `keepalived -t` on configs keepalived calls clean.
 */
export function noExtra(node: Node, ctx: Ctx, max: number): void {
  void node;
  void ctx;
  void max;
}

function isDigits(s: string, from: number): boolean {
  if (from >= s.length) return false;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export function parseIntStrict(s: string): number | undefined {
  if (s.length > 15) return undefined;
  if (!isDigits(s, s.startsWith('-') || s.startsWith('+') ? 1 : 0)) return undefined;
  return Number(s);
}

export function intTok(t: Token, ctx: Ctx, what: string): number | undefined {
  const v = parseIntStrict(t.text);
  if (v === undefined) ctx.sink.error(tokLoc(t), 'bad-value', `${what}: \`${t.text}\` is not an integer`);
  return v;
}

/** Argument `i` as an integer; with `last`, warn about anything after it. */
export function intArg(node: Node, ctx: Ctx, i = 0, last = true): number | undefined {
  const t = arg(node, ctx, i, 'an integer');
  if (last) noExtra(node, ctx, i + 1);
  return t === undefined ? undefined : intTok(t, ctx, node.kw.text);
}

/**
 * Whole seconds 0..4294, in ms, as keepalived 2.2 reads a count of seconds it keeps in µs
 * (vrrp_script interval / timeout, smtp_connect_timeout): a fraction, a sign or more than 4294
 * is ignored with a warning ("… must be in [0, 4294] - ignoring"); 0 is 1 s ("must be greater
 * than 0, setting to 1"). `label` names the setting, `ignored` says what is used instead.
 */
export function wholeSecondsArg(n: Node, ctx: Ctx, label: string, ignored: string): number | undefined {
  const t = arg(n, ctx, 0, 'whole seconds');
  if (t === undefined) return undefined;
  const v = parseIntStrict(t.text);
  if (v === undefined || v < 0 || v > 4294 || t.text.startsWith('-') || t.text.startsWith('+')) {
    ctx.sink.warn(tokLoc(t), 'range', `${label} \`${t.text}\` is not whole seconds in 1..4294; ${ignored}, as keepalived does`);
    return undefined;
  }
  if (v === 0) {
    ctx.sink.warn(tokLoc(t), 'range', `${label} must be more than 0 s; using 1 s, as keepalived does`);
    return 1000;
  }
  return v * 1000;
}

/** Seconds, possibly fractional (keepalived <TIMER>), to ms rounded to the microsecond. */
export function parseSeconds(s: string): number | undefined {
  if (s.length === 0 || s.length > 20) return undefined;
  let dot = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (dot >= 0) return undefined;
      dot = i;
    } else if (c < 48 || c > 57) return undefined;
  }
  if (dot === 0 || dot === s.length - 1) return undefined;
  return Math.round(Number(s) * 1e6) / 1e3;
}

export function timerArg(node: Node, ctx: Ctx, i = 0): number | undefined {
  const t = arg(node, ctx, i, 'a time in seconds');
  noExtra(node, ctx, i + 1);
  if (t === undefined) return undefined;
  const v = parseSeconds(t.text);
  if (v === undefined) ctx.sink.error(tokLoc(t), 'bad-value', `${node.kw.text}: \`${t.text}\` is not a time in seconds`);
  return v;
}

const TRUE = new Set(['on', 'true', 'yes']);
const FALSE = new Set(['off', 'false', 'no']);

/** `keyword [BOOL]`: no argument means true. */
export function boolArg(node: Node, ctx: Ctx, i = 0): boolean | undefined {
  const t = node.args[i];
  noExtra(node, ctx, i + 1);
  if (t === undefined) return true;
  const v = t.text.toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  ctx.sink.error(tokLoc(t), 'bad-value', `${node.kw.text}: \`${t.text}\` is not one of on|off|true|false|yes|no`);
  return undefined;
}

/** Case-insensitive choice; returns the canonical spelling from `choices`. */
export function enumTok<T extends string>(t: Token, ctx: Ctx, what: string, choices: readonly T[]): T | undefined {
  const v = t.text.toLowerCase();
  for (const c of choices) if (c.toLowerCase() === v) return c;
  ctx.sink.error(tokLoc(t), 'bad-value', `${what}: \`${t.text}\` is not one of ${choices.join('|')}`);
  return undefined;
}

export function enumArg<T extends string>(node: Node, ctx: Ctx, choices: readonly T[], i = 0, last = true): T | undefined {
  const t = arg(node, ctx, i, `one of ${choices.join('|')}`);
  if (last) noExtra(node, ctx, i + 1);
  return t === undefined ? undefined : enumTok(t, ctx, node.kw.text, choices);
}

export interface ParsedIp {
  readonly address: string;
  readonly family: Family;
}

/** Strict address syntax: dotted-quad IPv4 or IPv6 (zone id allowed); canonical text out. */
/**
 * Canonical dotted quad without leading zeros: already in ipaddr.js's canonical form, so
 * the common case skips its three parses (validate, parse, print). Anything else goes to
 * ipaddr.js, which decides.
 */
function plainIpv4(s: string): boolean {
  let parts = 0;
  let i = 0;
  while (i <= s.length) {
    let v = 0;
    let digits = 0;
    const start = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      digits++;
      i++;
    }
    if (digits === 0 || digits > 3 || v > 255 || (digits > 1 && s.charCodeAt(start) === 48)) return false;
    parts++;
    if (i === s.length) return parts === 4;
    if (s.charCodeAt(i) !== 46 || parts === 4) return false;
    i++;
  }
  return false;
}

export function parseIp(s: string): ParsedIp | undefined {
  if (s.length > 64) return undefined;
  if (plainIpv4(s)) return { address: s, family: 4 };
  if (s.indexOf(':') < 0) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(s)) return undefined;
    return { address: ipaddr.IPv4.parse(s).toString(), family: 4 };
  }
  if (!ipaddr.IPv6.isValid(s)) return undefined;
  return { address: ipaddr.IPv6.parse(s).toString(), family: 6 };
}

export function ipTok(t: Token, ctx: Ctx, what: string): ParsedIp | undefined {
  const ip = parseIp(t.text);
  if (ip === undefined) ctx.sink.error(tokLoc(t), 'bad-address', `${what}: \`${t.text}\` is not an IP address`);
  return ip;
}

export function ipArg(node: Node, ctx: Ctx, i = 0): ParsedIp | undefined {
  const t = arg(node, ctx, i, 'an IP address');
  return t === undefined ? undefined : ipTok(t, ctx, node.kw.text);
}

/** `ADDR[/LEN]`; the length defaults to the full address (/32, /128). */
export function prefixTok(t: Token, ctx: Ctx, what: string): (ParsedIp & { prefixLen: number }) | undefined {
  const slash = t.text.indexOf('/');
  const addr = slash < 0 ? t.text : t.text.slice(0, slash);
  const ip = parseIp(addr);
  if (ip === undefined) {
    ctx.sink.error(tokLoc(t), 'bad-address', `${what}: \`${addr}\` is not an IP address`);
    return undefined;
  }
  const max = ip.family === 4 ? 32 : 128;
  if (slash < 0) return { ...ip, prefixLen: max };
  const len = parseIntStrict(t.text.slice(slash + 1));
  if (len === undefined || len < 0 || len > max || t.text[slash + 1] === '-' || t.text[slash + 1] === '+') {
    ctx.sink.error(tokLoc(t), 'bad-address', `${what}: prefix length \`${t.text.slice(slash + 1)}\` must be 0..${max}`);
    return undefined;
  }
  return { ...ip, prefixLen: len };
}

/**
 * Split a command line into argv the way keepalived does for scripts: unquoted whitespace
 * separates words; single quotes keep everything literal; double quotes keep whitespace
 * and honour `\"` and `\\`; a backslash outside quotes escapes the next character.
 */
export function splitArgv(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f') {
      if (inWord) {
        out.push(cur);
        cur = '';
        inWord = false;
      }
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const e = s.indexOf("'", i + 1);
      const end = e < 0 ? s.length : e;
      cur += s.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\')) i++;
        cur += s[i];
        i++;
      }
      i++;
      continue;
    }
    if (c === '\\' && i + 1 < s.length) {
      cur += s[i + 1];
      i += 2;
      continue;
    }
    cur += c;
    i++;
  }
  if (inWord) out.push(cur);
  return out;
}

/**
 * `keyword <STRING>|<QUOTED-STRING> [username [groupname]]` (notify*, quorum_up/down) or,
 * with `withUser` false, `keyword <STRING>|<QUOTED-STRING>` (script, misc_path).
 */
export function scriptArg(node: Node, ctx: Ctx, withUser: boolean): ScriptCommand | undefined {
  const t = arg(node, ctx, 0, 'a command');
  if (t === undefined) return undefined;
  const argv = splitArgv(t.text);
  if (argv.length === 0) {
    ctx.sink.error(tokLoc(t), 'bad-value', `${node.kw.text}: empty command`);
    return undefined;
  }
  const cmd: { raw: string; argv: string[]; user?: string; group?: string; loc: SourceLoc } = {
    raw: t.text,
    argv,
    loc: tokLoc(t),
  };
  if (withUser) {
    const u = node.args[1];
    const g = node.args[2];
    if (u !== undefined) {
      cmd.user = u.text;
      if (!t.quoted) {
        ctx.sink.warn(
          tokLoc(u),
          'script-user',
          `${node.kw.text}: \`${u.text}\` is taken as the user to run \`${t.text}\` as (keepalived does the same); quote the command to pass it arguments`,
        );
      }
    }
    if (g !== undefined) cmd.group = g.text;
    noExtra(node, ctx, 3);
  } else if (node.args.length > 1) {
    // keepalived joins the words of an unquoted script line with spaces.
    const words = node.args.map((a) => a.text).join(' ');
    cmd.raw = words;
    cmd.argv = node.args.flatMap((a) => (a.quoted ? [a.text] : splitArgv(a.text)));
  }
  return cmd;
}

export function nameArg(node: Node, ctx: Ctx, what = 'a name'): string | undefined {
  return arg(node, ctx, 0, what)?.text;
}
