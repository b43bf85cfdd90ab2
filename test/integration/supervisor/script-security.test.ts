import test from 'ava';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireRoot } from '../../helpers/netns.ts';
import {
  checkScript,
  defaultScriptUser,
  mayRun,
  resolveUser,
  ScriptUserError,
  scriptUserFor,
} from '../../../src/supervisor/script-security.ts';

const ROOT = { uid: 0, gid: 0, name: 'root' };
const NOBODY = { uid: 65534, gid: 65534, name: 'nobody' };

/** A root-owned 0700 directory under sticky /tmp with one root-owned 0755 script in it. */
function lab(t: { teardown(fn: () => void): void }): { dir: string; script: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sec-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const script = join(dir, 'notify.sh');
  writeFileSync(script, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  return { dir, script };
}

test('a root-owned script in root-owned directories is safe to run as root', (t) => {
  if (!requireRoot(t)) return t.pass();
  const { script } = lab(t);
  const c = checkScript(script, ROOT, true);
  t.like(c, { status: 'ok', path: script, runsAsRoot: true });
  t.true(mayRun(c));
});

test('writable by a non-root group, by everyone, or owned by another user: refused with security, warned without', (t) => {
  if (!requireRoot(t)) return t.pass();
  const { dir, script } = lab(t);
  chownSync(script, 0, 1000);
  chmodSync(script, 0o775);
  const refused = checkScript(script, ROOT, true);
  t.is(refused.status, 'refused');
  t.false(mayRun(refused));
  t.regex(refused.message ?? '', /notify\.sh is writable by group 1000; refused \(enable_script_security\)/);
  const warned = checkScript(script, ROOT, false);
  t.is(warned.status, 'insecure');
  t.true(mayRun(warned));
  t.regex(warned.message ?? '', /^SECURITY VIOLATION/);

  chownSync(script, 0, 0);
  chmodSync(script, 0o755);
  chownSync(script, 65534, 0);
  t.regex(checkScript(script, ROOT, true).message ?? '', /owned by uid 65534, not root/);
  chownSync(script, 0, 0);

  // a parent directory anyone can write (no sticky bit): the script could be swapped
  chmodSync(dir, 0o777);
  t.regex(checkScript(script, ROOT, true).message ?? '', /vigil-sec-\w+ is writable by everyone/);
  // the sticky bit (as on /tmp) makes that safe again
  chmodSync(dir, 0o1777);
  t.is(checkScript(script, ROOT, true).status, 'ok');
});

test('a symlink to an unsafe place is caught by walking the resolved path', (t) => {
  if (!requireRoot(t)) return t.pass();
  const { dir } = lab(t);
  const bad = join(dir, 'open');
  mkdirSync(bad, { mode: 0o777 });
  chmodSync(bad, 0o777);
  const target = join(bad, 'real.sh');
  writeFileSync(target, '#!/bin/sh\n', { mode: 0o755 });
  const link = join(dir, 'link.sh');
  symlinkSync(target, link);
  const c = checkScript(link, ROOT, true);
  t.is(c.status, 'refused');
  t.regex(c.message ?? '', /open is writable by everyone/);
});

test('scripts run as an unprivileged user need no protection, but must be executable for it', (t) => {
  if (!requireRoot(t)) return t.pass();
  const { script } = lab(t);
  chmodSync(script, 0o777);
  t.is(checkScript(script, NOBODY, true).status, 'ok');
  chmodSync(script, 0o700);
  t.is(checkScript(script, NOBODY, true).status, 'not-executable');
  t.is(checkScript(script, ROOT, true).status, 'ok');
  // a set-uid-root file runs as root whoever starts it
  chmodSync(script, 0o4757);
  t.like(checkScript(script, NOBODY, true), { status: 'refused', runsAsRoot: true });
});

test('missing scripts and bare names: not-found, or a PATH search with a note', (t) => {
  t.is(checkScript('/nonexistent/vigil/x.sh', ROOT, true).status, 'not-found');
  t.is(checkScript('vigil-no-such-command', ROOT, true, { PATH: '/usr/bin:/bin' }).status, 'not-found');
  const c = checkScript('true', ROOT, false, { PATH: '/usr/bin:/bin' });
  t.is(c.path, '/usr/bin/true');
  t.regex(c.message ?? '', /resolved by PATH search to \/usr\/bin\/true/);
  // /bin is a root-owned symlink on merged-/usr systems: accepted (see the module comment)
  t.is(checkScript('/bin/true', ROOT, true).status, 'ok');
});

test('users and groups resolve through getent; unknown ones are coded errors', async (t) => {
  t.deepEqual(await resolveUser('root'), ROOT);
  t.deepEqual(await resolveUser('nobody', 'root'), { uid: 65534, gid: 0, name: 'nobody' });
  const e1 = await t.throwsAsync(resolveUser('vigil-no-such-user'), { instanceOf: ScriptUserError });
  t.is(e1?.code, 'SCRIPT_USER_UNKNOWN');
  const e2 = await t.throwsAsync(resolveUser('root', 'vigil-no-such-group'), { instanceOf: ScriptUserError });
  t.is(e2?.code, 'SCRIPT_GROUP_UNKNOWN');
  t.deepEqual(await scriptUserFor({ raw: 'x', argv: ['x'], user: 'nobody', loc: { file: 'f', line: 1, col: 1 } }, ROOT), (await resolveUser('nobody')));
  t.deepEqual(await scriptUserFor({ raw: 'x', argv: ['x'], loc: { file: 'f', line: 1, col: 1 } }, NOBODY), NOBODY);
});

test('default user: script_user, else keepalived_script, else root with a warning — or an error under script security', async (t) => {
  if (!requireRoot(t)) return t.pass();
  t.deepEqual((await defaultScriptUser({ enableScriptSecurity: true, scriptUser: { user: 'nobody' } })).user, await resolveUser('nobody'));
  // this machine has no keepalived_script user (checked, so the test cannot pass by accident)
  await t.throwsAsync(resolveUser('keepalived_script'), { instanceOf: ScriptUserError });
  const d = await defaultScriptUser({ enableScriptSecurity: false });
  t.deepEqual(d.user, ROOT);
  t.regex(d.warning ?? '', /no user keepalived_script/);
  const e = await t.throwsAsync(defaultScriptUser({ enableScriptSecurity: true }), { instanceOf: ScriptUserError });
  t.is(e?.code, 'SCRIPT_DEFAULT_USER_MISSING');
});
