/**
 * The one entry point the daemon calls: file in, `LoadResult` out (lexer -> tree ->
 * parser -> validator). Never throws for bad input; an unreadable file is a diagnostic.
 * `config` is present only when no diagnostic is an error (keepalived's `-t` semantics:
 * warnings do not stop it running).
 */
import { DiagnosticSink, hasErrors } from './diagnostics.ts';
import { lexFile, lexText, type LexFs, type LexResult } from './lexer.ts';
import type { Config, Diagnostic, LoadResult } from './model.ts';
import { parseTree } from './parser.ts';
import { buildTree } from './tree.ts';
import { validateConfig } from './validate.ts';

export interface LoadOptions {
  /** `-i/--config-id`: what `@id` conditional lines are matched against */
  readonly configId: string;
  /** default: /sys/class/net/<name> exists */
  readonly interfaceExists?: (name: string) => boolean;
  /** default: node:fs */
  readonly fs?: LexFs;
}

/** Like LoadResult, but with the parsed model even when there are errors (for tools). */
export interface FullLoadResult extends LoadResult {
  readonly parsed: Config;
  /** vrrp_instance blocks declared but refused for their errors (absent from `parsed`) */
  readonly refusedInstances?: readonly string[];
}

/** In reading order: by file (as first read), line, column; stable otherwise. */
export function sortDiagnostics(list: Diagnostic[], files: readonly string[]): Diagnostic[] {
  const order = new Map<string, number>();
  files.forEach((f, i) => {
    if (!order.has(f)) order.set(f, i);
  });
  return list
    .map((d, i) => ({ d, i }))
    .sort((a, b) => {
      const fa = order.get(a.d.loc.file) ?? -1;
      const fb = order.get(b.d.loc.file) ?? -1;
      return fa - fb || a.d.loc.line - b.d.loc.line || a.d.loc.col - b.d.loc.col || a.i - b.i;
    })
    .map((x) => x.d);
}

function finish(lex: LexResult, opts: LoadOptions): FullLoadResult {
  const sink = new DiagnosticSink();
  const nodes = buildTree(lex.tokens, sink);
  const parsed = parseTree(nodes, lex.files, sink);
  // The whole-config checks run on the blocks keepalived sees. They are not vigil's when a `{`
  // has no keyword (keepalived ignores that `{` and closes the enclosing block at its `}`), nor
  // when a block keyword lacks its `{` (keepalived reads the lines after it as its block, vigil
  // at the outer level): then the checks would speak of blocks keepalived does not have, and
  // the error already refuses the config. A `}` too many at the top level changes no block:
  // keepalived says "Extra '}' found" and goes on to its checks, and so does this. Nothing
  // after a keyword missing its value: keepalived exits there (sink.stopped).
  const broken = sink.stopped || sink.list.some((d) => d.severity === 'error' && (d.code === 'syntax' || d.code === 'missing-block'));
  const validation = broken ? [] : validateConfig(parsed.config, parsed.locs, opts.interfaceExists !== undefined ? { interfaceExists: opts.interfaceExists } : {});
  const diagnostics = sortDiagnostics([...lex.diagnostics, ...sink.list, ...validation], lex.files);
  if (hasErrors(diagnostics)) return { diagnostics, parsed: parsed.config, refusedInstances: parsed.refusedInstances };
  return { config: parsed.config, diagnostics, parsed: parsed.config };
}

function lexOpts(opts: LoadOptions): { configId: string; fs?: LexFs } {
  return opts.fs !== undefined ? { configId: opts.configId, fs: opts.fs } : { configId: opts.configId };
}

function guard(file: string, run: () => FullLoadResult): FullLoadResult {
  try {
    return run();
  } catch (e) {
    // A bug in vigil, not in the input: still no throw to the caller, but say so plainly.
    const msg = e instanceof Error ? e.message : String(e);
    const diagnostics: Diagnostic[] = [{ loc: { file, line: 1, col: 1 }, severity: 'error', code: 'internal', message: `internal error while reading the configuration: ${msg}` }];
    return { diagnostics, parsed: { files: [file], globalDefs: {} as Config['globalDefs'], vrrpScripts: [], vrrpSyncGroups: [], vrrpInstances: [], virtualServerGroups: [], virtualServers: [] } };
  }
}

export function loadConfigFull(file: string, opts: LoadOptions): FullLoadResult {
  return guard(file, () => finish(lexFile(file, lexOpts(opts)), opts));
}

export function parseConfigTextFull(text: string, file: string, opts: LoadOptions): FullLoadResult {
  return guard(file, () => finish(lexText(text, file, lexOpts(opts)), opts));
}

function strip(r: FullLoadResult): LoadResult {
  return r.config !== undefined ? { config: r.config, diagnostics: r.diagnostics } : { diagnostics: r.diagnostics };
}

export function loadConfig(file: string, opts: LoadOptions): LoadResult {
  return strip(loadConfigFull(file, opts));
}

export function parseConfigText(text: string, file: string, opts: LoadOptions): LoadResult {
  return strip(parseConfigTextFull(text, file, opts));
}
