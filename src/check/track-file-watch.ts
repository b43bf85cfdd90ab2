/**
 * Watches track_file files (inotify through fs.watch on each file's directory, as keepalived
 * watches the directory) and reports each file's number when it changes. Main thread: one
 * inotify watch per directory, a read of at most 127 bytes (keepalived reads 128 with the NUL).
 *
 * keepalived reads on IN_CLOSE_WRITE; fs.watch reports IN_MODIFY instead, and `echo 5 > f`
 * is two of them (the truncate, then the write), so a read after the first would see an
 * empty file, i.e. a passing 0. Events are therefore coalesced: a file is read SETTLE_MS
 * after the last event for it.
 *
 * `init_file` is applied by `start`: VALUE is written when the file is missing, or always with
 * `overwrite`.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { TrackFile } from '../config/model.ts';
import { parseTrackFileValue } from './track-file.ts';

/** bytes read of a track file (keepalived: a 128-byte buffer) */
const READ_BYTES = 127;
/** ms of quiet after an event before the file is read (see above) */
export const SETTLE_MS = 20;

export interface TrackFileWatcherEvents {
  /** a file's number changed (the path resolved) */
  value: [path: string, value: number];
  /** a directory cannot be watched; its files keep their last value */
  error: [path: string, err: Error];
}

export class TrackFileWatcher extends EventEmitter<TrackFileWatcherEvents> {
  private readonly values = new Map<string, number>();
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private readonly reading = new Map<string, Promise<void>>();
  private readonly settling = new Map<string, NodeJS.Timeout>();

  /** Reads every file now (synchronously: the first desired state needs them) and watches them. */
  start(files: readonly TrackFile[]): void {
    const paths = new Set(files.map((f) => path.resolve(f.file)));
    for (const f of files) this.initFile(f);
    for (const [p] of this.values) if (!paths.has(p)) this.values.delete(p);
    for (const p of paths) this.values.set(p, readValueSync(p) ?? this.values.get(p) ?? 0);
    const dirs = new Set([...paths].map((p) => path.dirname(p)));
    for (const [d, w] of this.watchers) {
      if (!dirs.has(d)) {
        w.close();
        this.watchers.delete(d);
      }
    }
    for (const d of dirs) {
      if (this.watchers.has(d)) continue;
      try {
        const w = fs.watch(d, { persistent: false }, (_event, name) => {
          if (name === null) {
            for (const p of this.values.keys()) if (path.dirname(p) === d) this.settle(p);
            return;
          }
          const p = path.join(d, name.toString());
          if (this.values.has(p)) this.settle(p);
        });
        w.on('error', (err) => this.emit('error', d, err));
        this.watchers.set(d, w);
      } catch (err) {
        this.emit('error', d, err as Error);
      }
    }
  }

  /** The last number read from `p` (as configured, or resolved); 0 for a file not watched. */
  value(p: string): number {
    return this.values.get(path.resolve(p)) ?? 0;
  }

  stop(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    for (const t of this.settling.values()) clearTimeout(t);
    this.settling.clear();
  }

  private settle(p: string): void {
    clearTimeout(this.settling.get(p));
    this.settling.set(
      p,
      setTimeout(() => {
        this.settling.delete(p);
        this.reread(p);
      }, SETTLE_MS),
    );
  }

  private initFile(f: TrackFile): void {
    if (f.init === undefined) return;
    if (!f.init.overwrite && fs.existsSync(f.file)) return;
    try {
      fs.writeFileSync(f.file, `${f.init.value}\n`);
    } catch (err) {
      this.emit("error", f.file, err as Error);
    }
  }

  /** Reads of one file run one after another, so the last event's content wins. */
  private reread(p: string): void {
    const prev = this.reading.get(p) ?? Promise.resolve();
    const next = prev.then(async () => {
      const v = await readValue(p);
      if (v === undefined || !this.values.has(p) || this.values.get(p) === v) return;
      this.values.set(p, v);
      this.emit('value', p, v);
    });
    this.reading.set(p, next);
    void next.finally(() => {
      if (this.reading.get(p) === next) this.reading.delete(p);
    });
  }
}

function readValueSync(p: string): number | undefined {
  let fd: number;
  try {
    fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return 0; // missing: 0
  }
  try {
    const buf = Buffer.alloc(READ_BYTES);
    const n = fs.readSync(fd, buf, 0, READ_BYTES, null);
    return parseTrackFileValue(buf.subarray(0, n).toString('latin1'));
  } catch {
    return 0;
  } finally {
    fs.closeSync(fd);
  }
}

async function readValue(p: string): Promise<number | undefined> {
  let h: fs.promises.FileHandle;
  try {
    h = await fs.promises.open(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return 0;
  }
  try {
    const { buffer, bytesRead } = await h.read(Buffer.alloc(READ_BYTES), 0, READ_BYTES, null);
    return parseTrackFileValue(buffer.subarray(0, bytesRead).toString('latin1'));
  } catch {
    return 0;
  } finally {
    await h.close();
  }
}
