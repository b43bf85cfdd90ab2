/**
 * The daemon as an operator runs it, in namespaces built here: notify scripts with
 * keepalived's arguments, sd_notify, SIGHUP reloads (added VIP, refused broken file,
 * removed instance, 20 reloads without an advert gap), vrrp_script and track_interface
 * tracking, a hung script killed with its process group, `vigil status`, SIGTERM.
 */
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nsExec, requireRoot, waitFor } from '../../helpers/netns.ts';
import { controlRequest } from '../../../src/supervisor/control-client.ts';
import { globalDefs, hasAddress, instanceBlock, outputOf, repoRoot, RouterDir, routerLab, startVigil, threadScheduling, waitAddress, waitReady, type Router, type RouterLab } from '../../helpers/routers.ts';

const VIP = '10.79.0.100';
const VIP2 = '10.79.0.101';

function build(t: ExecutionContext): RouterLab {
  return routerLab(t, 'vdm', 79, { macs: false });
}

function script(dir: RouterDir, name: string, body: string): string {
  const p = dir.file(name, `#!/bin/bash\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

/** A datagram socket standing where systemd's NOTIFY_SOCKET would be (python3, as in the sd-notify tests). */
function notifyListener(path: string): { messages: string[]; proc: ChildProcess } {
  const helper = join(repoRoot, 'test/integration/supervisor/fixtures/dgram-listen.py');
  const proc = spawn('python3', [helper, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[] = [];
  let buf = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line !== 'ready') messages.push(JSON.parse(line) as string);
    }
  });
  return { messages, proc };
}

function logLines(r: Router): Array<Record<string, unknown>> {
  return outputOf(r)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function vigilCli(ns: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test.serial('notify scripts, sd_notify, SIGHUP reloads (VIP added without a flap, broken file refused, instance removed), vigil status, SIGTERM', async (t) => {
  if (!requireRoot(t)) return;
  const p = build(t);
  const notifyLog = join(p.dir.dir, 'notify.log');
  const notify = script(p.dir, 'notify.sh', `echo "$@" >> ${notifyLog}`);
  const sdPath = join(p.dir.dir, 'sd.sock');
  const sd = notifyListener(sdPath);
  t.teardown(() => sd.proc.kill('SIGKILL'));
  await waitFor('notify socket', () => existsSync(sdPath), 5000);

  const vi1 = (vips: string): string =>
    instanceBlock({
      name: 'VI_1',
      state: 'MASTER',
      priority: 150,
      vip: vips,
      advertInt: '0.1',
      version: 3,
      extra: `    notify "${notify}"\n    notify_master "${notify} master-only"`,
    });
  const vi2 = instanceBlock({ name: 'VI_2', state: 'MASTER', priority: 150, vrid: 52, vip: '10.79.0.150/24', advertInt: '0.1', version: 3 });
  const conf = p.dir.file('r1.conf', globalDefs('r1') + vi1(`${VIP}/24`) + vi2);
  // NOTIFY_SOCKET reaches the daemon through the environment of `ip netns exec`.
  const withSd = p.lab.spawnIn(
    p.r1,
    [process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), '-n', '-f', conf, '-p', join(p.dir.dir, 'sd.pid'), '--control-socket', join(p.dir.dir, 'sd.ctl')],
    { cwd: repoRoot, env: { ...process.env, NOTIFY_SOCKET: sdPath } },
  );
  const out: string[] = [];
  withSd.stdout!.setEncoding('utf8').on('data', (d: string) => out.push(d));
  withSd.stderr!.setEncoding('utf8').on('data', (d: string) => out.push(d));
  const exited = new Promise<number | null>((res) => withSd.on('exit', (code) => res(code)));
  const d: Router = { name: 'r1', ns: p.r1, kind: 'vigil', proc: withSd, output: out, exited: exited.then((code) => ({ code, signal: null })) };
  try {
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    await waitFor('READY=1', () => sd.messages.some((m) => m.startsWith('READY=1')), 5000);
    // notify_master and the generic notify run side by side: either may finish first
    const bothRan = (): boolean => {
      const log = existsSync(notifyLog) ? readFileSync(notifyLog, 'utf8') : '';
      return /master-only/.test(log) && /^INSTANCE VI_1 MASTER 150$/m.test(log);
    };
    await waitFor('notify scripts', bothRan, 5000).catch(() => undefined);
    t.regex(readFileSync(notifyLog, 'utf8'), /master-only/);
    t.regex(readFileSync(notifyLog, 'utf8'), /^INSTANCE VI_1 MASTER 150$/m);

    // vigil status over the control socket
    const st = vigilCli(p.r1, ['status', '--control-socket', join(p.dir.dir, 'sd.ctl')]);
    t.is(st.status, 0, st.stderr);
    t.regex(st.stdout, /VI_1/);
    t.regex(st.stdout, /MASTER/);

    // Reload adding a VIP: VI_1's first VIP is never removed (no flap), the new one appears.
    const mon = p.lab.spawnIn(p.r1, ['ip', '-o', 'monitor', 'address']);
    const monOut: string[] = [];
    mon.stdout!.setEncoding('utf8').on('data', (x: string) => monOut.push(x));
    await new Promise((res) => setTimeout(res, 300));
    writeFileSync(conf, globalDefs('r1') + vi1(`${VIP}/24\n        ${VIP2}/24`) + vi2);
    withSd.kill('SIGHUP');
    await waitAddress(p.r1, 'eth0', VIP2, true, 5000);
    await waitFor('RELOADING=1', () => sd.messages.some((m) => m.startsWith('RELOADING=1') && /MONOTONIC_USEC=\d+/.test(m)), 5000);
    await new Promise((res) => setTimeout(res, 300));
    t.false(monOut.join('').split('\n').some((l) => l.startsWith('Deleted') && l.includes(`${VIP}/`)), 'VIP flapped during reload');
    const transitionsBefore = logLines(d).filter((l) => l['event'] === 'vrrp.transition').length;

    // A broken file is refused and the old configuration keeps running.
    writeFileSync(conf, 'vrrp_instance VI_1 {\n    state MASTER\n    virtual_router_id 300\n');
    withSd.kill('SIGHUP');
    await waitFor('reload refused', () => logLines(d).some((l) => l['event'] === 'reload.refused'), 5000);
    t.true(hasAddress(p.r1, 'eth0', VIP));
    t.true(hasAddress(p.r1, 'eth0', VIP2));
    t.is(logLines(d).filter((l) => l['event'] === 'vrrp.transition').length, transitionsBefore);

    // Removing VI_2 stops it and removes its VIP; VI_1 is untouched.
    writeFileSync(conf, globalDefs('r1') + vi1(`${VIP}/24\n        ${VIP2}/24`));
    withSd.kill('SIGHUP');
    await waitAddress(p.r1, 'eth0', '10.79.0.150', false, 5000);
    t.true(hasAddress(p.r1, 'eth0', VIP));

    // SIGTERM: STOPPING=1, notify STOP, VIPs removed, exit 0.
    withSd.kill('SIGTERM');
    t.is(await exited, 0);
    t.false(hasAddress(p.r1, 'eth0', VIP));
    t.false(hasAddress(p.r1, 'eth0', VIP2));
    t.true(sd.messages.some((m) => m.startsWith('STOPPING=1')));
    await waitFor('notify STOP', () => /^INSTANCE VI_1 STOP \d+$/m.test(readFileSync(notifyLog, 'utf8')), 3000);
    mon.kill('SIGKILL');
  } catch (e) {
    t.log(outputOf(d));
    throw e;
  }
});

test.serial('vrrp_script weights move the VIP to the peer and back; a weight-0 script failure is FAULT', async (t) => {
  if (!requireRoot(t)) return;
  const p = build(t);
  const flag = join(p.dir.dir, 'service-ok');
  const hard = join(p.dir.dir, 'hard-ok');
  writeFileSync(flag, '');
  writeFileSync(hard, '');
  const scripts = `vrrp_script chk_service {\n    script "/usr/bin/test -f ${flag}"\n    interval 1\n    weight -60\n    fall 1\n    rise 1\n}\nvrrp_script chk_hard {\n    script "/usr/bin/test -f ${hard}"\n    interval 1\n    fall 1\n    rise 1\n}\n`;
  const track = '    track_script {\n        chk_service\n        chk_hard\n    }';
  const c1 = p.dir.file('r1.conf', globalDefs('r1') + scripts + instanceBlock({ state: 'MASTER', priority: 150, vip: `${VIP}/24`, advertInt: '0.1', version: 3, extra: track }));
  const c2 = p.dir.file('r2.conf', globalDefs('r2') + instanceBlock({ state: 'BACKUP', priority: 100, vip: `${VIP}/24`, advertInt: '0.1', version: 3 }));
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', c1);
  const b = startVigil(p.lab, p.r2, p.dir, 'r2', c2);
  try {
    await waitReady(a, b);
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    // r2 may have been master until r1's first advert: wait for the steady state
    await waitAddress(p.r2, 'eth0', VIP, false, 5000);
    rmSync(flag); // 150 - 60 = 90 < 100: r2 preempts
    await waitAddress(p.r2, 'eth0', VIP, true, 8000);
    await waitAddress(p.r1, 'eth0', VIP, false, 3000);
    writeFileSync(flag, ''); // back to 150: r1 preempts
    await waitAddress(p.r1, 'eth0', VIP, true, 8000);
    await waitAddress(p.r2, 'eth0', VIP, false, 5000);
    rmSync(hard); // weight 0: FAULT
    await waitAddress(p.r2, 'eth0', VIP, true, 8000);
    await waitFor('r1 in FAULT', () => logLines(a).some((l) => l['event'] === 'vrrp.transition' && l['to'] === 'FAULT'), 3000);
    t.false(hasAddress(p.r1, 'eth0', VIP));
  } catch (e) {
    t.log(outputOf(a));
    t.log(outputOf(b));
    throw e;
  }
});

test.serial('track_interface: the tracked link going down is FAULT, coming back is BACKUP/MASTER again', async (t) => {
  if (!requireRoot(t)) return;
  const p = build(t);
  // a veth pair inside r1 stands for the tracked uplink (this kernel has no dummy module)
  nsExec(p.r1, ['ip', 'link', 'add', 'trk0', 'type', 'veth', 'peer', 'name', 'trk1']);
  nsExec(p.r1, ['ip', 'link', 'set', 'trk1', 'up']);
  nsExec(p.r1, ['ip', 'link', 'set', 'trk0', 'up']);
  const c1 = p.dir.file(
    'r1.conf',
    globalDefs('r1') + instanceBlock({ state: 'MASTER', priority: 150, vip: `${VIP}/24`, advertInt: '0.1', version: 3, extra: '    track_interface {\n        trk0\n    }' }),
  );
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', c1);
  try {
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    nsExec(p.r1, ['ip', 'link', 'set', 'trk0', 'down']);
    await waitAddress(p.r1, 'eth0', VIP, false, 3000);
    nsExec(p.r1, ['ip', 'link', 'set', 'trk0', 'up']);
    await waitAddress(p.r1, 'eth0', VIP, true, 5000);
    t.pass();
  } catch (e) {
    t.log(outputOf(a));
    throw e;
  }
});

test.serial('a hung vrrp_script is killed at its timeout with its process group, and counts as a failure', async (t) => {
  if (!requireRoot(t)) return;
  const p = build(t);
  const marker = `vigil-hung-${process.pid}`;
  const hung = script(p.dir, 'hung.sh', `sleep 1000 &\nexec -a ${marker} sleep 1000`);
  const c1 = p.dir.file(
    'r1.conf',
    globalDefs('r1') +
      `vrrp_script chk_hung {\n    script "${hung}"\n    interval 10\n    timeout 1\n}\n` +
      instanceBlock({ state: 'MASTER', priority: 150, vip: `${VIP}/24`, advertInt: '0.1', version: 3, extra: '    track_script {\n        chk_hung\n    }' }),
  );
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', c1);
  try {
    await waitFor('the script failing', () => logLines(a).some((l) => l['event'] === 'script.result' && l['to'] === 'failed'), 15_000);
    const left = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' }).stdout.trim();
    t.is(left, '', 'the hung script survived its timeout');
    const sleeps = nsExec(p.r1, ['ip', 'netns', 'pids', p.r1]).split(/\s+/).filter(Boolean);
    const orphans = sleeps.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\u00001000');
      } catch {
        return false;
      }
    });
    t.deepEqual(orphans, [], 'the script\'s background child survived');
    t.false(hasAddress(p.r1, 'eth0', VIP), 'a failed weight-0 script must put the instance in FAULT');
  } catch (e) {
    t.log(outputOf(a));
    throw e;
  }
});

test.serial('20 SIGHUP reloads in a row: no transition and no advert gap on the unchanged instance', async (t) => {
  if (!requireRoot(t)) return;
  const p = build(t);
  const conf = (prio: number, state: 'MASTER' | 'BACKUP', extraVip = ''): string =>
    globalDefs(`r${prio}`) + instanceBlock({ state, priority: prio, vip: `${VIP}/24${extraVip}`, advertInt: '0.1', version: 3 });
  const c1 = p.dir.file('r1.conf', conf(150, 'MASTER'));
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', c1);
  const b = startVigil(p.lab, p.r2, p.dir, 'r2', p.dir.file('r2.conf', conf(100, 'BACKUP')));
  try {
    await waitReady(a, b);
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    await new Promise((res) => setTimeout(res, 500));
    const dump = p.lab.spawnIn(p.c, ['tcpdump', '-i', 'eth0', '-n', '-tt', '-l', 'ip proto 112']);
    const lines: string[] = [];
    dump.stdout!.setEncoding('utf8').on('data', (x: string) => lines.push(x));
    await new Promise((res) => setTimeout(res, 1000));
    for (let i = 0; i < 20; i++) {
      // alternate between two equivalent files so every reload has something to read
      writeFileSync(c1, conf(150, 'MASTER') + `# reload ${i}\n`);
      a.proc.kill('SIGHUP');
      await new Promise((res) => setTimeout(res, 150));
    }
    await new Promise((res) => setTimeout(res, 1000));
    dump.kill('SIGTERM');
    const times = lines
      .join('')
      .split('\n')
      .filter((l) => l.includes('10.79.0.1 >'))
      .map((l) => Number(l.split(' ')[0]));
    t.true(times.length > 30, `only ${times.length} adverts captured`);
    const gaps = times.slice(1).map((x, i) => (x - times[i]!) * 1000);
    const maxGap = Math.max(...gaps);
    t.log(`adverts: ${times.length}, max gap ${maxGap.toFixed(1)} ms over 20 reloads`);
    // A gap of a whole advert interval would mean a missed advert; the bench measures the fine grain.
    t.true(maxGap < 190, `advert gap of ${maxGap} ms`);
    const reloads = logLines(a).filter((l) => l['event'] === 'reload.done').length;
    t.is(reloads, 20);
    t.is(logLines(a).filter((l) => l['event'] === 'vrrp.transition' && l['from'] === 'MASTER').length, 0);
    t.false(hasAddress(p.r2, 'eth0', VIP));
  } catch (e) {
    t.log(outputOf(a));
    t.log(outputOf(b));
    throw e;
  }
});

