/**
 * The keepalived.conf lexer: files in, one flat token stream out.
 *
 * keepalived reads its configuration a line at a time (keepalived/core/parser.c): comments
 * (`#`, `!`) are cut, `@id` / `@^id` conditional lines dropped unless they apply to this
 * config id, `$NAME=value` lines define parameters, `$NAME` / `${NAME}` are substituted,
 * a trailing `\` joins the next line, `include` pulls in files in place (globs relative to
 * the including file). What remains is split into words; `{` and `}` are tokens of their
 * own even when written against a word (`track_script{`).
 *
 * Every token remembers file:line:col of its first character (for substituted text: of the
 * `$` that produced it). The lexer never throws on bad input: it reports a diagnostic and
 * carries on. Everything is a single forward pass per line, with no regular expressions
 * that could backtrack on long lines.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DiagnosticSink } from './diagnostics.ts';
import { expandGlob, hasGlobChars, type GlobFs } from './glob.ts';
import type { Diagnostic, SourceLoc } from './model.ts';

export const TokKind = { Word: 0, Open: 1, Close: 2 } as const;
export type TokKind = (typeof TokKind)[keyof typeof TokKind];

export interface Token {
  readonly kind: TokKind;
  /** the word with quotes removed and escapes resolved */
  readonly text: string;
  /** true when any part of the word was quoted */
  readonly quoted: boolean;
  /** first token of a logical line */
  readonly nl: boolean;
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** What the lexer needs from the file system; `nodeFs` is the real one. */
export interface LexFs extends GlobFs {
  /** throws (with an errno `code`) when the file cannot be read */
  readFile(file: string): string;
  /** canonical path for loop detection; may throw */
  realpath(file: string): string;
}

export const nodeFs: LexFs = {
  readFile: (f) => fs.readFileSync(f, 'utf8'),
  readdir: (d) => fs.readdirSync(d),
  exists: (f) => {
    try {
      return fs.statSync(f).isFile();
    } catch {
      return false;
    }
  },
  realpath: (f) => fs.realpathSync(f),
};

export interface LexOptions {
  readonly configId: string;
  readonly fs?: LexFs;
  /** nested includes deeper than this are refused (a loop through symlinks or copies) */
  readonly maxIncludeDepth?: number;
}

export interface LexResult {
  readonly tokens: Token[];
  readonly files: string[];
  readonly diagnostics: Diagnostic[];
}

/** characters; keepalived refuses substitutions beyond its line buffer in the same way */
const MAX_EXPANDED_LINE = 65_536;

const INCLUDE_WORDS = new Set(['include', 'includer', 'includem', 'includew', 'includeb', 'includea']);

/** Maps offsets in a logical line back to physical positions. */
interface Segment {
  /** offset in the logical text where this segment starts */
  off: number;
  line: number;
  col: number;
  /** every character of the segment sits at (line, col): substituted text */
  fixed: boolean;
}

/** The segment holding offset `off` (no allocation: this runs once per token). */
function segAt(segs: readonly Segment[], off: number): Segment {
  let s = segs[0] as Segment;
  for (let i = 1; i < segs.length; i++) {
    const n = segs[i] as Segment;
    if (n.off > off) break;
    s = n;
  }
  return s;
}

function posAt(segs: readonly Segment[], off: number): { line: number; col: number } {
  let s = segs[0] as Segment;
  for (let i = 1; i < segs.length; i++) {
    const n = segs[i] as Segment;
    if (n.off > off) break;
    s = n;
  }
  return { line: s.line, col: s.fixed ? s.col : s.col + (off - s.off) };
}

function isSpace(c: number): boolean {
  // space, tab, CR, VT, FF
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12;
}

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}

/** Offset of the first comment character outside quotes, or text.length. */
function commentStart(text: string): number {
  let quote = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92) i++; // a backslash escapes the next character (`\#` is a literal #)
    else if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) quote = c;
    else if (c === 35 || c === 33) return i; // # !
  }
  return text.length;
}

