/**
 * Diagnostics: one line each, `FILE:LINE:COL: error|warning: message`, the format of
 * compilers and of FRR's `vtysh -C`, so editors can jump to the token at fault.
 */
import type { Diagnostic, Severity, SourceLoc } from './model.ts';

export function formatDiagnostic(d: Diagnostic): string {
  // Messages are single-line by construction; flatten anyway so one diagnostic is one line.
  const msg = d.message.replace(/[\r\n]+/g, ' ');
  return `${d.loc.file}:${d.loc.line}:${d.loc.col}: ${d.severity}: ${msg}`;
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === 'error');
}

/** Collects diagnostics in the order they are found. */
export class DiagnosticSink {
  readonly list: Diagnostic[] = [];
  /**
   * Set once a keyword is missing its value: keepalived stops reading there ("*** Configuration
   * line starting `X` is missing a parameter", exit 2), so the checks it runs when a block or
   * the file ends never run, and neither do ours.
   */
  stopped = false;

  add(loc: SourceLoc, severity: Severity, code: string, message: string): void {
    if (severity === 'error' && code === 'missing-value') this.stopped = true;
    this.list.push({ loc: { file: loc.file, line: loc.line, col: loc.col }, severity, code, message });
  }

  error(loc: SourceLoc, code: string, message: string): void {
    this.add(loc, 'error', code, message);
  }

  warn(loc: SourceLoc, code: string, message: string): void {
    this.add(loc, 'warning', code, message);
  }
}

/**
 * Levenshtein distance with an early cut-off: returns max+1 as soon as every cell of a
 * row exceeds `max`. Two rows of memory; keywords are short.
 */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      const v = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prev, cur] = [cur, prev];
  }
  return prev[b.length] as number;
}

/**
 * The known word nearest to `word`, if it is close enough to be a plausible typo:
 * at most a third of the word's length (min 1, max 3) edits away.
 */
export function nearest(word: string, known: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  const max = Math.min(3, Math.max(1, Math.floor(w.length / 3)));
  let best: string | undefined;
  let bestD = max + 1;
  for (const k of known) {
    const d = editDistance(w, k.toLowerCase(), bestD - 1 < max ? bestD - 1 : max);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return bestD <= max ? best : undefined;
}
