import test from 'ava';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { ScriptCommand } from '../../../src/config/model.ts';
import { createNotifier, createScriptPreparer } from '../../../src/supervisor/notify.ts';
import { requireRoot } from '../../helpers/netns.ts';

const loc = { file: 'k.conf', line: 1, col: 1 };

function lab(t: { teardown(fn: () => void): void }): { dir: string; out: string; script(name: string, body: string): ScriptCommand } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-notify-'));
  chmodSync(dir, 0o755);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'out.log');
  return {
    dir,
    out,
    script(name, body) {
      const p = join(dir, name);
      writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      return { raw: p, argv: [p], loc };
    },
  };
}

/** The process is gone, or dead and waiting for its new parent (pid 1) to reap it. */
async function goneOrZombie(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/^\d+ \(.*\) Z /.test(stat)) return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : [];
}

function logSink(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const got: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(c: Buffer, _e, cb) {
      for (const l of c.toString().split('\n')) if (l !== '') got.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({}, stream), lines: got };
}

test('real scripts: transition order per instance, keepalived arguments, a slow instance never delays another', async (t) => {
  const l = lab(t);
  const slowMaster = l.script('master1.sh', `sleep 1; echo "VI_1 master $*" >> ${l.out}`);
  const backup1 = l.script('backup1.sh', `echo "VI_1 backup $*" >> ${l.out}`);
  const generic = l.script('notify.sh', `echo "generic $*" >> ${l.out}`);
  const master2 = l.script('master2.sh', `echo "VI_2 master" >> ${l.out}`);
  const n = createNotifier({ globals: {}, prepare: createScriptPreparer({ enableScriptSecurity: false }) });
  n.vrrpInstance({ name: 'VI_1', notifyMaster: slowMaster, notifyBackup: backup1, notify: generic }, 'MASTER', 150);
  n.vrrpInstance({ name: 'VI_1', notifyMaster: slowMaster, notifyBackup: backup1, notify: generic }, 'BACKUP', 100);
  n.vrrpInstance({ name: 'VI_2', notifyMaster: master2 }, 'MASTER', 100);
  n.vrrpGroup({ name: 'G1', notify: generic }, 'FAULT');
  await n.idle();
  const got = lines(l.out);
  t.is(got.length, 6);
  const at = (s: string): number => got.indexOf(s);
  t.true(at('VI_2 master') < at('VI_1 master '), 'VI_2 was not held behind VI_1\'s slow script');
  t.true(at('VI_1 master ') < at('VI_1 backup '), 'MASTER scripts before BACKUP scripts');
  t.true(at('generic INSTANCE VI_1 MASTER 150') < at('generic INSTANCE VI_1 BACKUP 100'));
  t.true(at('generic INSTANCE VI_1 BACKUP 100') >= 0);
  t.true(at('generic GROUP G1 FAULT 0') >= 0);
  t.is(n.stats.scripts, 6);
});

test('a hung notify script is killed at its deadline (process group gone) and the queue moves on', async (t) => {
  const l = lab(t);
  const pidFile = join(l.dir, 'pids');
  const hung = l.script('hung.sh', `sleep 300 & echo $! > ${pidFile}; wait`);
  const after = l.script('after.sh', `echo after >> ${l.out}`);
  const { log, lines: logs } = logSink();
  const n = createNotifier({ globals: {}, prepare: createScriptPreparer({ enableScriptSecurity: false }), timeoutMs: 300, log });
  n.vrrpInstance({ name: 'VI_1', notifyFault: hung }, 'FAULT', 100);
  n.vrrpInstance({ name: 'VI_1', notifyBackup: after }, 'BACKUP', 100);
  await n.idle();
  t.deepEqual(lines(l.out), ['after']);
  const grandchild = Number(readFileSync(pidFile, 'utf8'));
  t.true(await goneOrZombie(grandchild), `grandchild ${grandchild} still running`);
  const failed = logs.find((x) => x['event'] === 'notify.failed');
  t.like(failed, { result: 'timeout', script: 'notify_fault', subject: 'instance:VI_1' });
  t.is(n.stats.failed, 1);
});

