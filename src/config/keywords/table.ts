/**
 * Keyword tables: one per block kind, keyword -> handler. `runBlock` dispatches the
 * statements of a block and turns everything it does not know into a warning that names
 * the nearest known keyword (keepalived logs `Unknown keyword` and carries on, so vigil
 * does too; the operator gets a hint instead of silence).
 */
import { nearest } from '../diagnostics.ts';
import { tokLoc, type Node } from '../tree.ts';
import type { Ctx } from '../values.ts';

export type Handler<T> = (node: Node, target: T, ctx: Ctx) => void;

export interface BlockSpec<T> {
  /** the block's keyword, for messages (`vrrp_instance`) */
  readonly name: string;
  readonly keywords: Readonly<Record<string, Handler<T>>>;
  /** keepalived keywords vigil accepts but does not act on: a warning says so */
  readonly unsupported?: readonly string[];
  /** keywords keepalived itself dropped long ago: a warning says so */
  readonly obsolete?: Readonly<Record<string, string>>;
}

/** Keywords that open a top-level block; seen nested, they usually mean a missing `}`. */
export const TOP_LEVEL = new Set([
  'global_defs',
  'vrrp_script',
  'vrrp_sync_group',
  'vrrp_instance',
  'virtual_server_group',
  'virtual_server',
]);

const specKeys = new WeakMap<object, string[]>();

function knownWords<T>(spec: BlockSpec<T>): string[] {
  let k = specKeys.get(spec);
  if (k === undefined) {
    k = [...Object.keys(spec.keywords), ...(spec.unsupported ?? [])];
    specKeys.set(spec, k);
  }
  return k;
}

export function runBlock<T>(nodes: readonly Node[], spec: BlockSpec<T>, target: T, ctx: Ctx): void {
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i] as Node;
    const kw = node.kw.text;
    const h = Object.hasOwn(spec.keywords, kw) ? spec.keywords[kw] : undefined;
    if (h !== undefined) {
      ctx.next = nodes[i + 1]?.kw;
      h(node, target, ctx);
      continue;
    }
    unknown(node, spec, ctx);
  }
}

function unknown<T>(node: Node, spec: BlockSpec<T>, ctx: Ctx): void {
  const kw = node.kw.text;
  const at = tokLoc(node.kw);
  if (spec.unsupported?.includes(kw)) {
    ctx.sink.warn(at, 'unsupported-keyword', `\`${kw}\` in ${spec.name} is a keepalived keyword vigil does not implement yet; ignored`);
    return;
  }
  const why = spec.obsolete !== undefined && Object.hasOwn(spec.obsolete, kw) ? spec.obsolete[kw] : undefined;
  if (why !== undefined) {
    ctx.sink.warn(at, 'obsolete-keyword', `\`${kw}\` in ${spec.name}: ${why}; ignored`);
    return;
  }
  if (TOP_LEVEL.has(kw) && spec.name !== 'top level') {
    ctx.sink.error(at, 'misplaced-block', `\`${kw}\` cannot appear inside ${spec.name}; is a \`}\` missing above?`);
    return;
  }
  const near = nearest(kw, knownWords(spec));
  const hint = near !== undefined ? `; did you mean \`${near}\`?` : '';
  ctx.sink.warn(at, 'unknown-keyword', `unknown keyword \`${kw}\` in ${spec.name}${hint}`);
}

/** Value blocks (keepalived alloc_value_block) take no words before a `{` on their line. */
const BARE_BLOCKS = new Set([
  'virtual_ipaddress',
  'virtual_ipaddress_excluded',
  'virtual_routes',
  'virtual_rules',
  'static_ipaddress',
  'static_routes',
  'static_rules',
  'track_script',
  'track_interface',
  'unicast_peer',
  'group',
  'notification_email',
  'url',
]);

/** The `{ }` contents of a block keyword, or an error when the block is missing. */
export function block(node: Node, ctx: Ctx): readonly Node[] | undefined {
  const extra = node.args[0];
  if (extra !== undefined && node.children !== undefined && BARE_BLOCKS.has(node.kw.text)) {
    // keepalived: "Block virtual_ipaddress has extra parameters X ...", with the `{` on the
    // keyword's line or on the next
    ctx.sink.warn(tokLoc(extra), 'extra-argument', `\`${node.kw.text}\` takes no parameters before its { } block; \`${extra.text}\` and what follows ignored, as keepalived does`);
  }
  if (node.children === undefined) {
    // keepalived reads the next line expecting `{` ("Missing '{' at beginning of
    // configuration block") and names that line; so does this, naming the keyword.
    const next = ctx.next !== undefined && ctx.next.line > node.kw.line ? ctx.next : undefined;
    const where = next !== undefined ? ` (line ${node.kw.line}); \`{\` expected here` : '';
    ctx.sink.error(next !== undefined ? tokLoc(next) : tokLoc(node.kw), 'missing-block', `\`${node.kw.text}\` needs a { } block${where}`);
    return undefined;
  }
  return node.children;
}

/** A keyword that takes no block was given one: say its contents are ignored. */
export function noBlock(node: Node, ctx: Ctx): void {
  if (node.children !== undefined && node.open !== undefined) {
    ctx.sink.warn(tokLoc(node.open), 'unexpected-block', `\`${node.kw.text}\` takes no { } block; its contents are ignored`);
  }
}

/** Wrap a handler so a stray block after a simple keyword is reported. */
export function simple<T>(h: Handler<T>): Handler<T> {
  return (node, target, ctx) => {
    noBlock(node, ctx);
    h(node, target, ctx);
  };
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
