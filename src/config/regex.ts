/**
 * `url { regex … regex_options … }` to a JavaScript RegExp (src/check/http-regex.ts says how
 * it is matched). keepalived compiles with PCRE2; JavaScript reads most patterns the same,
 * and the differences that would change a verdict silently are refused here: PCRE-only
 * escapes that JavaScript would read as a plain letter, and options with no JavaScript
 * equivalent that change what matches.
 */

/** keepalived's regex_options (check_http.c) and what vigil does with each. */
const OPTIONS: Readonly<Record<string, { flag?: string; utf8?: true; firstline?: true; unsupported?: string }>> = {
  caseless: { flag: 'i' },
  multiline: { flag: 'm' },
  dotall: { flag: 's' },
  utf: { flag: 'u', utf8: true },
  ucp: { flag: 'u' },
  firstline: { firstline: true },
  // no effect on whether a pattern matches
  auto_callout: {},
  never_ucp: {},
  never_utf: {},
  no_auto_capture: {},
  no_auto_possess: {},
  no_dotstar_anchor: {},
  no_start_optimize: {},
  never_backslash_c: {},
  use_offset_limit: {},
  dupnames: {},
  // JavaScript's `$` (without multiline) already matches only at the very end
  dollar_endonly: {},
  allow_empty_class: { unsupported: 'JavaScript has no empty-class option' },
  alt_bsux: { unsupported: 'JavaScript reads \\u, \\U and \\x its own way' },
  extended: { unsupported: 'JavaScript has no extended (whitespace and # comments) mode' },
  match_unset_backref: { unsupported: 'JavaScript matches an unset backreference as empty always' },
  ungreedy: { unsupported: 'JavaScript has no ungreedy mode: write the quantifiers lazy (*?)' },
  alt_circumflex: { unsupported: 'JavaScript has no alt_circumflex mode' },
  alt_verbnames: { unsupported: 'JavaScript has no backtracking verbs' },
};

export function regexOption(name: string): { flag?: string; utf8?: true; firstline?: true; unsupported?: string } | undefined {
  return Object.hasOwn(OPTIONS, name) ? OPTIONS[name] : undefined;
}

/** PCRE escapes that JavaScript (without the u flag) reads as the plain letter. */
const PCRE_ONLY_ESCAPE = /(?<!\\)(?:\\\\)*\\([AzZGKQEhHRXNCo])/;

/** Why the pattern cannot be matched as keepalived would, or undefined. */
export function regexProblem(pattern: string, flags: string): string | undefined {
  const esc = PCRE_ONLY_ESCAPE.exec(pattern);
  if (esc !== null) return `\`\\${esc[1]}\` is PCRE syntax that JavaScript's RegExp reads differently`;
  try {
    new RegExp(pattern, flags);
  } catch (e) {
    return `${(e as Error).message} (vigil matches with JavaScript's RegExp)`;
  }
  return undefined;
}
