/**
 * The real `vigil` process: `node --import tsx src/cli/main.ts ...` from the repository
 * root, as the README documents. Checks exit codes, stderr diagnostics, --dump-conf JSON,
 * keepalived flags, and that -t never loads the daemon modules.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { modulesResolved } from '../../helpers/resolved.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function vigil(args: readonly string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmp(t: { teardown(fn: () => void): void }, files: Record<string, string>): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-cli-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(d, name), text);
  return d;
}

const DIAG = /^(.+):(\d+):(\d+): (error|warning): (.+)$/;

test('every shipped configuration passes `vigil -t` (exit 0, warnings only)', (t) => {
  const files = ['conf/keepalived.conf', ...fs.readdirSync(path.join(root, 'conf/examples')).filter((f) => f.endsWith('.conf')).map((f) => `conf/examples/${f}`)];
  t.true(files.length >= 5);
  for (const f of files) {
    const r = vigil(['-t', '-f', f]);
    t.is(r.code, 0, `${f}: ${r.stderr}`);
    for (const line of r.stderr.split('\n').filter((l) => l !== '')) {
      const m = DIAG.exec(line);
      t.truthy(m, line);
      t.is(m?.[4], 'warning', line);
    }
  }
});

test('-t on a broken config: diagnostics on stderr in FILE:LINE:COL form, exit 1, nothing on stdout', (t) => {
  const f = 'test/fixtures/config/broken/seed-notes-raw.conf';
  const r = vigil(['--config-test', '--use-file', f]);
  t.is(r.code, 1);
  t.is(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  t.true(lines.every((l) => DIAG.test(l)), r.stderr);
  t.true(lines.includes(`${f}:15:1: warning: unknown keyword \`inerval\` in vrrp_script; did you mean \`interval\`?`));
  t.true(lines.some((l) => l.startsWith(`${f}:97:1: error: \`{\` of \`vrrp_instance\` at line 72 is never closed`)), r.stderr);
});

test('-t: warnings only exit 0; an unreadable file is a diagnostic and exit 1', (t) => {
  const d = tmp(t, {
    'w.conf': 'vrrp_instance A {\n interface no-such-if0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n bogus 1\n}\n',
  });
  const w = vigil(['-t', '-f', path.join(d, 'w.conf')]);
  t.is(w.code, 0, w.stderr);
  t.regex(w.stderr, /w\.conf:2:12: warning: interface no-such-if0 does not exist/);
  t.regex(w.stderr, /w\.conf:7:2: warning: unknown keyword `bogus`/);
  const missing = vigil(['-t', '-f', path.join(d, 'absent.conf')]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /absent\.conf:1:1: error: cannot read .*absent\.conf: ENOENT/);
});

test('-t checks scripts as keepalived -t does: a missing track script is disabled; scripts without enable_script_security are a SECURITY VIOLATION', (t) => {
  const inst = 'vrrp_instance A {\n interface lo\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n track_script {\n  s\n }\n}\n';
  const d = tmp(t, {
    'missing.conf': `vrrp_script s {\n script /nonexistent/check.sh\n}\n${inst}`,
    'insecure.conf': `vrrp_script s {\n script /bin/true\n}\n${inst}`,
    'secure.conf': `global_defs {\n enable_script_security\n script_user root\n}\nvrrp_script s {\n script /bin/true\n}\n${inst}`,
  });
  const m = vigil(['-t', '-f', path.join(d, 'missing.conf')]);
  t.is(m.code, 0, m.stderr);
  t.regex(m.stderr, /missing\.conf:1:13: warning: vrrp_script s: script \/nonexistent\/check\.sh cannot be accessed: ENOENT; disabled, not tracked, as keepalived does/);
  t.notRegex(m.stderr, /SECURITY VIOLATION/);
  const i = vigil(['-t', '-f', path.join(d, 'insecure.conf')]);
  t.is(i.code, 0, i.stderr);
  t.regex(i.stderr, /insecure\.conf:1:13: warning: scripts are run but enable_script_security is not set .*SECURITY VIOLATION/);
  const s = vigil(['-t', '-f', path.join(d, 'secure.conf')]);
  t.is(s.code, 0, s.stderr);
  t.notRegex(s.stderr, /script/);
});

test('--dump-conf prints the resolved model as JSON; -i selects @ conditional lines', (t) => {
  const f = 'test/fixtures/config/good/keepalived-2.2-full.conf';
  const a = vigil(['--dump-conf', '-f', f, '-i', 'lb1']);
  t.is(a.code, 0, a.stderr);
  const ca = JSON.parse(a.stdout) as { vrrpInstances: Array<{ name: string; priority: number; initialState: string }>; files: string[] };
  t.deepEqual(ca.vrrpInstances.map((i) => [i.name, i.initialState, i.priority]), [
    ['VI_4', 'MASTER', 150],
    ['VI_6', 'BACKUP', 100],
  ]);
  t.is(ca.files.length, 3);
  const b = vigil(['--dump-conf', '-f', f, '--config-id=lb2']);
  const cb = JSON.parse(b.stdout) as typeof ca;
  t.deepEqual(cb.vrrpInstances.map((i) => [i.initialState, i.priority]), [
    ['BACKUP', 100],
    ['BACKUP', 100],
  ]);
  const bad = vigil(['--dump-conf', '-f', 'test/fixtures/config/broken/bad-values.conf']);
  t.is(bad.code, 1);
  t.is(bad.stdout, '');
  // keepalived: "VRID not valid" at the value, then the instance is dropped for having none
  t.regex(bad.stderr, /bad-values\.conf:8:23: warning: VI_1: virtual_router_id `300` is not in 1\.\.255; ignored/);
  t.regex(bad.stderr, /bad-values\.conf:5:15: error: vrrp_instance VI_1 has no valid `virtual_router_id`/);
});

test('the default config id is the short host name', (t) => {
  const host = os.hostname().split('.')[0] as string;
  const d = tmp(t, { 'c.conf': `@${host} global_defs {\n@${host}  router_id matched\n@${host} }\n` });
  const r = vigil(['--dump-conf', '-f', path.join(d, 'c.conf')]);
  t.is(r.code, 0, r.stderr);
  t.is((JSON.parse(r.stdout) as { globalDefs: { routerId?: string } }).globalDefs.routerId, 'matched');
});

test('-t does not load the daemon, checker or control modules', (t) => {
  const r = modulesResolved(['src/cli/main.ts', '-t', '-f', 'conf/keepalived.conf']);
  t.is(r.status, 0, r.stderr);
  const loaded = r.urls.filter((u) => u.includes('/src/'));
  t.true(loaded.some((l) => l.includes('/src/config/load.ts')), r.stderr);
  // -t asks the kernel for the namespace's interfaces (rtnetlink) and checks scripts as the
  // daemon would (script-security.ts); nothing else of the daemon.
  const allowed = ['/src/supervisor/options.ts', '/src/supervisor/script-security.ts'];
  t.false(loaded.some((l) => /\/src\/(supervisor|check|vrrp|lvs)\//.test(l) && !allowed.some((a) => l.includes(a))), loaded.join('\n'));
  t.false(loaded.some((l) => /\/src\/netlink\/ipvs\//.test(l)), loaded.join('\n'));
});

test('-v, -h, unknown options and option values', (t) => {
  const v = vigil(['-v']);
  t.is(v.code, 0);
  t.regex(v.stdout, /^vigil \d+\.\d+\.\d+ /);
  const h = vigil(['--help']);
  t.is(h.code, 0);
  t.regex(h.stdout, /--config-test/);
  const u = vigil(['--frobnicate']);
  t.is(u.code, 1);
  t.regex(u.stderr, /unknown option `--frobnicate`/);
  const m = vigil(['-f']);
  t.is(m.code, 1);
  t.regex(m.stderr, /option `-f` needs a value/);
  const lv = vigil(['--log-level', 'loud', '-f', 'conf/keepalived.conf']);
  t.is(lv.code, 1);
  t.regex(lv.stderr, /--log-level: `loud`/);
  const pc = vigil(['-P', '-C']);
  t.is(pc.code, 1);
  t.regex(pc.stderr, /exclude each other/);
});

test('keepalived flags vigil does not implement say so on stderr and are not fatal', (t) => {
  // The bench harness's keepalived command line, in -t mode so nothing starts.
  const r = vigil(['-n', '-l', '-D', '-G', '-P', '-t', '-f', 'conf/keepalived.conf', '-p', '/tmp/x.pid', '-r', '/tmp/v.pid', '-c', '/tmp/c.pid', '-b', '/tmp/b.pid', '-X']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /^vigil: -G\/--no-syslog: /m);
  t.regex(r.stderr, /^vigil: -r\/--vrrp_pid: .*ignored$/m);
  t.regex(r.stderr, /^vigil: -c\/--checkers_pid: .*ignored$/m);
  t.regex(r.stderr, /^vigil: -b\/--bfd_pid: .*ignored$/m);
  t.regex(r.stderr, /^vigil: -X\/--release-vips: not implemented yet in vigil; ignored$/m);
  const bundled = vigil(['-nlDt', '-fconf/keepalived.conf', '--snmp']);
  t.is(bundled.code, 0, bundled.stderr);
  t.regex(bundled.stderr, /^vigil: -x\/--snmp: /m);
});

test('`vigil status` reaches the control client (a missing socket is a failure, not a crash)', (t) => {
  const d = tmp(t, {});
  const r = vigil(['status', '--control-socket', path.join(d, 'absent.sock')]);
  t.not(r.code, 0);
  t.not(r.code, null);
  t.true(r.stderr.length > 0);
  t.notRegex(r.stderr, /at .*\(.*:\d+:\d+\)/, 'no stack trace');
});
