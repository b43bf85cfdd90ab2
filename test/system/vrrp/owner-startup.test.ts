/**
 * The address owner's start-up, against Debian's keepalived 2.2.7 side by side: with
 * `priority 255` and `state BACKUP` both start in BACKUP and take over when the master-down
 * interval (3 × advert_int) passes; with `state MASTER` vigil takes over at once.
 */
import test from 'ava';
import { requireRoot, waitFor } from '../../helpers/netns.ts';
import { globalDefs, instanceBlock, outputOf, routerLab, startKeepalived, startVigil, waitAddress } from '../../helpers/routers.ts';

interface Line {
  event?: string;
  to?: string;
  time?: string;
}
const lines = (text: string): Line[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);

test.serial('priority 255 with state BACKUP: BACKUP first, MASTER after the master-down interval, in vigil as in keepalived', async (t) => {
  if (!requireRoot(t)) return;
  const p = routerLab(t, 'vos', 87);
  const vigilConf = globalDefs('v') + instanceBlock({ state: 'BACKUP', priority: 255, vrid: 71, vip: '10.87.0.100/24', advertInt: '1' });
  const kaConf = globalDefs('k') + instanceBlock({ state: 'BACKUP', priority: 255, vrid: 72, vip: '10.87.0.200/24', advertInt: '1' });
  const k = startKeepalived(p.lab, p.r2, p.dir, 'k', p.dir.file('k.conf', kaConf));
  const v = startVigil(p.lab, p.r1, p.dir, 'v', p.dir.file('v.conf', vigilConf));
  try {
    await waitAddress(p.r1, 'eth0', '10.87.0.100', true, 20_000);
    await waitAddress(p.r2, 'eth0', '10.87.0.200', true, 20_000);
    // the addresses go in before the transition is logged
    await waitFor('vigil MASTER logged', () => outputOf(v).includes('"to":"MASTER"'), 5000, 20);
    const ev = lines(outputOf(v)).filter((l) => l.event === 'vrrp.transition');
    t.deepEqual(ev.map((l) => l.to), ['BACKUP', 'MASTER']);
    // The wait counts from exec (start-up anchor, Router startDownMs): MASTER at 3 × 1 s + skew
    // after exec, or, after a slow start, at least 3 s + skew − 1 s after the instance started.
    const started = lines(outputOf(v)).find((l) => l.event === 'daemon.start') as { time?: string; sinceExecMs?: number } | undefined;
    const exec = Date.parse(started!.time!) - started!.sinceExecMs!;
    const since = Number(/start (\d+) ms after exec/.exec(String((ev[0] as { reason?: unknown }).reason))?.[1]);
    const masterAfterExec = Date.parse(ev[1]!.time!) - exec;
    const expected = Math.max(3004, since + 2004);
    t.log(`vigil: instance started ${since} ms after exec, MASTER ${masterAfterExec} ms after exec (expected ${expected})`);
    t.true(masterAfterExec >= expected - 100 && masterAfterExec <= expected + 600, `${masterAfterExec} ms`);
    // keepalived logs whole seconds: "Entering BACKUP STATE (init)" then, ~3 s later, "Entering MASTER STATE"
    await waitFor('keepalived MASTER', () => outputOf(k).includes('Entering MASTER STATE'), 5000, 50);
    const kaText = outputOf(k);
    const at = (what: string): number => {
      const line = kaText.split('\n').find((l) => l.includes(what)) ?? '';
      const m = /(\d\d):(\d\d):(\d\d)/.exec(line);
      return m ? (Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3]) : NaN;
    };
    const kaWait = at('Entering MASTER STATE') - at('Entering BACKUP STATE');
    t.log(`keepalived: BACKUP -> MASTER after ${kaWait} s`);
    t.true(kaWait >= 2 && kaWait <= 4, `${kaWait} s`);
  } catch (e) {
    t.log(outputOf(v));
    t.log(outputOf(k));
    throw e;
  } finally {
    v.proc.kill('SIGTERM');
    k.proc.kill('SIGTERM');
    await Promise.all([v.exited, k.exited]);
  }
});

test.serial('priority 255 with state MASTER: vigil takes over at once', async (t) => {
  if (!requireRoot(t)) return;
  const p = routerLab(t, 'vos', 88);
  const v = startVigil(p.lab, p.r1, p.dir, 'v', p.dir.file('v.conf', globalDefs('v') + instanceBlock({ state: 'MASTER', priority: 255, vrid: 73, vip: '10.88.0.100/24', advertInt: '1' })));
  try {
    await waitAddress(p.r1, 'eth0', '10.88.0.100', true, 20_000);
    await waitFor('vigil MASTER logged', () => outputOf(v).includes('"to":"MASTER"'), 5000, 20);
    t.deepEqual(
      lines(outputOf(v))
        .filter((l) => l.event === 'vrrp.transition')
        .map((l) => l.to),
      ['MASTER'],
    );
  } finally {
    v.proc.kill('SIGTERM');
    await v.exited;
  }
});
