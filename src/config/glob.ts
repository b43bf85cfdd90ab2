/**
 * Glob matching for `include` lines, one path segment at a time.
 *
 * Node 20 has no stable fs.glob, and keepalived's include uses glob(3) with `*`, `?`
 * and `[...]` classes (csh braces only when libc supports them; vigil does not). Matching
 * is iterative with a single backtrack point for `*`, so it is O(len(pattern)·len(name))
 * in the worst case and never recursive.
 */
import * as path from 'node:path';

/** The part of node:fs that include expansion needs; tests pass a recording fake. */
export interface GlobFs {
  readdir(dir: string): readonly string[];
  exists(file: string): boolean;
}

export function hasGlobChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // * ? [
    if (c === 42 || c === 63 || c === 91) return true;
  }
  return false;
}

/**
 * Match one character against the class starting at pattern[i] === '['.
 * Returns the index just past `]` and whether ch matched, or undefined if the class is
 * not closed (then `[` is a literal, as glob(3) treats it).
 */
function matchClass(pattern: string, i: number, ch: string): { next: number; ok: boolean } | undefined {
  let j = i + 1;
  let negate = false;
  if (pattern[j] === '!' || pattern[j] === '^') {
    negate = true;
    j++;
  }
  let ok = false;
  let first = true;
  while (j < pattern.length) {
    let c = pattern[j] as string;
    if (c === ']' && !first) {
      return { next: j + 1, ok: ok !== negate };
    }
    first = false;
    if (c === '\\' && j + 1 < pattern.length) {
      j++;
      c = pattern[j] as string;
    }
    if (pattern[j + 1] === '-' && j + 2 < pattern.length && pattern[j + 2] !== ']') {
      let hi = pattern[j + 2] as string;
      let skip = 3;
      if (hi === '\\' && j + 3 < pattern.length) {
        hi = pattern[j + 3] as string;
        skip = 4;
      }
      if (ch >= c && ch <= hi) ok = true;
      j += skip;
    } else {
      if (ch === c) ok = true;
      j++;
    }
  }
  return undefined;
}

/** Does `name` (one path segment) match `pattern` (one segment with `*`, `?`, `[..]`, `\x`)? */
export function matchSegment(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let starP = -1;
  let starN = 0;
  while (n < name.length) {
    const pc = pattern[p];
    if (pc === '*') {
      starP = p++;
      starN = n;
      continue;
    }
    if (pc !== undefined) {
      const ch = name[n] as string;
      if (pc === '?') {
        p++;
        n++;
        continue;
      }
      if (pc === '[') {
        const m = matchClass(pattern, p, ch);
        if (m === undefined) {
          if (ch === '[') {
            p++;
            n++;
            continue;
          }
        } else if (m.ok) {
          p = m.next;
          n++;
          continue;
        }
      } else if (pc === '\\' && p + 1 < pattern.length) {
        if (pattern[p + 1] === ch) {
          p += 2;
          n++;
          continue;
        }
      } else if (pc === ch) {
        p++;
        n++;
        continue;
      }
    }
    if (starP >= 0) {
      p = starP + 1;
      n = ++starN;
      continue;
    }
    return false;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Expand `pattern` (absolute, or relative to `baseDir`) into existing paths, sorted per
 * segment as glob(3) does. A pattern without wildcards yields itself if it exists.
 * Hidden entries match only a segment pattern that starts with `.`.
 */
export function expandGlob(pattern: string, baseDir: string, fs: GlobFs): string[] {
  const abs = path.isAbsolute(pattern) ? pattern : path.join(baseDir, pattern);
  if (!hasGlobChars(abs)) return fs.exists(abs) ? [abs] : [];
  const parts = abs.split('/');
  let current: string[] = [parts[0] === '' ? '/' : (parts[0] as string)];
  for (let i = 1; i < parts.length; i++) {
    const seg = parts[i] as string;
    if (seg === '') continue;
    const next: string[] = [];
    for (const dir of current) {
      if (!hasGlobChars(seg)) {
        next.push(path.join(dir, seg.replace(/\\(.)/g, '$1')));
        continue;
      }
      let names: readonly string[];
      try {
        names = fs.readdir(dir);
      } catch {
        continue;
      }
      const sorted = [...names].sort();
      for (const name of sorted) {
        if (name.startsWith('.') && !seg.startsWith('.')) continue;
        if (matchSegment(seg, name)) next.push(path.join(dir, name));
      }
    }
    current = next;
    if (current.length === 0) return [];
  }
  return current.filter((f) => fs.exists(f));
}
