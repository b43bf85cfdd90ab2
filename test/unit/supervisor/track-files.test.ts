import test from 'ava';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrackFile } from '../../../src/config/model.ts';
import { FileTracker, parseTrackFileValue } from '../../../src/supervisor/track-files.ts';

const loc = { file: 't.conf', line: 1, col: 1 };

test('the value is read as strtol(text, NULL, 0) reads it; out of 32 bits is undefined', (t) => {
  t.is(parseTrackFileValue('5\n'), 5);
  t.is(parseTrackFileValue('  -12 trailing'), -12);
  t.is(parseTrackFileValue('+7'), 7);
  t.is(parseTrackFileValue('0x1f'), 31);
  t.is(parseTrackFileValue('010'), 8, 'a leading 0 is octal');
  t.is(parseTrackFileValue('08'), 0, 'octal stops at 8');
  t.is(parseTrackFileValue('0x'), 0);
  t.is(parseTrackFileValue(''), 0);
  t.is(parseTrackFileValue('drain'), 0);
  t.is(parseTrackFileValue('2147483647'), 2147483647);
  t.is(parseTrackFileValue('-2147483648'), -2147483648);
  t.is(parseTrackFileValue('2147483648'), undefined);
});

function tracked(dir: string, over: Partial<TrackFile> = {}): TrackFile {
  return { name: 'f', file: join(dir, 'value'), weight: 1, weightReverse: false, loc, ...over };
}

async function next(ft: FileTracker): Promise<number> {
  return new Promise((res) => ft.once('value', (_n, v) => res(v)));
}

test.serial('inotify: writes, a replace by rename, removal (0) and re-creation are all followed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-tf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ft = new FileTracker();
  t.teardown(() => ft.stop());
  const path = join(dir, 'value');
  writeFileSync(path, '3\n');
  ft.setFiles([tracked(dir)]);
  t.is(ft.value('f'), 3, 'read at start');

  let p = next(ft);
  writeFileSync(path, '7\n');
  t.is(await p, 7);

  p = next(ft);
  writeFileSync(join(dir, 'tmp'), '-4\n');
  renameSync(join(dir, 'tmp'), path);
  t.is(await p, -4, 'replaced by a rename');

  p = next(ft);
  rmSync(path);
  t.is(await p, 0, 'a removed file reads 0');

  p = next(ft);
  writeFileSync(path, '9');
  t.is(await p, 9, 're-created');

  // an unchanged value is not an event; a change after it is
  writeFileSync(path, '9\n');
  p = next(ft);
  writeFileSync(path, '10\n');
  t.is(await p, 10);
});

test.serial('init_file: creates a missing file; overwrite rewrites one at start but not on reload', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-tf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'value');
  const a = new FileTracker();
  a.setFiles([tracked(dir, { init: { value: 4, overwrite: false } })]);
  t.is(readFileSync(path, 'utf8'), '4\n');
  t.is(a.value('f'), 4);
  a.stop();
  writeFileSync(path, '8\n');
  const b = new FileTracker();
  b.setFiles([tracked(dir, { init: { value: 4, overwrite: false } })]);
  t.is(b.value('f'), 8, 'an existing file is kept without overwrite');
  b.stop();
  const c = new FileTracker();
  c.setFiles([tracked(dir, { init: { value: 1, overwrite: true } })], true);
  t.is(c.value('f'), 8, 'overwrite does not apply on a reload');
  c.stop();
  const d = new FileTracker();
  d.setFiles([tracked(dir, { init: { value: 1, overwrite: true } })]);
  t.is(d.value('f'), 1);
  d.stop();
});
