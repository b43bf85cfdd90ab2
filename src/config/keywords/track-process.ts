/**
 * `vrrp_track_process NAME { … }` (keepalived.conf(5) "VRRP track processes"):
 *
 *     vrrp_track_process NAME {
 *         process NAME [PARAM …]          # required
 *         param_match [initial|partial]   # alone: the process must have no parameters
 *         weight N [reverse]              # -254..254, default 1
 *         quorum N                        # default 1
 *         quorum_max N                    # default unlimited
 *         fork_delay S | terminate_delay S | delay S
 *         full_command
 *     }
 */
import type { SourceLoc, TrackProcess } from '../model.ts';
import { tokLoc, type Node } from '../tree.ts';
import { arg, intArg, intTok, noExtra, setLoc, timerArg, type Ctx } from '../values.ts';
import { block, runBlock, simple, type BlockSpec, type Mutable } from './table.ts';

/** TASK_COMM_LEN - 1: the kernel keeps this many bytes of a process name */
export const COMM_MAX = 15;

type Draft = Omit<Mutable<TrackProcess>, 'process' | 'params' | 'paramMatch'> & {
  process?: string;
  params: string[];
  paramMatch?: TrackProcess['paramMatch'];
};

const spec: BlockSpec<Draft> = {
  name: 'vrrp_track_process',
  keywords: {
    process: simple((n, d, ctx) => {
      const t = arg(n, ctx, 0, 'a process name');
      if (t === undefined) return;
      d.process = t.text;
      d.params = n.args.slice(1).map((a) => a.text);
      setLoc(ctx, d, 'process', t);
    }),
    param_match: simple((n, d, ctx) => {
      const t = n.args[0];
      noExtra(n, ctx, 1);
      if (t === undefined) {
        d.paramMatch = 'exact';
        return;
      }
      const w = t.text.toLowerCase();
      if (w === 'initial' || w === 'partial') d.paramMatch = w;
      else ctx.sink.error(tokLoc(t), 'bad-value', `param_match: \`${t.text}\` is not initial|partial`);
    }),
    weight: simple((n, d, ctx) => {
      const t = arg(n, ctx, 0, 'an integer');
      if (t === undefined) return;
      const v = intTok(t, ctx, 'weight');
      if (v === undefined) return;
      d.weight = v;
      setLoc(ctx, d, 'weight', t);
      const r = n.args[1];
      if (r !== undefined) {
        const w = r.text.toLowerCase();
        if (w === 'reverse') d.weightReverse = true;
        else if (w === 'noreverse' || w === 'no_reverse') d.weightReverse = false;
        else ctx.sink.error(tokLoc(r), 'bad-value', `weight: \`${r.text}\` is not reverse|noreverse`);
      }
      noExtra(n, ctx, 2);
    }),
    quorum: simple((n, d, ctx) => {
      const v = intArg(n, ctx);
      if (v === undefined) return;
      d.quorum = v;
      setLoc(ctx, d, 'quorum', n.args[0] ?? n.kw);
    }),
    quorum_max: simple((n, d, ctx) => {
      const v = intArg(n, ctx);
      if (v === undefined) return;
      d.quorumMax = v;
      setLoc(ctx, d, 'quorumMax', n.args[0] ?? n.kw);
    }),
    fork_delay: simple((n, d, ctx) => {
      const v = timerArg(n, ctx);
      if (v !== undefined) d.forkDelayMs = v;
    }),
    terminate_delay: simple((n, d, ctx) => {
      const v = timerArg(n, ctx);
      if (v !== undefined) d.terminateDelayMs = v;
    }),
    delay: simple((n, d, ctx) => {
      const v = timerArg(n, ctx);
      if (v === undefined) return;
      d.forkDelayMs = v;
      d.terminateDelayMs = v;
    }),
    full_command: simple((n, d, ctx) => {
      noExtra(n, ctx, 0);
      d.fullCommand = true;
    }),
  },
};

export function parseTrackProcess(n: Node, ctx: Ctx): TrackProcess | undefined {
  const nameTok = arg(n, ctx, 0, 'a vrrp_track_process name');
  noExtra(n, ctx, 1);
  const kids = block(n, ctx);
  if (nameTok === undefined || kids === undefined) return undefined;
  const loc: SourceLoc = tokLoc(nameTok);
  const d: Draft = { name: nameTok.text, params: [], fullCommand: false, weight: 1, weightReverse: false, quorum: 1, forkDelayMs: 0, terminateDelayMs: 0, loc };
  runBlock(kids, spec, d, ctx);
  if (d.process === undefined) {
    ctx.sink.error(loc, 'missing-keyword', `vrrp_track_process ${d.name} has no \`process\``);
    return undefined;
  }
  // parameters (or param_match) mean the command line is matched, exactly unless said otherwise
  const paramMatch = d.paramMatch ?? (d.params.length > 0 ? 'exact' : 'none');
  const fullCommand = d.fullCommand || paramMatch !== 'none';
  let process = d.process;
  if (!fullCommand && Buffer.byteLength(process) > COMM_MAX) {
    const at = ctx.locs.get(d)?.['process'] ?? loc;
    process = Buffer.from(process).subarray(0, COMM_MAX).toString();
    ctx.sink.warn(at, 'truncated', `vrrp_track_process ${d.name}: a process name is at most ${COMM_MAX} bytes; matching \`${process}\` (or use full_command)`);
  }
  const out: TrackProcess = { ...d, process, params: d.params, paramMatch, fullCommand };
  const l = ctx.locs.get(d);
  if (l !== undefined) ctx.locs.set(out, l);
  return out;
}