test.serial('the VRRP worker killed on purpose: the node gives up its VIP at once, the peer takes over, the worker restarts and the node converges again', async (t) => {
  if (!requireRoot(t)) return;
  const p = build(t);
  const conf = (prio: number, state: 'MASTER' | 'BACKUP'): string =>
    globalDefs(`r${prio}`) + instanceBlock({ state, priority: prio, vip: `${VIP}/24`, advertInt: '0.1', version: 3 });
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf(150, 'MASTER')));
  const b = startVigil(p.lab, p.r2, p.dir, 'r2', p.dir.file('r2.conf', conf(100, 'BACKUP')));
  try {
    await waitReady(a, b);
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    const res = await controlRequest('restart-vrrp-worker', join(p.dir.dir, 'r1.sock'));
    t.true(res.ok);
    await waitAddress(p.r1, 'eth0', VIP, false, 2000);
    await waitAddress(p.r2, 'eth0', VIP, true, 3000);
    // restarted worker: back to BACKUP, then preempts with its higher priority
    await waitAddress(p.r1, 'eth0', VIP, true, 10_000);
    await waitAddress(p.r2, 'eth0', VIP, false, 3000);
    t.true(logLines(a).some((l) => l['event'] === 'worker.restart'));
    t.is(a.proc.exitCode, null);
  } catch (e) {
    t.log(outputOf(a));
    t.log(outputOf(b));
    throw e;
  }
});

