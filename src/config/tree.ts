/**
 * Tokens to a generic statement tree: `keyword args... [{ children }]`.
 *
 * A statement ends at the end of its logical line, or at `{` / `}`. A `{` opens the block
 * of the statement before it, even from the next line (`vrrp_instance X` / `{`), and blocks
 * may share lines with their contents (`authentication { auth_type PASS }`). The keyword
 * tables then give the tree its meaning (parser.ts). Unbalanced braces are diagnostics; the
 * tree is still built so later stages report as much as they can.
 */
import type { DiagnosticSink } from './diagnostics.ts';
import { TokKind, type Token } from './lexer.ts';
import type { SourceLoc } from './model.ts';

export interface Node {
  readonly kw: Token;
  readonly args: readonly Token[];
  /** present when the statement had a `{ ... }` block */
  readonly children?: readonly Node[];
  /** the `{` token, for "unclosed block" diagnostics */
  readonly open?: Token;
  /**
   * Where the block ends: its `}`, or the last token of the input when it is never closed
   * (keepalived runs a block's end checks there and names that line).
   */
  readonly end?: Token;
}

export function tokLoc(t: Token): SourceLoc {
  return { file: t.file, line: t.line, col: t.col };
}

/**
 * Blocks whose lines are plain values (keepalived alloc_value_block). Inside another block,
 * keepalived reads one of these without its `{` the same as with it: the lines up to the next
 * `}`, which then closes the outer block too (the outer block's own `}` is "Extra '}'"). So
 * does this; the `}` left over is reported where keepalived reports it.
 */
export const VALUE_BLOCKS = new Set([
  'virtual_ipaddress',
  'virtual_ipaddress_excluded',
  'virtual_routes',
  'virtual_rules',
  'track_script',
  'track_interface',
  'track_file',
  'track_process',
  'unicast_peer',
  'notification_email',
  'group',
]);

/**
 * Build the tree iteratively (an explicit stack, so a file of 100,000 `{` cannot overflow
 * the call stack).
 */
export function buildTree(tokens: readonly Token[], sink: DiagnosticSink): Node[] {
  interface Frame {
    nodes: Node[];
    owner?: { kw: Token; args: Token[]; open: Token; parent: Node[] };
    /** a value block opened without its `{` (VALUE_BLOCKS) */
    implicit?: boolean;
  }
  const root: Frame = { nodes: [] };
  const stack: Frame[] = [root];
  let i = 0;
  const n = tokens.length;
  while (i < n) {
    const frame = stack[stack.length - 1] as Frame;
    const t = tokens[i] as Token;
    if (t.kind === TokKind.Close) {
      i++;
      if (stack.length === 1) {
        sink.error(tokLoc(t), 'extra-brace', 'unmatched `}`');
        continue;
      }
      stack.pop();
      const o = frame.owner;
      if (o !== undefined) o.parent.push({ kw: o.kw, args: o.args, children: frame.nodes, open: o.open, end: t });
      if (frame.implicit === true && stack.length > 1) {
        const outer = stack.pop() as Frame;
        const oo = outer.owner;
        if (oo !== undefined) oo.parent.push({ kw: oo.kw, args: oo.args, children: outer.nodes, open: oo.open, end: t });
      }
      continue;
    }
    if (t.kind === TokKind.Open) {
      // A block with no keyword: keep its contents out of the parent, but parse them so
      // braces stay balanced.
      sink.error(tokLoc(t), 'syntax', '`{` without a keyword before it');
      i++;
      stack.push({ nodes: [], owner: { kw: t, args: [], open: t, parent: [] } });
      continue;
    }
    // A statement: the keyword and its arguments up to the end of the line or a brace.
    const kw = t;
    const args: Token[] = [];
    i++;
    while (i < n) {
      const a = tokens[i] as Token;
      if (a.nl || a.kind !== TokKind.Word) break;
      args.push(a);
      i++;
    }
    const next = tokens[i];
    if (next !== undefined && next.kind === TokKind.Open) {
      i++;
      stack.push({ nodes: [], owner: { kw, args, open: next, parent: frame.nodes } });
      continue;
    }
    if (stack.length > 1 && args.length === 0 && VALUE_BLOCKS.has(kw.text) && next !== undefined && next.kind === TokKind.Word) {
      stack.push({ nodes: [], owner: { kw, args, open: kw, parent: frame.nodes }, implicit: true });
      continue;
    }
    frame.nodes.push({ kw, args });
  }
  // Unclosed blocks: reported where the input ends, which is where keepalived notices ("There
  // are N missing '}'s"); the message names the `{`. Reported there, a block keyword read
  // inside the unclosed block (parser.ts: "is a `}` missing above?") comes first, as in
  // keepalived's output. What was read is kept.
  const end = tokens[n - 1];
  while (stack.length > 1) {
    const frame = stack.pop() as Frame;
    const o = frame.owner;
    if (o === undefined) continue;
    const at = end !== undefined ? tokLoc(end) : tokLoc(o.open);
    sink.error(at, 'unclosed', `\`{\` of \`${o.kw.text}\` at line ${o.open.line} is never closed`);
    o.parent.push({ kw: o.kw, args: o.args, children: frame.nodes, open: o.open, ...(end !== undefined ? { end } : {}) });
  }
  return root.nodes;
}
