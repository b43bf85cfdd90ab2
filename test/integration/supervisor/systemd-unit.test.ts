import test from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode } from '../../../src/supervisor/exit-codes.ts';
import { DEFAULT_VRRP_RT_PRIORITY } from '../../../src/io/thread-priority.ts';

const unitPath = fileURLToPath(new URL('../../../systemd/vigil.service', import.meta.url));
const unitText = readFileSync(unitPath, 'utf8');

/**
 * `systemd-analyze verify --root=DIR` checks the unit inside a tree the test builds: the
 * shipped file unchanged, a stand-in /usr/bin/vigil (the real one is installed by a
 * package, not present here), /bin/kill for ExecReload and systemd's own units for the
 * dependencies. verify exits 0 even for unknown keys, so any output counts as a failure.
 */
function verify(t: { teardown(fn: () => void): void }, text: string): { status: number | null; output: string } {
  const root = mkdtempSync(join(tmpdir(), 'vigil-unit-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  mkdirSync(join(root, 'bin'), { recursive: true });
  writeFileSync(join(root, 'usr/bin/vigil'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  copyFileSync('/bin/kill', join(root, 'bin/kill'));
  cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true });
  writeFileSync(join(root, 'etc/systemd/system/vigil.service'), text);
  const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, 'vigil.service'], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

test('systemd-analyze verify accepts systemd/vigil.service without a single warning', (t) => {
  const r = verify(t, unitText);
  t.is(r.output, '');
  t.is(r.status, 0);
});

test('the check can fail: verify reports a broken copy of the unit', (t) => {
  const r = verify(t, unitText.replace('Restart=on-failure', 'Restart=sometimes\nBogusKey=1'));
  t.regex(r.output, /Unknown key 'BogusKey'/);
  t.regex(r.output, /restart specifier/);
});

function directive(name: string): string[] {
  return unitText
    .split('\n')
    .filter((l) => l.startsWith(`${name}=`))
    .map((l) => l.slice(name.length + 1));
}

test('the unit agrees with the code: exit codes not retried, notify type, reload by SIGHUP, capabilities', (t) => {
  t.deepEqual(directive('Type'), ['notify']);
  t.deepEqual(directive('NotifyAccess'), ['main']);
  t.deepEqual(directive('ExecReload'), ['/bin/kill -HUP $MAINPID']);
  t.deepEqual(directive('RestartPreventExitStatus'), [`${ExitCode.CONFIG} ${ExitCode.NO_CONFIG}`]);
  t.deepEqual(directive('Restart'), ['on-failure']);
  t.regex(directive('ExecStart')[0] ?? '', /^\/usr\/bin\/vigil -n -f \/etc\/keepalived\/keepalived\.conf/);
  t.deepEqual((directive('CapabilityBoundingSet')[0] ?? '').split(' ').sort(), [
    'CAP_KILL', 'CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SYS_NICE',
  ]);
  t.deepEqual(directive('PrivateTmp'), ['no'], 'dumps go to /tmp where operators look for them');
  t.regex(directive('WatchdogSec')[0] ?? '', /^\d+s$/);
  // started where main.ts would raise it (the start-up's realtime priority), children normal
  t.deepEqual(directive('CPUSchedulingPolicy'), ['rr']);
  t.deepEqual(directive('CPUSchedulingPriority'), [String(DEFAULT_VRRP_RT_PRIORITY)]);
  t.deepEqual(directive('CPUSchedulingResetOnFork'), ['yes']);
  t.deepEqual(directive('RestrictRealtime'), ['no']);
});
