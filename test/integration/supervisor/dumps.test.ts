import test from 'ava';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDataDump, writeDump } from '../../../src/supervisor/dumps.ts';
import { sampleStatus } from '../../unit/supervisor/status-fixture.ts';

test('writes the three dumps at keepalived names in the given directory, no temp files left', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-dump-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.is(writeDump('data', sampleStatus, dir), join(dir, 'keepalived.data'));
  t.is(writeDump('stats', sampleStatus, dir), join(dir, 'keepalived.stats'));
  t.is(writeDump('json', sampleStatus, dir), join(dir, 'keepalived.json'));
  t.is(readFileSync(join(dir, 'keepalived.data'), 'utf8'), formatDataDump(sampleStatus));
  t.regex(readFileSync(join(dir, 'keepalived.stats'), 'utf8'), /^VRRP Instance: VI_1\n/);
  t.notThrows(() => JSON.parse(readFileSync(join(dir, 'keepalived.json'), 'utf8')));
  t.deepEqual(readdirSync(dir).sort(), ['keepalived.data', 'keepalived.json', 'keepalived.stats']);
});

test('a symlink planted at the dump path is replaced, its target untouched', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-dump-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious\n');
  symlinkSync(victim, join(dir, 'keepalived.data'));
  writeDump('data', sampleStatus, dir);
  t.is(readFileSync(victim, 'utf8'), 'precious\n');
  t.false(lstatSync(join(dir, 'keepalived.data')).isSymbolicLink());
});

test('an unwritable directory is an fs error with its code, nothing half-written', (t) => {
  const err = t.throws(() => writeDump('data', sampleStatus, '/nonexistent-vigil-dir'));
  t.is((err as NodeJS.ErrnoException).code, 'ENOENT');
});