test('STOP scripts get the short stop deadline (keepalived: 1 s at shutdown)', async (t) => {
  const l = lab(t);
  const stop = l.script('stop.sh', 'sleep 30');
  const outcomes: string[] = [];
  const n = createNotifier({ globals: {}, prepare: createScriptPreparer({ enableScriptSecurity: false }), stopTimeoutMs: 200, onResult: (o) => outcomes.push(o) });
  n.vrrpInstance({ name: 'VI_1', notifyStop: stop }, 'STOP', 0);
  await n.idle();
  t.deepEqual(outcomes, ['timeout']);
});

test('notify FIFO: a reader gets keepalived\'s lines; with no reader nothing blocks and overflow is counted', async (t) => {
  const l = lab(t);
  const fifo = join(l.dir, 'notify.fifo');
  const lvsFifo = join(l.dir, 'lvs.fifo');
  const n = createNotifier({ globals: { notifyFifo: fifo, lvsNotifyFifo: lvsFifo }, prepare: async () => undefined });
  t.teardown(() => n.close());
  const reader = spawn('head', ['-n', '4', fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  reader.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
  n.vrrpInstance({ name: 'VI_1' }, 'MASTER', 150);
  n.vrrpGroup({ name: 'G1' }, 'BACKUP');
  n.realServer('[10.0.0.1]:tcp:80', '[10.0.1.1]:tcp:80', {}, false);
  n.quorum('[10.0.0.1]:tcp:80', {}, true);
  await new Promise((r) => reader.on('close', r));
  t.is(text, 'INSTANCE "VI_1" MASTER 150\nGROUP "G1" BACKUP 0\nRS [10.0.1.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN\nVS [10.0.0.1]:tcp:80 UP\n');
  // the lvs-only FIFO got only the LVS lines
  t.is(n.stats.fifoLines, 6);

  // nobody reads any more: the FIFO fills (64 KiB) and further lines are dropped, never blocking
  for (let i = 0; i < 5000; i++) n.vrrpInstance({ name: 'VI_1' }, 'BACKUP', 100);
  t.true(n.stats.fifoDropped > 0);
  t.is(n.stats.fifoLines + n.stats.fifoDropped, 5006);
});

test('a regular file planted at the FIFO path is not used', (t) => {
  const l = lab(t);
  const planted = join(l.dir, 'planted');
  writeFileSync(planted, '');
  const { log, lines: logs } = logSink();
  const n = createNotifier({ globals: { notifyFifo: planted }, prepare: async () => undefined, log });
  n.vrrpInstance({ name: 'VI_1' }, 'MASTER', 150);
  n.close();
  t.is(readFileSync(planted, 'utf8'), '');
  t.true(logs.some((x) => x['event'] === 'notify.fifo_failed'));
});

test('script security: an unsafe notify script is refused under enable_script_security; `user` drops privileges', async (t) => {
  if (!requireRoot(t)) return t.pass();
  const l = lab(t);
  const open = join(l.dir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  const bad = join(open, 'bad.sh');
  writeFileSync(bad, `#!/bin/sh\necho ran >> ${l.out}\n`, { mode: 0o755 });
  const whoami = l.script('whoami.sh', `id -u >> ${l.out}`);
  // nobody appends to the output file
  writeFileSync(l.out, '', { mode: 0o666 });
  chmodSync(l.out, 0o666);
  const outcomes: string[] = [];
  const n = createNotifier({
    globals: {},
    prepare: createScriptPreparer({ enableScriptSecurity: true, scriptUser: { user: 'root' } }),
    onResult: (o) => outcomes.push(o),
  });
  n.vrrpInstance({ name: 'VI_1', notifyMaster: { raw: bad, argv: [bad], loc } }, 'MASTER', 100);
  n.vrrpInstance({ name: 'VI_2', notifyMaster: { ...whoami, user: 'nobody' } }, 'MASTER', 100);
  await n.idle();
  t.deepEqual(lines(l.out), ['65534']);
  t.deepEqual(outcomes.sort(), ['refused', 'success']);
});
