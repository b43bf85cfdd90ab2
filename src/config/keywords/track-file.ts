/**
 * `track_file NAME { … }` and its deprecated synonym `vrrp_track_file` (keepalived 2.2
 * trackers/track_file.c, keepalived.conf(5) "Track files"):
 *
 *     track_file NAME {
 *         file PATH                      # required
 *         weight N [reverse]             # -254..254, default 1
 *         init_file [VALUE] [overwrite]  # VALUE default 0
 *     }
 */
import type { Config, SourceLoc, TrackFile } from '../model.ts';
import { tokLoc, type Node } from '../tree.ts';
import { arg, intTok, noExtra, parseIntStrict, setLoc, type Ctx } from '../values.ts';
import { block, runBlock, simple, type BlockSpec, type Mutable } from './table.ts';

export type TrackFileDraft = Omit<Mutable<TrackFile>, 'file'> & { file?: string };

export const trackFileSpec: BlockSpec<TrackFileDraft> = {
  name: 'track_file',
  keywords: {
    file: simple((n, d, ctx) => {
      const t = arg(n, ctx, 0, 'a file path');
      if (t === undefined) return;
      noExtra(n, ctx, 1);
      if (d.file !== undefined) {
        ctx.sink.warn(tokLoc(t), 'duplicate', `track_file ${d.name}: file is already set to ${d.file}; \`${t.text}\` ignored`);
        return;
      }
      d.file = t.text;
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
    init_file: simple((n, d, ctx) => {
      let value = 0;
      let overwrite = false;
      for (const t of n.args) {
        if (t.text.toLowerCase() === 'overwrite') {
          overwrite = true;
          continue;
        }
        const v = intTok(t, ctx, 'init_file');
        if (v === undefined) continue;
        if (v < -(2 ** 31) || v > 2 ** 31 - 1) {
          ctx.sink.error(tokLoc(t), 'range', `init_file: ${v} is not a 32-bit integer`);
          continue;
        }
        // keepalived accepts any int and says so outside what a priority can use
        if (v < -254 || v > 254) ctx.sink.warn(tokLoc(t), 'range', `init_file: ${v} is outside the sensible range -254..254`);
        value = v;
      }
      d.init = { value, overwrite };
    }),
  },
};

export function parseTrackFile(n: Node, ctx: Ctx): TrackFile | undefined {
  const nameTok = arg(n, ctx, 0, 'a track_file name');
  noExtra(n, ctx, 1);
  const kids = block(n, ctx);
  if (nameTok === undefined || kids === undefined) return undefined;
  const loc: SourceLoc = tokLoc(nameTok);
  const d: TrackFileDraft = { name: nameTok.text, weight: 1, weightReverse: false, loc };
  runBlock(kids, trackFileSpec, d, ctx);
  if (d.file === undefined) {
    ctx.sink.error(loc, 'missing-keyword', `track_file ${d.name} has no \`file\``);
    return undefined;
  }
  const out: TrackFile = { ...d, file: d.file };
  const l = ctx.locs.get(d);
  if (l !== undefined) ctx.locs.set(out, l);
  return out;
}

/** keepalived IPVS_WEIGHT_LIMIT: a FILE_CHECK's own weight is -limit..limit */
export const TRACK_WEIGHT_LIMIT = 2147483647;

/** `weight W [reverse|noreverse]` of a FILE_CHECK (real-server weights reach IPVS's limit). */
export function trackWeightArg(n: Node, ctx: Ctx): { weight: number; reverse: boolean } | undefined {
  const t = arg(n, ctx, 0, 'a weight');
  if (t === undefined) return undefined;
  const w = parseIntStrict(t.text);
  if (w === undefined || Math.abs(w) > TRACK_WEIGHT_LIMIT) {
    ctx.sink.error(tokLoc(t), 'bad-value', `${n.kw.text}: \`${t.text}\` is not a weight in -${TRACK_WEIGHT_LIMIT}..${TRACK_WEIGHT_LIMIT}`);
    return undefined;
  }
  noExtra(n, ctx, 2);
  const r = n.args[1];
  if (r === undefined || r.text === 'noreverse') return { weight: w, reverse: false };
  if (r.text === 'reverse') return { weight: w, reverse: true };
  ctx.sink.error(tokLoc(r), 'bad-value', `${n.kw.text}: \`${r.text}\` is neither reverse nor noreverse`);
  return undefined;
}

/** Every FILE_CHECK must name a track_file (keepalived: "track_file %s not found"). */
export function checkFileCheckRefs(config: Config, ctx: Ctx): void {
  const names = new Set((config.trackFiles ?? []).map((tf) => tf.name));
  for (const vs of config.virtualServers) {
    for (const rs of vs.realServers) {
      for (const fc of rs.fileChecks ?? []) {
        if (!names.has(fc.trackFile)) ctx.sink.error(fc.loc, 'unknown-reference', `FILE_CHECK: track_file ${fc.trackFile} is not defined`);
      }
    }
  }
}
