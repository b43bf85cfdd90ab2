/**
 * Top-level `track_file NAME { … }` (`vrrp_track_file` is keepalived's older synonym), as
 * keepalived.conf(5) "track_file" describes it, and the check that every FILE_CHECK names
 * one. The file's number, times the weight, is what a FILE_CHECK adds to its real server's
 * weight (src/check/track-file.ts).
 */
import type { Config, SourceLoc, TrackFile } from '../model.ts';
import { tokLoc, type Node } from '../tree.ts';
import { arg, noExtra, parseIntStrict, type Ctx } from '../values.ts';
import { block, runBlock, simple, type BlockSpec, type Mutable } from './table.ts';

/** keepalived IPVS_WEIGHT_LIMIT: weights are -limit..limit */
export const TRACK_WEIGHT_LIMIT = 2147483647;

/** `weight W [reverse|noreverse]`, as FILE_CHECK and track_file both take it. */
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

interface TrackFileDraft {
  path?: string;
  weight: number;
  reverse: boolean;
  initFile?: { value: number; overwrite: boolean };
}

const trackFileSpec: BlockSpec<TrackFileDraft> = {
  name: 'track_file',
  keywords: {
    file: simple((n, d, ctx) => {
      const t = arg(n, ctx, 0, 'a file name');
      if (t === undefined) return;
      noExtra(n, ctx, 1);
      d.path = t.text;
    }),
    weight: simple((n, d, ctx) => {
      const w = trackWeightArg(n, ctx);
      if (w === undefined) return;
      d.weight = w.weight;
      d.reverse = w.reverse;
    }),
    init_file: simple((n, d, ctx) => {
      let value = 0;
      let overwrite = false;
      for (const t of n.args) {
        if (t.text === 'overwrite') overwrite = true;
        else {
          const v = parseIntStrict(t.text);
          if (v === undefined) {
            ctx.sink.error(tokLoc(t), 'bad-value', `init_file: \`${t.text}\` is neither a number nor overwrite`);
            return;
          }
          value = v;
        }
      }
      d.initFile = { value, overwrite };
    }),
  },
};

export function parseTrackFile(n: Node, ctx: Ctx): TrackFile | undefined {
  const name = arg(n, ctx, 0, 'a track_file name');
  noExtra(n, ctx, 1);
  const kids = block(n, ctx);
  if (name === undefined || kids === undefined) return undefined;
  const d: TrackFileDraft = { weight: 1, reverse: false };
  runBlock(kids, trackFileSpec, d, ctx);
  if (d.path === undefined) {
    ctx.sink.error(tokLoc(n.kw), 'missing-keyword', `track_file ${name.text} has no \`file\``);
    return undefined;
  }
  const tf: Mutable<TrackFile> = { name: name.text, loc: tokLoc(name), path: d.path, weight: d.weight, reverse: d.reverse };
  if (d.initFile !== undefined) tf.initFile = d.initFile;
  return tf;
}

/** Every FILE_CHECK must name a track_file (keepalived: "track_file %s not found"); duplicates are an error. */
export function checkTrackFileRefs(config: Config, ctx: Ctx): void {
  const seen = new Map<string, SourceLoc>();
  for (const tf of config.trackFiles ?? []) {
    if (seen.has(tf.name)) ctx.sink.error(tf.loc, 'duplicate', `track_file ${tf.name} is defined twice`);
    seen.set(tf.name, tf.loc);
  }
  for (const vs of config.virtualServers) {
    for (const rs of vs.realServers) {
      for (const fc of rs.fileChecks ?? []) {
        if (!seen.has(fc.trackFile)) ctx.sink.error(fc.loc, 'unknown-reference', `FILE_CHECK: track_file ${fc.trackFile} is not defined`);
      }
    }
  }
}
