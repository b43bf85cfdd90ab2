/**
 * `virtual_rules` / `static_rules` on the wire: RuleSpec → RTM_NEWRULE/RTM_DELRULE
 * (struct fib_rule_hdr + FRA_*, linux/fib_rules.h), pure.
 *
 * - FRA_PROTOCOL is RTPROT_KEEPALIVED (18) unless the rule names one, as keepalived sets it, so `ip rule` shows
 *   `proto keepalived`; a delete carries it too, so only a rule vigil (or keepalived) added
 *   is removed, never an operator's identical one (fib_nl_delrule matches a given protocol).
 * - The table goes in FRA_TABLE always and in the header when it fits a u8, as iproute2.
 * - `not` is FIB_RULE_INVERT; `goto` is FR_ACT_GOTO with FRA_GOTO; `l3mdev` is FRA_L3MDEV
 *   with a table lookup and no table; a configured `protocol` replaces keepalived's.
 */
import type { rt } from 'netlink';
import { familyNumber, ipBytes } from './addresses.ts';
import { invalidSpec } from './errors.ts';
import type { RuleSpec } from './net-control.ts';
import { RTPROT_KEEPALIVED } from './routes.ts';

/** linux/fib_rules.h FR_ACT_* */
const ACTION = { toTbl: 1, goto: 2, nop: 3, blackhole: 6, unreachable: 7, prohibit: 8 } as const;

export function describeRule(r: RuleSpec): string {
  const parts: string[] = [];
  if (r.invert) parts.push('not');
  parts.push(`from ${r.from ? `${r.from.address}/${r.from.prefixLen}` : 'all'}`);
  if (r.to) parts.push(`to ${r.to.address}/${r.to.prefixLen}`);
  if (r.iif !== undefined) parts.push(`iif ${r.iif}`);
  if (r.oif !== undefined) parts.push(`oif ${r.oif}`);
  if (r.fwmark !== undefined) parts.push(`fwmark ${r.fwmark}${r.fwmask !== undefined ? `/${r.fwmask}` : ''}`);
  if (r.tos !== undefined) parts.push(`tos ${r.tos}`);
  if (r.priority !== undefined) parts.push(`pref ${r.priority}`);
  if (r.table !== undefined) parts.push(`table ${r.table}`);
  if (r.goto !== undefined) parts.push(`goto ${r.goto}`);
  if (r.action !== undefined) parts.push(r.action);
  if (r.l3mdev) parts.push('l3mdev');
  if (r.uidRange) parts.push(`uidrange ${r.uidRange.start}-${r.uidRange.end}`);
  if (r.sport) parts.push(`sport ${r.sport.start}-${r.sport.end}`);
  if (r.dport) parts.push(`dport ${r.dport.start}-${r.dport.end}`);
  if (r.suppressPrefixLength !== undefined) parts.push(`suppress_prefixlength ${r.suppressPrefixLength}`);
  if (r.suppressIfgroup !== undefined) parts.push(`suppress_ifgroup ${r.suppressIfgroup}`);
  if (r.realms !== undefined) parts.push(`realms ${r.realms >>> 16}/${r.realms & 0xffff}`);
  if (r.ipProto !== undefined) parts.push(`ipproto ${r.ipProto}`);
  if (r.protocol !== undefined) parts.push(`proto ${r.protocol}`);
  return parts.join(' ');
}

