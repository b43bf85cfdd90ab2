/**
 * `announce_route { table T; protocol P; metric M; withdraw_grace S }` inside a
 * virtual_server: a vigil extension (keepalived has no such block). While the virtual
 * server is up, vigil holds `VIP/32 dev lo table T proto P` for BIRD or FRR to export over
 * BGP (src/lvs/announce.ts decides; src/netlink/route-table.ts writes).
 *
 * Tables 253 (default), 254 (main) and 255 (local) are the kernel's own (linux/rtnetlink.h
 * RT_TABLE_*) and 0 is "unspecified": a route there would be used by this host's own
 * forwarding, or is no table at all, so they are refused, by number or by name.
 */
import type { AnnounceRoute, SourceLoc } from '../model.ts';
import { tokLoc, type Node } from '../tree.ts';
import { arg, intArg, noExtra, parseIntStrict, parseSeconds, setLoc, type Ctx } from '../values.ts';
import { block, runBlock, simple, type BlockSpec } from './table.ts';

/** rtnetlink protocol vigil's routes carry unless told otherwise (unassigned in rtnetlink.h and iproute2's rt_protos) */
export const DEFAULT_ANNOUNCE_PROTOCOL = 248;
/** ms: long enough for a BGP UPDATE to reach the router and its FIB to drop the next hop */
export const DEFAULT_WITHDRAW_GRACE_MS = 2000;

const RESERVED_TABLES: Readonly<Record<string, number>> = { unspec: 0, default: 253, main: 254, local: 255 };
/** rtnetlink.h RTPROT_UNSPEC..RTPROT_STATIC: routes the kernel or an operator made */
const KERNEL_PROTOCOLS = 4;

interface Draft {
  loc: SourceLoc;
  table?: number;
  protocol?: number;
  metric?: number;
  withdrawGraceMs?: number;
  /** a `table` line was there but its value was refused (already reported) */
  tableRefused?: boolean;
}

const spec: BlockSpec<Draft> = {
  name: 'announce_route',
  keywords: {
    table: simple((n, d, ctx) => {
      const t = arg(n, ctx, 0, 'a routing table number');
      noExtra(n, ctx, 1);
      if (t === undefined) return;
      d.tableRefused = true;
      const named = RESERVED_TABLES[t.text.toLowerCase()];
      const v = named ?? parseIntStrict(t.text);
      if (v === undefined) {
        ctx.sink.error(tokLoc(t), 'bad-value', `announce_route table: \`${t.text}\` is not a table number`);
        return;
      }
      if (v < 1 || v > 0xffffffff) {
        ctx.sink.error(tokLoc(t), 'range', `announce_route table ${v} is out of range 1..4294967295`);
        return;
      }
      if (v >= 253 && v <= 255) {
        const name = Object.keys(RESERVED_TABLES).find((k) => RESERVED_TABLES[k] === v);
        ctx.sink.error(tokLoc(t), 'reserved-table', `announce_route table ${v} is the kernel's \`${name}\` table; use a table of its own (e.g. 198)`);
        return;
      }
      d.table = v;
      d.tableRefused = false;
      setLoc(ctx, d, 'table', t);
    }),
    protocol: simple((n, d, ctx) => {
      const v = intArg(n, ctx);
      if (v === undefined) return;
      const at = n.args[0] ?? n.kw;
      if (v < 0 || v > 255) {
        ctx.sink.error(tokLoc(at), 'range', `announce_route protocol ${v} is out of range 0..255`);
        return;
      }
      if (v <= KERNEL_PROTOCOLS) {
        ctx.sink.warn(
          tokLoc(at),
          'kernel-protocol',
          `announce_route protocol ${v} is one the kernel or an operator uses (unspec/redirect/kernel/boot/static); vigil will not clean up stale routes of it at start`,
        );
      }
      d.protocol = v;
    }),
    metric: simple((n, d, ctx) => {
      const v = intArg(n, ctx);
      if (v === undefined) return;
      if (v < 0 || v > 0xffffffff) {
        ctx.sink.error(tokLoc(n.args[0] ?? n.kw), 'range', `announce_route metric ${v} is out of range 0..4294967295`);
        return;
      }
      d.metric = v;
    }),
    withdraw_grace: simple((n, d, ctx) => {
      const t = arg(n, ctx, 0, 'a time in seconds');
      noExtra(n, ctx, 1);
      if (t === undefined) return;
      if (t.text.startsWith('-')) {
        ctx.sink.error(tokLoc(t), 'range', `announce_route withdraw_grace ${t.text} must not be negative`);
        return;
      }
      const v = parseSeconds(t.text);
      if (v === undefined) {
        ctx.sink.error(tokLoc(t), 'bad-value', `withdraw_grace: \`${t.text}\` is not a time in seconds`);
        return;
      }
      d.withdrawGraceMs = v;
    }),
  },
};

/** The block, or undefined (with an error at file:line:col) when it cannot be used. */
export function parseAnnounceRoute(n: Node, ctx: Ctx): AnnounceRoute | undefined {
  noExtra(n, ctx, 0);
  const kids = block(n, ctx);
  if (kids === undefined) return undefined;
  const d: Draft = { loc: tokLoc(n.kw) };
  runBlock(kids, spec, d, ctx);
  if (d.table === undefined) {
    if (d.tableRefused !== true) {
      ctx.sink.error(d.loc, 'missing-keyword', 'announce_route needs `table N` (the kernel routing table the routing daemon exports)');
    }
    return undefined;
  }
  const out: AnnounceRoute = {
    table: d.table,
    protocol: d.protocol ?? DEFAULT_ANNOUNCE_PROTOCOL,
    ...(d.metric !== undefined ? { metric: d.metric } : {}),
    withdrawGraceMs: d.withdrawGraceMs ?? DEFAULT_WITHDRAW_GRACE_MS,
    loc: d.loc,
  };
  return out;
}
