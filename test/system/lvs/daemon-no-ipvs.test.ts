/**
 * The whole daemon on a kernel without IPVS (this host's): one clear `lvs.unavailable` error
 * at start, not a crash loop. VRRP keeps running (MASTER, VIP held), the HTTP_GET checkers
 * keep checking real HTTP servers in other namespaces, and their results show in status, in
 * the log (`check.down` / `check.up`) and through notify_down / notify_up; nothing is
 * programmed (no `lvs.applied`). A SIGHUP reload does not turn it into a second error and the
 * checks go on after it. SIGTERM still ends it with exit 0.
 *
 * Lab (prefix `vnv`, 10.86.0.0/24 on one bridge): r1 = director running vigil (.1, VIP .100),
 * r2 and c = real servers (.2, .10) running `python3 -m http.server 80`.
 *
 * On a host whose kernel does have IPVS the same scenario runs, and then the daemon must NOT
 * report `lvs.unavailable` (the kernel path itself is proven by `npm run test:kernel`).
 */
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nsExec, requireRoot, waitFor } from '../../helpers/netns.ts';
import { globalDefs, instanceBlock, outputOf, routerLab, startVigil, waitAddress, waitReady, type Router, type RouterDir } from '../../helpers/routers.ts';
import { controlRequest } from '../../../src/supervisor/control-client.ts';
import type { VigilStatus } from '../../../src/supervisor/dumps.ts';
import { openIpvs } from '../../../src/netlink/ipvs/client.ts';

const NET = 86;
const VIP = `10.${NET}.0.100`;
const VS = `10.${NET}.0.200`;
const RS_A = `10.${NET}.0.2`;
const RS_B = `10.${NET}.0.10`;
/** ms: generous bound for any check transition. Detection needs at most
 * delay_loop + connect_timeout × (retry+1) + delay_before_retry × retry = 1 + 2 + 1 = 4 s. */
const TRANSITION_MS = 30_000;

/** true when this kernel has no IPVS (the daemon must then say so once and carry on) */
async function kernelLacksIpvs(): Promise<boolean> {
  try {
    const ipvs = await openIpvs({ timeoutMs: 2000 });
    await ipvs.close();
    return false;
  } catch (e) {
    if ((e as { code?: string }).code === 'VIGIL_IPVS_UNAVAILABLE') return true;
    throw e;
  }
}