function u32Bytes(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

const u32 = (v: number | undefined): boolean => v === undefined || (Number.isInteger(v) && v >= 0 && v <= 0xffffffff);

/** The RTM_NEWRULE / RTM_DELRULE message for `r`; throws VIGIL_NL_INVALID_SPEC (nothing sent) for a spec the kernel could not take. */
export function toRuleMessage(r: RuleSpec, op: 'add' | 'del'): rt.RuleMessage {
  const opName = op === 'add' ? 'add rule' : 'remove rule';
  const object = describeRule(r);
  if (r.family !== 4 && r.family !== 6) throw invalidSpec(opName, object, `family ${String(r.family)} is not 4 or 6`);
  const max = r.family === 4 ? 32 : 128;
  for (const [what, p] of [['from', r.from], ['to', r.to]] as const) {
    if (p !== undefined && (!Number.isInteger(p.prefixLen) || p.prefixLen < 0 || p.prefixLen > max)) {
      throw invalidSpec(opName, object, `${what} prefix length ${p.prefixLen} is not in 0..${max}`);
    }
  }
  for (const [what, v] of [['table', r.table], ['goto', r.goto], ['preference', r.priority], ['fwmark', r.fwmark], ['fwmask', r.fwmask]] as const) {
    if (!u32(v)) throw invalidSpec(opName, object, `${what} ${v} is not in 0..4294967295`);
  }
  if (r.tos !== undefined && !(Number.isInteger(r.tos) && r.tos >= 0 && r.tos <= 255)) throw invalidSpec(opName, object, `tos ${r.tos} is not in 0..255`);
  let action: number;
  if (r.goto !== undefined) action = ACTION.goto;
  else if (r.action !== undefined) action = ACTION[r.action];
  else if (r.table !== undefined || r.l3mdev) action = ACTION.toTbl;
  else throw invalidSpec(opName, object, 'no action: a table, goto, l3mdev, blackhole, unreachable, prohibit or nop');
  const protocol = r.protocol ?? RTPROT_KEEPALIVED;
  if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) throw invalidSpec(opName, object, `protocol ${protocol} is not in 0..255`);
  for (const [what, range, max] of [['uidrange', r.uidRange, 0xffffffff], ['sport', r.sport, 0xffff], ['dport', r.dport, 0xffff]] as const) {
    if (range !== undefined && !(Number.isInteger(range.start) && Number.isInteger(range.end) && range.start >= 0 && range.start <= range.end && range.end <= max)) {
      throw invalidSpec(opName, object, `${what} ${range.start}-${range.end} is not a range in 0..${max}`);
    }
  }
  const table = r.table;
  const data: rt.Rule = {
    family: familyNumber(r.family),
    dstLen: r.to?.prefixLen ?? 0,
    srcLen: r.from?.prefixLen ?? 0,
    tos: r.tos ?? 0,
    table: table !== undefined && table < 256 ? table : 0,
    action: action as rt.RuleAction,
    ...(r.invert ? { flags: { invert: true } } : {}),
  };
  const attrs: rt.RuleAttrs = { protocol };
  if (r.l3mdev) attrs.l3Mdev = 1;
  if (r.uidRange) attrs.uidRange = { start: r.uidRange.start, end: r.uidRange.end };
  if (r.sport) attrs.sportRange = { start: r.sport.start, end: r.sport.end };
  if (r.dport) attrs.dportRange = { start: r.dport.start, end: r.dport.end };
  if (r.suppressPrefixLength !== undefined) attrs.suppressPrefixlen = u32Bytes(r.suppressPrefixLength);
  if (r.suppressIfgroup !== undefined) attrs.suppressIfgroup = u32Bytes(r.suppressIfgroup);
  if (r.realms !== undefined) {
    if (r.family !== 4) throw invalidSpec(opName, object, 'realms are IPv4 only');
    attrs.flow = r.realms >>> 0;
  }
  if (r.ipProto !== undefined) {
    if (!Number.isInteger(r.ipProto) || r.ipProto < 0 || r.ipProto > 255) throw invalidSpec(opName, object, `ipproto ${r.ipProto} is not in 0..255`);
    attrs.ipProto = r.ipProto;
  }
  if (table !== undefined) attrs.table = table;
  if (r.from !== undefined && r.from.prefixLen > 0) attrs.src = ipBytes(r.from.address, r.family, opName, object, 'from');
  if (r.to !== undefined && r.to.prefixLen > 0) attrs.dst = ipBytes(r.to.address, r.family, opName, object, 'to');
  if (r.iif !== undefined) attrs.iifname = r.iif;
  if (r.oif !== undefined) attrs.oifname = r.oif;
  if (r.fwmark !== undefined) attrs.fwmark = r.fwmark;
  if (r.fwmask !== undefined) attrs.fwmask = r.fwmask;
  if (r.priority !== undefined) attrs.priority = r.priority;
  if (r.goto !== undefined) attrs.goto = r.goto;
  return { kind: 'rule', data, attrs };
}
