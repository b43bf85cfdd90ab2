/**
 * lvs_sync_daemon against a kernel with ip_vs (run inside ../shared/kernel-vm/run): the sync
 * daemons started and stopped through generic netlink, read back by our GET_DAEMON and by
 * ipvsadm (the independent witness), and LvsSync following an instance's transitions:
 * backup at start, master while MASTER, backup again after, none after stop.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { openSyncDaemons, type SyncDaemonControl } from '../../src/netlink/ipvs/sync-daemon.ts';
import { LvsSync } from '../../src/supervisor/lvs-sync.ts';
import { createLogger } from '../../src/supervisor/logger.ts';

let ctl: SyncDaemonControl;
const daemons = (): string => execFileSync('ipvsadm', ['-L', '--daemon'], { encoding: 'utf8' });

test.before(async () => {
  // an interface with multicast for the daemons (the VM has only lo)
  execFileSync('ip', ['link', 'add', 'sync0', 'type', 'veth', 'peer', 'name', 'sync1']);
  execFileSync('ip', ['link', 'set', 'sync0', 'up']);
  execFileSync('ip', ['link', 'set', 'sync1', 'up']);
  ctl = await openSyncDaemons(10_000);
});

test.after.always(async () => {
  await ctl?.stop('master').catch(() => undefined);
  await ctl?.stop('backup').catch(() => undefined);
  await ctl?.close();
});

test.serial('start, list and stop the master and backup daemons', async (t) => {
  await ctl.start({ state: 'master', ifname: 'sync0', syncId: 7, port: 8848, ttl: 2 });
  await ctl.start({ state: 'backup', ifname: 'sync1', syncId: 7 });
  const listed = (await ctl.list()).sort((a, b) => a.state.localeCompare(b.state));
  t.deepEqual(listed, [
    { state: 'backup', ifname: 'sync1', syncId: 7 },
    { state: 'master', ifname: 'sync0', syncId: 7 },
  ]);
  const text = daemons();
  t.regex(text, /master sync daemon \(mcast=sync0, syncid=7/);
  t.regex(text, /backup sync daemon \(mcast=sync1, syncid=7/);
  t.is(await ctl.stop('master'), 'stopped');
  t.is(await ctl.stop('master'), 'absent');
  t.is(await ctl.stop('backup'), 'stopped');
  t.deepEqual(await ctl.list(), []);
});

test.serial('LvsSync follows its instance: backup at start, master while MASTER, none after stop', async (t) => {
  const log = createLogger({ level: 'fatal', format: 'json' });
  const s = new LvsSync({ instance: 'VI_1', daemon: { ifname: 'sync0', syncId: 3 } }, log);
  await s.start();
  t.deepEqual(await ctl.list(), [{ state: 'backup', ifname: 'sync0', syncId: 3 }]);
  await s.onTransition('VI_2', 'MASTER');
  t.deepEqual(await ctl.list(), [{ state: 'backup', ifname: 'sync0', syncId: 3 }], 'another instance does not move it');
  await s.onTransition('VI_1', 'MASTER');
  t.deepEqual(await ctl.list(), [{ state: 'master', ifname: 'sync0', syncId: 3 }]);
  t.regex(daemons(), /master sync daemon \(mcast=sync0, syncid=3/);
  await s.onTransition('VI_1', 'BACKUP');
  t.deepEqual(await ctl.list(), [{ state: 'backup', ifname: 'sync0', syncId: 3 }]);
  await s.stop();
  t.deepEqual(await ctl.list(), []);
});