test.serial('mail alerts: a transition sends mail from notification_email_from to every notification_email over smtp_server', async (t) => {
  if (!requireRoot(t)) return;
  const p = build(t);
  const sink = p.lab.spawnIn(p.r1, [process.execPath, '--import', 'tsx', join(repoRoot, 'test/system/supervisor/fixtures/smtp-sink.ts'), '127.0.0.1', '2525'], { cwd: repoRoot });
  const mails: Array<{ from: string; to: string[]; subject: string; body: string; helo: string }> = [];
  let ready = false;
  let buf = '';
  sink.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === 'ready') ready = true;
      else mails.push(JSON.parse(line) as (typeof mails)[number]);
    }
  });
  await waitFor('smtp sink', () => ready, 15_000);
  const g = globalDefs(
    'mailer1',
    '    notification_email {\n        ops@example.test\n        oncall@example.test\n    }\n    notification_email_from vigil@example.test\n    smtp_server 127.0.0.1 2525\n    smtp_connect_timeout 5\n    smtp_helo_name vigil-test\n',
  );
  const conf = p.dir.file('r1.conf', g + instanceBlock({ state: 'MASTER', priority: 150, vip: `${VIP}/24`, advertInt: '0.1', version: 3, extra: '    smtp_alert' }));
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', conf);
  try {
    await waitFor('a MASTER mail', () => mails.some((m) => /Entering MASTER state/.test(m.subject)), 15_000);
    const m = mails.find((x) => /Entering MASTER state/.test(x.subject))!;
    t.is(m.from, 'vigil@example.test');
    t.deepEqual([...m.to].sort(), ['oncall@example.test', 'ops@example.test']);
    t.regex(m.subject, /\[mailer1\] VRRP Instance VI_1 - Entering MASTER state/);
    t.is(m.helo, 'vigil-test');
  } catch (e) {
    t.log(outputOf(a));
    throw e;
  }
});

