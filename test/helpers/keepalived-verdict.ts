/**
 * keepalived's verdict on a config, as Debian's `keepalived -t` gives it, and the lines it
 * names, for the differential and mutation tests (test/system/config/).
 *
 * `keepalived -t -l` prints one message per line on stdout/stderr and exits 0 when the config
 * is clean, 5 for any complaint (fatal or not) and 6 for a script-security complaint. Most
 * messages carry `(FILE: Line N)` or `(Line N)`; the checks keepalived runs after parsing a
 * block name the block instead (`(VI_1) No VIP specified`, `Virtual server [10.0.0.1]:tcp:80:
 * …`, `Disabling track script chk since …`): those are mapped here to the line of the block
 * they name, so both checkers are held to lines. What names no line and no block
 * (`SECURITY VIOLATION …`) is "global".
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface KeepalivedMessage {
  readonly text: string;
  /** the line the message names, or that the block it names starts on */
  readonly line?: number;
  /** true when `line` came from the block the message names, not from `(Line N)` */
  readonly mapped?: boolean;
}

export interface KeepalivedVerdict {
  readonly rc: number;
  readonly messages: KeepalivedMessage[];
}

/** `keepalived -t -l -f FILE` inside namespace `ns`. */
export function keepalivedCheck(ns: string, file: string, timeoutMs = 20_000): Promise<KeepalivedVerdict & { raw: string; signal?: string }> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', ns, 'keepalived', '-t', '-l', '-f', file], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const e = err as { code?: unknown; signal?: unknown; killed?: boolean } | null;
      // keepalived 2.2.7 itself dies on some broken configs (SIGSEGV on an unterminated
      // quote); what it printed before is still its verdict, and `signal` says it crashed.
      const signal = typeof e?.signal === 'string' && e.killed !== true ? e.signal : undefined;
      const rc = e === null ? 0 : typeof e.code === 'number' ? e.code : signal !== undefined ? 128 : -1;
      if (rc < 0) return reject(err ?? new Error('keepalived did not exit'));
      const raw = `${stdout}${stderr}`;
      resolve({ rc, raw, messages: parseKeepalivedOutput(raw, file), ...(signal !== undefined ? { signal } : {}) });
    });
  });
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The 1-based line where a statement `kw ARGS… {` starts in `text`, if any. */
export function blockLine(text: string, kw: string, args: readonly string[]): number | undefined {
  const re = new RegExp(`^\\s*${escapeRe(kw)}\\s+${args.map(escapeRe).join('\\s+')}(?:\\s|\\{|$)`);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) if (re.test(lines[i] ?? '')) return i + 1;
  return undefined;
}

/**
 * keepalived runs a block's end-of-block checks when it reads the `}`, and names that line.
 * When line `line` holds nothing but `}`, the line its block opened on (the keyword's line);
 * else undefined.
 */
export function openerOfClose(text: string, line: number): number | undefined {
  const lines = text.split('\n').map((l) => l.replace(/[#!].*$/, ''));
  if ((lines[line - 1] ?? '').trim() !== '}') return undefined;
  let depth = 0;
  for (let i = line - 1; i >= 0; i--) {
    const l = lines[i] ?? '';
    for (let j = l.length - 1; j >= 0; j--) {
      const c = l[j];
      if (c === '}') depth++;
      else if (c === '{') {
        depth--;
        if (depth === 0) {
          // `kw args {` or `kw args` then `{` alone on the next line
          if (l.slice(0, j).trim() !== '') return i + 1;
          for (let k = i - 1; k >= 0; k--) if ((lines[k] ?? '').trim() !== '') return k + 1;
          return i + 1;
        }
      }
    }
  }
  return undefined;
}

const LINE_RE = /^\((?:(.*?): )?Line (\d+)\) (.*)$/;

export function parseKeepalivedOutput(raw: string, file: string, text?: string): KeepalivedMessage[] {
  const src = text ?? readText(file);
  const out: KeepalivedMessage[] = [];
  for (const l of raw.split('\n')) {
    const s = l.trim();
    if (s === '') continue;
    const m = LINE_RE.exec(s);
    if (m !== null) {
      out.push({ text: m[3] ?? s, line: Number(m[2]) });
      continue;
    }
    const line = mapBlock(s, src);
    out.push(line === undefined ? { text: s } : { text: s, line, mapped: true });
  }
  return out;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The line of the block a line-less message names. */
function mapBlock(s: string, text: string): number | undefined {
  let m = /^Disabling track script (\S+) since not found/.exec(s);
  if (m !== null) return blockLine(text, 'vrrp_script', [m[1]!]);
  m = /^Virtual server \[([^\]]+)\]:\w*:(\d+)/.exec(s);
  if (m !== null) return blockLine(text, 'virtual_server', [m[1]!, m[2]!]) ?? blockLine(text, 'virtual_server', [m[1]!]);
  m = /^Virtual server FWM (\d+)/.exec(s);
  if (m !== null) return blockLine(text, 'virtual_server', ['fwmark', m[1]!]);
  m = /^Virtual server group (\S+?):/.exec(s);
  if (m !== null) return blockLine(text, 'virtual_server', ['group', m[1]!]);
  m = /^Virtual router (\S+) specified in sync group (\S+) doesn't exist/.exec(s);
  if (m !== null) {
    const g = blockLine(text, 'vrrp_sync_group', [m[2]!]);
    if (g === undefined) return undefined;
    const lines = text.split('\n');
    const word = new RegExp(`(^|\\s)${escapeRe(m[1]!)}(\\s|$)`);
    for (let i = g; i < lines.length; i++) if (word.test(lines[i] ?? '')) return i + 1;
    return g;
  }
  m = /^\(([^)\s]+)\)/.exec(s);
  if (m !== null) return blockLine(text, 'vrrp_instance', [m[1]!]) ?? blockLine(text, 'vrrp_sync_group', [m[1]!]);
  return undefined;
}
