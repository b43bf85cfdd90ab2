/**
 * Seeded mutations of a keepalived.conf text, for the mutation test: one edit per mutant
 * (a token dropped, duplicated or swapped with its neighbour, a number made out of range,
 * a brace removed, a keyword misspelt). The same seed gives the same mutant, so a failure
 * is reproduced from the seed the test prints.
 */

export type MutationKind = 'drop' | 'duplicate' | 'swap' | 'number' | 'brace' | 'misspell';
export const MUTATION_KINDS: readonly MutationKind[] = ['drop', 'duplicate', 'swap', 'number', 'brace', 'misspell'];

/** mulberry32: small, fast, good enough to pick edits; not for anything secret. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Tok {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly line: number;
  /** first token of its line */
  readonly first: boolean;
}

/** Tokens outside comments (`#` or `!` at a word start, to the end of the line). */
export function tokens(text: string): Tok[] {
  const out: Tok[] = [];
  let line = 1;
  let lineStart = 0;
  let first = true;
  const re = /[{}]|[^\s{}]+|\n/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const w = m[0];
    if (w === '\n') {
      line++;
      lineStart = m.index + 1;
      first = true;
      continue;
    }
    if (w.startsWith('#') || w.startsWith('!')) {
      const nl = text.indexOf('\n', m.index);
      re.lastIndex = nl < 0 ? text.length : nl;
      continue;
    }
    out.push({ start: m.index, end: m.index + w.length, text: w, line, first });
    first = false;
    void lineStart;
  }
  return out;
}

const OUT_OF_RANGE = ['0', '-1', '256', '65536', '4294967296', '99999999999', '1.5', '-0'];

export interface Mutant {
  readonly text: string;
  readonly kind: MutationKind;
  /** what was done, for the report */
  readonly what: string;
  /** the line of the edit in the mutated text */
  readonly line: number;
}

function pick<T>(r: () => number, xs: readonly T[]): T | undefined {
  return xs.length === 0 ? undefined : xs[Math.floor(r() * xs.length)];
}

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

/** One mutant of `text` from `seed`; undefined when the text has nothing the kind can edit. */
export function mutate(text: string, seed: number, kind?: MutationKind): Mutant | undefined {
  const r = rng(seed);
  const k = kind ?? (pick(r, MUTATION_KINDS) as MutationKind);
  const toks = tokens(text);
  switch (k) {
    case 'drop': {
      const t = pick(r, toks);
      if (t === undefined) return undefined;
      return { kind: k, what: `dropped \`${t.text}\` at line ${t.line}`, line: t.line, text: splice(text, t.start, t.end, '') };
    }
    case 'duplicate': {
      const t = pick(r, toks);
      if (t === undefined) return undefined;
      return { kind: k, what: `duplicated \`${t.text}\` at line ${t.line}`, line: t.line, text: splice(text, t.end, t.end, ` ${t.text}`) };
    }
    case 'swap': {
      const i = Math.floor(r() * Math.max(0, toks.length - 1));
      const a = toks[i];
      const b = toks[i + 1];
      if (a === undefined || b === undefined) return undefined;
      const mid = text.slice(a.end, b.start);
      return { kind: k, what: `swapped \`${a.text}\` (line ${a.line}) and \`${b.text}\` (line ${b.line})`, line: a.line, text: text.slice(0, a.start) + b.text + mid + a.text + text.slice(b.end) };
    }
    case 'number': {
      const t = pick(
        r,
        toks.filter((x) => /^\d+(\.\d+)?$/.test(x.text)),
      );
      if (t === undefined) return undefined;
      const v = pick(r, OUT_OF_RANGE) as string;
      return { kind: k, what: `number \`${t.text}\` at line ${t.line} -> \`${v}\``, line: t.line, text: splice(text, t.start, t.end, v) };
    }
    case 'brace': {
      const t = pick(
        r,
        toks.filter((x) => x.text === '{' || x.text === '}'),
      );
      if (t === undefined) return undefined;
      return { kind: k, what: `removed \`${t.text}\` at line ${t.line}`, line: t.line, text: splice(text, t.start, t.end, '') };
    }
    case 'misspell': {
      const t = pick(
        r,
        toks.filter((x) => x.first && /^[a-z_]{3,}$/i.test(x.text)),
      );
      if (t === undefined) return undefined;
      const w = t.text;
      const i = Math.floor(r() * w.length);
      const how = Math.floor(r() * 3);
      let m: string;
      if (how === 0) m = w.slice(0, i) + w.slice(i + 1);
      else if (how === 1 && i < w.length - 1) m = w.slice(0, i) + (w[i + 1] as string) + (w[i] as string) + w.slice(i + 2);
      else m = w.slice(0, i) + (w[i] === 'x' ? 'y' : 'x') + w.slice(i + 1);
      if (m === w) m = `${w}x`;
      return { kind: k, what: `misspelt \`${w}\` as \`${m}\` at line ${t.line}`, line: t.line, text: splice(text, t.start, t.end, m) };
    }
  }
}