test.serial('enable_script_security: a vrrp_script in a world-writable directory is refused and disabled, not run', async (t) => {
  if (!requireRoot(t)) return;
  const p = build(t);
  const open = join(p.dir.dir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  const ran = join(p.dir.dir, 'ran');
  const unsafe = join(open, 'chk.sh');
  writeFileSync(unsafe, `#!/bin/bash\ntouch ${ran}\nexit 1\n`, { mode: 0o755 });
  const c1 = p.dir.file(
    'r1.conf',
    globalDefs('r1', '    enable_script_security\n') +
      `vrrp_script chk_unsafe {\n    script "${unsafe}"\n    interval 1\n}\n` +
      instanceBlock({ state: 'MASTER', priority: 150, vip: `${VIP}/24`, advertInt: '0.1', version: 3, extra: '    track_script {\n        chk_unsafe\n    }' }),
  );
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', c1);
  try {
    // disabled, so it neither runs nor holds the instance in FAULT
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    await new Promise((res) => setTimeout(res, 2500));
    t.false(existsSync(ran), 'the refused script ran');
    t.true(logLines(a).some((l) => l['event'] === 'script.insecure' && l['status'] === 'refused'));
    t.true(hasAddress(p.r1, 'eth0', VIP));
  } catch (e) {
    t.log(outputOf(a));
    throw e;
  }
});

test.serial('global_defs vrrp_rt_priority puts the VRRP threads under SCHED_RR at that priority; other threads stay normal', async (t) => {
  if (!requireRoot(t)) return;
  const p = build(t);
  const conf = p.dir.file(
    'r1.conf',
    globalDefs('r1', '    vrrp_rt_priority 42\n') + instanceBlock({ state: 'MASTER', priority: 150, vip: `${VIP}/24`, advertInt: '0.1', version: 3 }),
  );
  const a = startVigil(p.lab, p.r1, p.dir, 'r1', conf);
  try {
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    const pid = a.proc.pid!;
    const threads = threadScheduling(pid);
    const rt = threads.filter((x) => x.policy === 2);
    // the VRRP worker (it reads its own sockets); under tsx also the module-hooks thread it
    // starts before it takes its own priority, at the start-up's (1)
    t.true(rt.filter((x) => x.rtPriority === 42).length === 1, `SCHED_RR threads: ${JSON.stringify(rt)}`);
    t.true(rt.length <= (process.env['VIGIL_TEST_DIST'] === '1' ? 1 : 2), `SCHED_RR threads: ${JSON.stringify(rt)}`);
    t.true(rt.every((x) => x.rtPriority === 42 || x.rtPriority === 1), `SCHED_RR threads: ${JSON.stringify(rt)}`);
    t.true(threads.some((x) => x.tid === pid && x.policy === 0), 'the main thread must stay SCHED_OTHER');
    t.false(outputOf(a).includes('vrrp.priority-failed'));
  } catch (e) {
    t.log(outputOf(a));
    throw e;
  }
});