function logLines(r: Router): Array<Record<string, unknown>> {
  return outputOf(r)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function events(r: Router, event: string): Array<Record<string, unknown>> {
  return logLines(r).filter((l) => l['event'] === event);
}

/** check.* lines name the real server as `VS|RS`, e.g. `10.86.0.200:80/TCP|10.86.0.2:80` */
function isRs(line: Record<string, unknown>, address: string): boolean {
  return String(line['real_server']).endsWith(`|${address}:80`);
}

function webRoot(dir: RouterDir, name: string): string {
  const root = join(dir.dir, name);
  mkdirSync(root, { recursive: true });
  dir.file(`${name}/index.html`, `<html><body>${name}</body></html>\n`);
  return root;
}

function realServerBlock(address: string, tag: string, notify: string): string {
  return [
    `    real_server ${address} 80 {`,
    '        weight 1',
    `        notify_up "${notify} up ${tag}"`,
    `        notify_down "${notify} down ${tag}"`,
    '        HTTP_GET {',
    '            url {',
    '                path /index.html',
    '                status_code 200',
    '            }',
    '            connect_timeout 1',
    '            retry 1',
    '            delay_before_retry 1',
    '        }',
    '    }',
  ].join('\n');
}

async function status(sock: string): Promise<VigilStatus> {
  const res = await controlRequest('status', sock, 10_000);
  if (!res.ok) throw new Error(`status failed: ${res.error.code} ${res.error.message}`);
  return res.result as VigilStatus;
}

function rsUp(s: VigilStatus, address: string): boolean | undefined {
  return s.virtualServers[0]?.realServers.find((r) => r.name === `[${address}]:tcp:80`)?.up;
}

test.serial('no IPVS in the kernel: one lvs.unavailable, VRRP and checkers keep running, status/logs/notify follow the real servers', async (t) => {
  if (!requireRoot(t)) return t.pass();
  const noIpvs = await kernelLacksIpvs();
  t.log(noIpvs ? 'kernel has no IPVS (the case under test)' : 'kernel has IPVS: checking that vigil does not report it missing');

  const p = routerLab(t, 'vnv', NET, { macs: false });
  const notifyLog = join(p.dir.dir, 'notify.log');
  const notify = p.dir.file('notify.sh', `#!/bin/bash\necho "$@" >> ${notifyLog}\n`);
  chmodSync(notify, 0o755);
  const roots = { a: webRoot(p.dir, 'www-a'), b: webRoot(p.dir, 'www-b') };

  const serve = (ns: string, address: string, root: string): ChildProcess => {
    return p.lab.spawnIn(ns, ['python3', '-m', 'http.server', '80', '--bind', address, '--directory', root]);
  };
  const listening = (ns: string, address: string): boolean => nsExec(ns, ['ss', '-Hltn', `src ${address}:80`]).trim() !== '';
  let srvA = serve(p.r2, RS_A, roots.a);
  serve(p.c, RS_B, roots.b);
  await waitFor('http server A listening', () => listening(p.r2, RS_A), 15_000, 50);
  await waitFor('http server B listening', () => listening(p.c, RS_B), 15_000, 50);

  const conf = p.dir.file(
    'vigil.conf',
    globalDefs('vnv') +
      instanceBlock({ state: 'MASTER', priority: 150, vrid: 86, vip: `${VIP}/24`, advertInt: '0.1', version: 3 }) +
      [
        `virtual_server ${VS} 80 {`,
        '    delay_loop 1',
        '    lb_algo rr',
        '    lb_kind NAT',
        '    protocol TCP',
        // real servers start down: the first passing checks must bring them up (check.up, notify_up)
        '    alpha',
        realServerBlock(RS_A, 'rs-a', notify),
        realServerBlock(RS_B, 'rs-b', notify),
        '}',
        '',
      ].join('\n'),
  );
  const sock = join(p.dir.dir, 'r1.sock');
  const vigil = startVigil(p.lab, p.r1, p.dir, 'r1', conf);
  let exited = false;
  void vigil.exited.then(() => (exited = true));
  const notified = (): string[] => (existsSync(notifyLog) ? readFileSync(notifyLog, 'utf8').split('\n').filter(Boolean) : []);
  /** VRRP keeps running: still MASTER, never left it, and still sending adverts */
  let advertsSent = -1;
  const masterHolding = async (): Promise<void> => {
    const s = await status(sock);
    const vi = s.instances[0];
    t.is(vi?.state, 'MASTER', 'VRRP instance stays MASTER');
    t.is(vi?.becameMaster, 1, 'VRRP instance never left MASTER');
    t.true((vi?.advertsSent ?? -1) > advertsSent, `adverts still sent (${String(vi?.advertsSent)} > ${advertsSent})`);
    advertsSent = vi?.advertsSent ?? -1;
  };

  try {
    await waitReady(vigil);
    await waitAddress(p.r1, 'eth0', VIP, true, 15_000);
    await waitFor('VRRP instance MASTER in status', async () => (await status(sock)).instances[0]?.state === 'MASTER', 15_000, 100);

    // both real servers come up through their checks
    await waitFor(
      'both real servers up in status',
      async () => {
        const s = await status(sock);
        return rsUp(s, RS_A) === true && rsUp(s, RS_B) === true;
      },
      TRANSITION_MS,
      200,
    );
    await waitFor('notify_up for both', () => notified().includes('up rs-a') && notified().includes('up rs-b'), TRANSITION_MS, 100);
    t.true(events(vigil, 'check.up').some((l) => isRs(l, RS_A)), 'check.up logged for A');
    t.true(events(vigil, 'check.up').some((l) => isRs(l, RS_B)), 'check.up logged for B');
    await masterHolding();

    // server A dies: down in status, check.down logged, notify_down ran; B untouched
    process.kill(-srvA.pid!, 'SIGKILL');
    await waitFor('server A down in status', async () => rsUp(await status(sock), RS_A) === false, TRANSITION_MS, 200);
    await waitFor(
      'check.down logged for A',
      () => events(vigil, 'check.down').some((l) => isRs(l, RS_A)),
      5_000,
      50,
    );
    await waitFor('notify_down for A', () => notified().includes('down rs-a'), TRANSITION_MS, 100);
    t.true(rsUp(await status(sock), RS_B), 'server B stays up');
    t.false(notified().includes('down rs-b'), 'no notify_down for B');
    await masterHolding();

    // server A returns: up again, notify_up ran a second time for it
    srvA = serve(p.r2, RS_A, roots.a);
    await waitFor('http server A listening again', () => listening(p.r2, RS_A), 15_000, 50);
    await waitFor('server A up again in status', async () => rsUp(await status(sock), RS_A) === true, TRANSITION_MS, 200);
    await waitFor('second notify_up for A', () => notified().filter((l) => l === 'up rs-a').length === 2, TRANSITION_MS, 100);
    t.is(events(vigil, 'check.up').filter((l) => isRs(l, RS_A)).length, 2, 'A came up twice');
    t.deepEqual(
      notified().filter((l) => l.endsWith('rs-a')),
      ['up rs-a', 'down rs-a', 'up rs-a'],
      'notify scripts ran in order for A',
    );
    await masterHolding();
    t.true(await waitAddress(p.r1, 'eth0', VIP, true, 1_000).then(() => true), 'VIP still held');

    // a SIGHUP reload neither retries IPVS into a second error nor stops the checkers
    vigil.proc.kill('SIGHUP');
    await waitFor('reload done', () => events(vigil, 'reload.done').length === 1, 20_000, 50);
    process.kill(-srvA.pid!, 'SIGKILL');
    await waitFor('server A down after reload', async () => rsUp(await status(sock), RS_A) === false, TRANSITION_MS, 200);
    await waitFor('second notify_down for A', () => notified().filter((l) => l === 'down rs-a').length === 2, TRANSITION_MS, 100);
    t.true(rsUp(await status(sock), RS_B), 'server B still up after reload');
    await masterHolding();

    // one clear error, not a loop; nothing programmed; the daemon never stopped
    const unavailable = events(vigil, 'lvs.unavailable');
    if (noIpvs) {
      t.is(unavailable.length, 1, 'exactly one lvs.unavailable');
      t.is(unavailable[0]?.['code'], 'VIGIL_IPVS_UNAVAILABLE');
      t.regex(String(unavailable[0]?.['msg']), /IPVS is not available/);
      t.regex(String(unavailable[0]?.['err']), /no IPVS/);
      t.is(events(vigil, 'lvs.applied').length, 0, 'nothing programmed');
      t.is(events(vigil, 'lvs.reconcile-failed').length, 0, 'no reconcile attempted against a missing IPVS');
    } else {
      t.is(unavailable.length, 0, 'IPVS present: not reported missing');
    }
    t.is(events(vigil, 'daemon.ready').length, 1, 'started once, never restarted');
    t.false(exited, 'daemon still running');

    vigil.proc.kill('SIGTERM');
    const end = await Promise.race([vigil.exited, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
    t.deepEqual(end, { code: 0, signal: null }, 'SIGTERM ends the daemon with exit 0');
  } catch (e) {
    t.log(outputOf(vigil).slice(-6000));
    throw e;
  } finally {
    if (!exited) vigil.proc.kill('SIGKILL');
  }
});