/** Does this physical line start a `$NAME=` definition (possibly after `@id`)? */
function startsDefinition(line: string): boolean {
  let i = 0;
  while (i < line.length && isSpace(line.charCodeAt(i))) i++;
  if (line.charCodeAt(i) === 64) {
    while (i < line.length && !isSpace(line.charCodeAt(i))) i++;
    while (i < line.length && isSpace(line.charCodeAt(i))) i++;
  }
  if (line.charCodeAt(i) !== 36 || !isNameStart(line.charCodeAt(i + 1))) return false;
  i += 2;
  while (i < line.length && isNameChar(line.charCodeAt(i))) i++;
  while (i < line.length && isSpace(line.charCodeAt(i))) i++;
  return line.charCodeAt(i) === 61;
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', e: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

class Lexer {
  readonly sink = new DiagnosticSink();
  readonly tokens: Token[] = [];
  readonly files: string[] = [];
  readonly defines = new Map<string, string>();
  private readonly stack: string[] = [];
  private readonly fs: LexFs;
  private readonly maxDepth: number;

  constructor(private readonly opts: LexOptions) {
    this.fs = opts.fs ?? nodeFs;
    this.maxDepth = opts.maxIncludeDepth ?? 32;
  }

  /** Lex a file read from disk; `from` is the include line that named it. */
  lexFile(file: string, from: SourceLoc | undefined): void {
    let real = file;
    try {
      real = this.fs.realpath(file);
    } catch {
      /* reported by readFile below */
    }
    const at = from ?? { file, line: 1, col: 1 };
    if (this.stack.includes(real)) {
      this.sink.error(at, 'include-loop', `include loop: ${file} is already being read (${[...this.stack, real].join(' -> ')})`);
      return;
    }
    if (this.stack.length >= this.maxDepth) {
      this.sink.error(at, 'include-depth', `includes nested deeper than ${this.maxDepth} levels at ${file}`);
      return;
    }
    let text: string;
    try {
      text = this.fs.readFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      this.sink.error(at, 'unreadable-file', `cannot read ${file}: ${code}`);
      return;
    }
    this.lexText(text, file, real);
  }

  lexText(text: string, file: string, real: string = file): void {
    this.files.push(file);
    this.stack.push(real);
    try {
      this.lines(text, file);
    } finally {
      this.stack.pop();
    }
  }

  private lines(text: string, file: string): void {
    let pos = 0;
    let lineNo = 0;
    const n = text.length;
    while (pos < n) {
      // Gather one logical line: physical lines joined while they end in a backslash.
      // keepalived itself continues only `$NAME=` definitions, whose lines stay separate
      // lines when substituted (a multi-line parameter); vigil also joins ordinary lines.
      const segs: Segment[] = [];
      let logical = '';
      let isDefine: boolean | undefined;
      for (;;) {
        let end = text.indexOf('\n', pos);
        if (end < 0) end = n;
        lineNo++;
        let phys = text.slice(pos, end);
        pos = end + 1;
        if (phys.endsWith('\r')) phys = phys.slice(0, -1);
        isDefine ??= startsDefinition(phys);
        const cont = phys.endsWith('\\') && commentStart(phys) === phys.length;
        segs.push({ off: logical.length, line: lineNo, col: 1, fixed: false });
        if (!cont) logical += phys;
        else if (isDefine) logical += phys.slice(0, -1).trimEnd() + '\n';
        else logical += phys.slice(0, -1);
        if (!cont || pos >= n) break;
      }
      this.line(logical, segs, file);
    }
  }

  private loc(file: string, segs: readonly Segment[], off: number): SourceLoc {
    const p = posAt(segs, off);
    return { file, line: p.line, col: p.col };
  }

  private line(raw: string, segs: Segment[], file: string): void {
    let text = raw.slice(0, commentStart(raw));
    let start = 0;
    while (start < text.length && isSpace(text.charCodeAt(start))) start++;
    if (start >= text.length) return;

    // `@id line` applies only when this config id is `id`; `@^id line` only when it is not.
    if (text.charCodeAt(start) === 64) {
      let e = start + 1;
      while (e < text.length && !isSpace(text.charCodeAt(e))) e++;
      const cond = text.slice(start + 1, e);
      const neg = cond.startsWith('^');
      const id = neg ? cond.slice(1) : cond;
      if (id === '') {
        this.sink.warn(this.loc(file, segs, start), 'bad-conditional', 'conditional `@` without a config id; line ignored');
        return;
      }
      if ((id === this.opts.configId) === neg) return;
      start = e;
      while (start < text.length && isSpace(text.charCodeAt(start))) start++;
      if (start >= text.length) return;
    }

    // `$NAME=value` defines a parameter for the rest of the configuration.
    if (text.charCodeAt(start) === 36 && start + 1 < text.length && isNameStart(text.charCodeAt(start + 1))) {
      let e = start + 1;
      while (e < text.length && isNameChar(text.charCodeAt(e))) e++;
      let eq = e;
      while (eq < text.length && isSpace(text.charCodeAt(eq))) eq++;
      if (text.charCodeAt(eq) === 61) {
        const name = text.slice(start + 1, e);
        const vp = posAt(segs, eq + 1);
        const ex = this.expand(text.slice(eq + 1).trim(), [{ off: 0, line: vp.line, col: vp.col, fixed: true }], file);
        if (ex !== undefined) this.defines.set(name, ex.text);
        return;
      }
    }

    if (text.indexOf('$') >= 0) {
      const ex = this.expand(text, segs, file);
      if (ex === undefined) return;
      text = ex.text;
      segs = ex.segs;
    }
    this.words(text, start, segs, file);
  }

  /**
   * Substitute `$NAME` and `${NAME}` (defined names only; others stay as written, with a
   * warning). Substituted text is not rescanned, so a define cannot recurse.
   */
  /**
   * keepalived's standard parameters, unless the configuration redefines them:
   * `${_INSTANCE}` is the config id (-i), `${_PWD}` the directory of the file being read
   * (keepalived changes into it while reading). `${_RANDOM}` is not provided: vigil's
   * configuration is deterministic.
   */
  private builtin(name: string, file: string): string | undefined {
    if (name === '_INSTANCE') return this.opts.configId;
    if (name === '_PWD') return path.resolve(path.dirname(file));
    return undefined;
  }

  private expand(text: string, segs: Segment[], file: string): { text: string; segs: Segment[] } | undefined {
    let out = '';
    const outSegs: Segment[] = [];
    let copyFrom = 0;
    const flushCopy = (to: number): void => {
      if (to <= copyFrom) return;
      // Split the copied range at segment boundaries so columns stay right.
      for (let k = 0; k < segs.length; k++) {
        const sg = segs[k] as Segment;
        const sgEnd = segs[k + 1]?.off ?? Infinity;
        if (sgEnd <= copyFrom || sg.off >= to) continue;
        const from = Math.max(copyFrom, sg.off);
        const pp = posAt(segs, from);
        outSegs.push({ off: out.length + (from - copyFrom), line: pp.line, col: pp.col, fixed: sg.fixed });
      }
      out += text.slice(copyFrom, to);
      copyFrom = to;
    };
    let i = 0;
    while (i < text.length) {
      if (text.charCodeAt(i) !== 36) {
        i++;
        continue;
      }
      let nameStart: number;
      let nameEnd: number;
      let end: number;
      if (text.charCodeAt(i + 1) === 123) {
        nameStart = i + 2;
        nameEnd = text.indexOf('}', nameStart);
        if (nameEnd < 0) {
          i++;
          continue;
        }
        end = nameEnd + 1;
      } else if (i + 1 < text.length && isNameStart(text.charCodeAt(i + 1))) {
        nameStart = i + 1;
        nameEnd = nameStart;
        while (nameEnd < text.length && isNameChar(text.charCodeAt(nameEnd))) nameEnd++;
        end = nameEnd;
      } else {
        i++;
        continue;
      }
      const name = text.slice(nameStart, nameEnd);
      const value = this.defines.get(name) ?? this.builtin(name, file);
      if (value === undefined) {
        this.sink.warn(this.loc(file, segs, i), 'undefined-parameter', `\$${name} is not defined; left as written`);
        i = end;
        continue;
      }
      if (out.length + (i - copyFrom) + value.length > MAX_EXPANDED_LINE) {
        this.sink.error(this.loc(file, segs, i), 'line-too-long', `substituting \$${name} makes the line longer than ${MAX_EXPANDED_LINE} characters; line ignored`);
        return undefined;
      }
      flushCopy(i);
      const p = posAt(segs, i);
      outSegs.push({ off: out.length, line: p.line, col: p.col, fixed: true });
      out += value;
      copyFrom = end;
      i = end;
    }
    if (copyFrom === 0) return { text, segs };
    flushCopy(text.length);
    if (outSegs.length === 0) outSegs.push({ off: 0, line: segs[0]?.line ?? 1, col: 1, fixed: false });
    return { text: out, segs: outSegs };
  }

  /** Split a logical line into words and braces, then handle `include`. */
  private words(text: string, start: number, segs: Segment[], file: string): void {
    // Tokens go straight into the output; the rare include line is taken back out below.
    const out = this.tokens;
    const base = out.length;
    let i = start;
    const n = text.length;
    // A multi-line parameter substitutes several lines: each starts a new statement.
    let nl = true;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        nl = true;
        i++;
        continue;
      }
      if (isSpace(c)) {
        i++;
        continue;
      }
      const sg = segAt(segs, i);
      const line = sg.line;
      const col = sg.fixed ? sg.col : sg.col + (i - sg.off);
      if (c === 123 || c === 125) {
        out.push({ kind: c === 123 ? TokKind.Open : TokKind.Close, text: c === 123 ? '{' : '}', quoted: false, nl, file, line, col });
        nl = false;
        i++;
        continue;
      }
      let word = '';
      let quoted = false;
      let runStart = i;
      while (i < n) {
        const ch = text.charCodeAt(i);
        if (isSpace(ch) || ch === 10 || ch === 123 || ch === 125) break;
        if (ch === 92 && (text.charCodeAt(i + 1) === 35 || text.charCodeAt(i + 1) === 33)) {
          // `\#`, `\!`: a literal comment character outside quotes (keepalived decomment()).
          word += text.slice(runStart, i);
          runStart = i + 1;
          i += 2;
          continue;
        }
        if (ch === 34 || ch === 39) {
          word += text.slice(runStart, i);
          quoted = true;
          const qAt = i;
          i++;
          let closed = false;
          let seg = i;
          while (i < n) {
            const q = text.charCodeAt(i);
            if (q === ch) {
              closed = true;
              break;
            }
            if (q === 92 && i + 1 < n) {
              word += text.slice(seg, i);
              const r = this.escape(text, i + 1);
              word += r.value;
              i = r.next;
              seg = i;
              continue;
            }
            i++;
          }
          word += text.slice(seg, i);
          if (!closed) {
            this.sink.error(this.loc(file, segs, qAt), 'unterminated-quote', `unterminated ${ch === 34 ? 'double' : 'single'} quote`);
          } else i++;
          runStart = i;
          continue;
        }
        i++;
      }
      word += text.slice(runStart, i);
      out.push({ kind: TokKind.Word, text: word, quoted, nl, file, line, col });
      nl = false;
    }
    // Includes are recognised per statement (a multi-line parameter may hold several).
    let hasInclude = false;
    for (let k = base; k < out.length; k++) {
      const t = out[k] as Token;
      if (t.nl && t.kind === TokKind.Word && !t.quoted && INCLUDE_WORDS.has(t.text)) {
        hasInclude = true;
        break;
      }
    }
    if (!hasInclude) return;
    const lineTokens = out.splice(base);
    let from = 0;
    while (from < lineTokens.length) {
      let to = from + 1;
      while (to < lineTokens.length && !(lineTokens[to] as Token).nl) to++;
      const first = lineTokens[from] as Token;
      if (first.kind === TokKind.Word && !first.quoted && INCLUDE_WORDS.has(first.text)) {
        this.include(first, lineTokens.slice(from + 1, to));
      } else {
        for (let k = from; k < to; k++) this.tokens.push(lineTokens[k] as Token);
      }
      from = to;
    }
  }

  private escape(text: string, i: number): { value: string; next: number } {
    const c = text[i] as string;
    const mapped = ESCAPES[c];
    if (mapped !== undefined) return { value: mapped, next: i + 1 };
    if (c >= '0' && c <= '7') {
      let j = i;
      while (j < i + 3 && j < text.length && (text[j] as string) >= '0' && (text[j] as string) <= '7') j++;
      return { value: String.fromCharCode(parseInt(text.slice(i, j), 8) & 0xff), next: j };
    }
    if (c === 'x') {
      let j = i + 1;
      while (j < text.length && j < i + 3 && /[0-9a-fA-F]/.test(text[j] as string)) j++;
      if (j === i + 1) return { value: 'x', next: i + 1 };
      return { value: String.fromCharCode(parseInt(text.slice(i + 1, j), 16)), next: j };
    }
    if (c === 'c' && i + 1 < text.length) {
      return { value: String.fromCharCode((text.charCodeAt(i + 1) & 0x1f) >>> 0), next: i + 2 };
    }
    return { value: c, next: i + 1 };
  }

  private include(kw: Token, args: Token[]): void {
    const at: SourceLoc = { file: kw.file, line: kw.line, col: kw.col };
    if (args.length === 0) {
      this.sink.error(at, 'missing-value', `${kw.text} needs a file name`);
      return;
    }
    // A glob that matches nothing is tolerated by plain `include`/`includer` (keepalived:
    // no error). A literal path that is not there is an error whatever the keyword: the
    // operator named one file, and a config silently shorter than the one they wrote is
    // worse than one that refuses to load.
    const strictGlob = kw.text !== 'include' && kw.text !== 'includer';
    const baseDir = path.dirname(kw.file);
    for (const a of args) {
      const aLoc: SourceLoc = { file: a.file, line: a.line, col: a.col };
      if (a.kind !== TokKind.Word) {
        this.sink.error(aLoc, 'syntax', `unexpected \`${a.text}\` in ${kw.text}`);
        continue;
      }
      let matches: string[];
      try {
        matches = expandGlob(a.text, baseDir, this.fs);
      } catch {
        matches = [];
      }
      if (matches.length === 0) {
        const glob = hasGlobChars(a.text);
        const what = glob ? `no file matches ${a.text}` : `cannot read ${a.text}: ENOENT`;
        this.sink.add(aLoc, strictGlob || !glob ? 'error' : 'warning', 'include-missing', `${kw.text}: ${what}`);
        continue;
      }
      for (const m of matches) this.lexFile(m, aLoc);
    }
  }
}

/** Lex `file` and everything it includes. */
export function lexFile(file: string, opts: LexOptions): LexResult {
  const lx = new Lexer(opts);
  lx.lexFile(file, undefined);
  return { tokens: lx.tokens, files: lx.files, diagnostics: lx.sink.list };
}

/** Lex text held in memory, as if it were `file` (includes resolve relative to it). */
export function lexText(text: string, file: string, opts: LexOptions): LexResult {
  const lx = new Lexer(opts);
  lx.lexText(text, file);
  return { tokens: lx.tokens, files: lx.files, diagnostics: lx.sink.list };
}
