/**
 * track_file: the number in each tracked file, kept current through inotify (Node's
 * fs.watch on the file's directory, so that a file replaced by a rename, removed and
 * re-created is still followed; keepalived trackers/track_file.c watches the directory too).
 *
 * What a file holds (keepalived process_track_file): up to 127 bytes read as C's
 * strtol(…, 0) does (decimal, 0x hex, 0 octal, leading blanks and sign, trailing text
 * ignored); no digits, an empty file, a file that cannot be opened or one that is gone
 * all read as 0; a number outside 32 bits is logged and ignored (the previous value stays).
 *
 * keepalived reads on IN_CLOSE_WRITE; fs.watch reports IN_MODIFY instead, which fires at
 * the truncate of `echo 5 > f` before the write. A read is therefore made SETTLE_MS after
 * the last event for the file, so a writer's truncate+write+close is seen as one change.
 */
import { EventEmitter } from 'node:events';
import { closeSync, openSync, readSync, realpathSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { TrackFile } from '../config/model.ts';

/** ms after the last inotify event for a file before it is read (see above). */
export const SETTLE_MS = 5;

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;

/**
 * The value of a track file's text as keepalived reads it: strtol(text, NULL, 0).
 * undefined: the number does not fit in 32 bits (keepalived ignores the read).
 */
export function parseTrackFileValue(text: string): number | undefined {
  let i = 0;
  while (i < text.length && ' \t\n\v\f\r'.includes(text[i]!)) i++;
  let neg = false;
  if (text[i] === '+' || text[i] === '-') {
    neg = text[i] === '-';
    i++;
  }
  let radix = 10;
  if (text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X') && /[0-9a-fA-F]/.test(text[i + 2] ?? '')) {
    radix = 16;
    i += 2;
  } else if (text[i] === '0') radix = 8;
  const digit = radix === 16 ? /[0-9a-fA-F]/ : radix === 8 ? /[0-7]/ : /[0-9]/;
  let j = i;
  while (j < text.length && digit.test(text[j]!)) j++;
  if (j === i) return 0;
  const prefix = radix === 16 ? '0x' : radix === 8 ? '0o' : '';
  let v = BigInt(prefix + text.slice(i, j));
  if (neg) v = -v;
  if (v < INT_MIN || v > INT_MAX) return undefined;
  return Number(v);
}

/** Reads a track file now: its value, or undefined when the number is out of range. */
export function readTrackFile(path: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 0;
  }
  try {
    const buf = Buffer.alloc(127);
    const n = readSync(fd, buf, 0, buf.length, null);
    return n > 0 ? parseTrackFileValue(buf.toString('latin1', 0, n)) : 0;
  } catch {
    return 0;
  } finally {
    closeSync(fd);
  }
}

export interface FileTrackerEvents {
  /** a tracked file's value changed */
  value: [name: string, value: number, path: string];
  /** something an operator should hear of: a value ignored, a directory that cannot be watched */
  problem: [name: string, message: string];
}

interface Tracked {
  readonly spec: TrackFile;
  /** the path as watched: symlinks of the file (or, if it does not exist yet, of its directory) resolved */
  readonly path: string;
  value: number;
  settle: NodeJS.Timeout | undefined;
}

export class FileTracker extends EventEmitter<FileTrackerEvents> {
  private readonly files = new Map<string, Tracked>();
  /** one inotify watch per directory, shared by the files in it */
  private readonly dirs = new Map<string, FSWatcher>();

  /**
   * The files to track (only those some instance or sync group tracks). Unchanged ones keep
   * their watch and value; `init_file` is applied to files not tracked before — on a reload
   * (`reload`) only to create a missing file, never to overwrite one, as keepalived.
   */
  setFiles(specs: readonly TrackFile[], reload = false): void {
    const next = new Map(specs.map((s) => [s.name, s]));
    for (const [name, t] of this.files) {
      const n = next.get(name);
      if (n === undefined || n.file !== t.spec.file || JSON.stringify(n.init) !== JSON.stringify(t.spec.init)) this.drop(name);
    }
    for (const spec of specs) {
      const t = this.files.get(spec.name);
      if (t !== undefined) {
        this.files.set(spec.name, { ...t, spec });
        continue;
      }
      this.initFile(spec, reload);
      const path = resolvePath(spec.file);
      const tracked: Tracked = { spec, path, value: readTrackFile(path) ?? 0, settle: undefined };
      this.files.set(spec.name, tracked);
      this.watchDir(dirname(path), spec.name);
    }
    this.unwatchIdle();
  }

  value(name: string): number | undefined {
    return this.files.get(name)?.value;
  }

  stop(): void {
    for (const name of [...this.files.keys()]) this.drop(name);
    this.unwatchIdle();
  }

  private initFile(spec: TrackFile, reload: boolean): void {
    const init = spec.init;
    if (init === undefined) return;
    let exists = false;
    try {
      const st = statSync(spec.file);
      exists = true;
      if (!st.isFile()) {
        this.emit('problem', spec.name, `cannot initialise ${spec.file}: not a regular file`);
        return;
      }
    } catch {
      /* missing: create it */
    }
    if (exists && (!init.overwrite || reload)) return;
    try {
      writeFileSync(spec.file, `${init.value}\n`, { mode: 0o644 });
    } catch (e) {
      this.emit('problem', spec.name, `cannot initialise ${spec.file}: ${(e as Error).message}`);
    }
  }

  private watchDir(dir: string, name: string): void {
    if (this.dirs.has(dir)) return;
    try {
      const w = watch(dir, (_event, file) => {
        if (file !== null) this.onEvent(dir, file.toString());
      });
      w.on('error', (e) => {
        // the directory itself went away: nothing more will come from this watch
        this.dirs.delete(dir);
        for (const t of this.files.values()) if (dirname(t.path) === dir) this.emit('problem', t.spec.name, `watch on ${dir} failed: ${e.message}`);
      });
      this.dirs.set(dir, w);
    } catch (e) {
      this.emit('problem', name, `cannot watch ${dir}: ${(e as Error).message}; the file is read once`);
    }
  }

  private onEvent(dir: string, file: string): void {
    for (const [name, t] of this.files) {
      if (dirname(t.path) !== dir || basename(t.path) !== file) continue;
      if (t.settle !== undefined) clearTimeout(t.settle);
      t.settle = setTimeout(() => this.reread(name), SETTLE_MS);
    }
  }

  private reread(name: string): void {
    const t = this.files.get(name);
    if (t === undefined) return;
    t.settle = undefined;
    const v = readTrackFile(t.path);
    if (v === undefined) {
      this.emit('problem', name, `${t.path} holds a number outside 32 bits; ignored`);
      return;
    }
    if (v === t.value) return;
    t.value = v;
    this.emit('value', name, v, t.path);
  }

  private drop(name: string): void {
    const t = this.files.get(name);
    if (t?.settle !== undefined) clearTimeout(t.settle);
    this.files.delete(name);
  }

  private unwatchIdle(): void {
    const used = new Set([...this.files.values()].map((t) => dirname(t.path)));
    for (const [dir, w] of this.dirs) {
      if (used.has(dir)) continue;
      w.close();
      this.dirs.delete(dir);
    }
  }
}

/** keepalived resolves the file (or, when it does not exist yet, its directory) with realpath. */
function resolvePath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    try {
      return join(realpathSync(dirname(file)), basename(file));
    } catch {
      return file;
    }
  }
}
