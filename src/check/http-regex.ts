/**
 * HTTP_GET/SSL_GET `url { regex … }`, as keepalived check_http.c applies it: the body is
 * searched for the pattern from `regex_min_offset`; a match must start at or before
 * `regex_max_offset`; with `regex_no_match` finding one fails the url, else not finding one.
 *
 * keepalived matches with PCRE2, vigil with JavaScript's RegExp, over the body read as
 * latin1 (one character per byte, so offsets are byte offsets) or, with the `utf` option, as
 * UTF-8. The common syntax is the same; config validation (src/config/regex.ts) refuses what
 * JavaScript would read differently.
 */
export interface RegexTask {
  readonly pattern: string;
  /** JavaScript RegExp flags (from regex_options: caseless i, multiline m, dotall s, utf/ucp u) */
  readonly flags: string;
  /** decode the body as UTF-8 (regex_options utf) rather than latin1 */
  readonly utf8: boolean;
  /** regex_no_match */
  readonly noMatch: boolean;
  /** bytes: regex_min_offset; default 0 */
  readonly minOffset: number;
  /** bytes: regex_max_offset, the last offset a match may start at */
  readonly maxOffset?: number;
  /** regex_options firstline: the match must start before the first newline */
  readonly firstline: boolean;
}

/** compiled patterns of this thread, by flags and pattern (a config has few) */
const compiled = new Map<string, RegExp>();
const MAX_COMPILED = 1000;

function compile(r: RegexTask): RegExp {
  const key = `${r.flags}/${r.pattern}`;
  let re = compiled.get(key);
  if (re === undefined) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    re = new RegExp(r.pattern, `${r.flags.replace('g', '')}g`);
    compiled.set(key, re);
  }
  return re;
}

/** Whether the body holds a match that counts. */
export function regexMatches(r: RegexTask, body: Uint8Array): boolean {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString(r.utf8 ? 'utf8' : 'latin1');
  const re = compile(r);
  re.lastIndex = r.minOffset;
  const m = re.exec(text);
  if (m === null) return false;
  if (r.maxOffset !== undefined && m.index > r.maxOffset) return false;
  if (r.firstline) {
    const nl = text.indexOf('\n');
    if (nl >= 0 && m.index > nl) return false;
  }
  return true;
}

/** Why the url fails on its regex, or undefined when it passes. */
export function regexProblem(r: RegexTask, body: Uint8Array): string | undefined {
  const matched = regexMatches(r, body);
  if (matched === r.noMatch) return matched ? `body matches /${r.pattern}/ (regex_no_match)` : `body does not match /${r.pattern}/`;
  return undefined;
}
