/**
 * The whole daemon with the checkers of issue 11, on this host (no IPVS needed: what would be
 * programmed shows in status): PING_CHECK through the spawner process, UDP_CHECK through the
 * checker pool, FILE_CHECK from a track_file the operator writes.
 *
 * Lab (prefix `vnc`, 10.93.0.0/24 on one bridge): r1 = director running vigil (.1, VIP .100);
 * r2 (.2) answers ping and runs a UDP echo server on port 5353; .50 is nobody (a dead host);
 * c (.10) is a real server judged by a track_file alone.
 */
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { nsExec, requireRoot, waitFor } from '../../helpers/netns.ts';
import { globalDefs, instanceBlock, outputOf, routerLab, startVigil, waitReady } from '../../helpers/routers.ts';
import { controlRequest } from '../../../src/supervisor/control-client.ts';
import type { VigilStatus } from '../../../src/supervisor/dumps.ts';

const NET = 93;
/** ms: any check transition (delay_loop 1 + connect_timeout 1, retry 0) with room for a busy host */
const TRANSITION_MS = 20_000;

async function status(sock: string): Promise<VigilStatus> {
  const res = await controlRequest('status', sock, 10_000);
  if (!res.ok) throw new Error(`status failed: ${res.error.code} ${res.error.message}`);
  return res.result as VigilStatus;
}

function rs(s: VigilStatus, address: string): { up: boolean; weight: number } | undefined {
  return s.virtualServers[0]?.realServers.find((r) => r.name === `[${address}]:udp:5353`);
}

test.serial('daemon: PING_CHECK, UDP_CHECK and FILE_CHECK move real servers up and down', async (t) => {
  if (!requireRoot(t)) return t.pass();
  const p = routerLab(t, 'vnc', NET, { macs: false });
  const live = `10.${NET}.0.2`;
  const dead = `10.${NET}.0.50`;
  const filed = `10.${NET}.0.10`;
  const echo = (): ChildProcess =>
    p.lab.spawnIn(p.r2, [
      'python3',
      '-c',
      `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(("${live}",5353))\nwhile True:\n d,a=s.recvfrom(2048)\n s.sendto(d,a)\n`,
    ]);
  let echoProc = echo();
  await waitFor('UDP echo listening', () => nsExec(p.r2, ['ss', '-Hlun', `src ${live}:5353`]).trim() !== '', 15_000, 50);
  const drain = join(p.dir.dir, 'drain');
  const check = (body: string): string => `        ${body} {\n            connect_timeout 1\n            retry 0\n            delay_loop 1\n        }`;
  const conf = p.dir.file(
    'vigil.conf',
    globalDefs('vnc') +
      instanceBlock({ state: 'MASTER', priority: 150, vrid: NET, vip: `10.${NET}.0.100/24`, advertInt: '0.1', version: 3 }) +
      `track_file drain {\n    file ${drain}\n    weight 0\n    init_file 0\n}\n` +
      [
        `virtual_server 10.${NET}.0.200 5353 {`,
        '    lb_algo rr',
        '    protocol UDP',
        `    real_server ${live} 5353 {`,
        check('PING_CHECK'),
        check('UDP_CHECK').replace('{\n', '{\n            require_reply\n'),
        '    }',
        `    real_server ${dead} 5353 {`,
        check('PING_CHECK'),
        '    }',
        `    real_server ${filed} 5353 {`,
        '        FILE_CHECK {',
        '            track_file drain',
        '        }',
        '    }',
        '}',
        '',
      ].join('\n'),
  );
  const sock = join(p.dir.dir, 'r1.sock');
  const vigil = startVigil(p.lab, p.r1, p.dir, 'r1', conf);
  try {
    await waitReady(vigil);
    await waitFor('dead host down, others up', async () => {
      const s = await status(sock);
      return rs(s, live)?.up === true && rs(s, dead)?.up === false && rs(s, filed)?.up === true;
    }, TRANSITION_MS, 200);
    // the UDP service dies (the host still answers ping): down on require_reply
    process.kill(-echoProc.pid!, 'SIGKILL');
    await waitFor('live host down once its UDP service is gone', async () => rs(await status(sock), live)?.up === false, TRANSITION_MS, 200);
    echoProc = echo();
    await waitFor('and up again', async () => rs(await status(sock), live)?.up === true, TRANSITION_MS, 200);
    // the operator drains the third server
    execFileSync('/bin/sh', ['-c', `echo 1 > ${drain}`]);
    await waitFor('drained by its track_file', async () => rs(await status(sock), filed)?.up === false, 5_000, 50);
    execFileSync('/bin/sh', ['-c', `echo 0 > ${drain}`]);
    await waitFor('back', async () => rs(await status(sock), filed)?.up === true, 5_000, 50);
    const logs = outputOf(vigil).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const downs = logs.filter((l) => l['event'] === 'check.down').map((l) => `${String(l['real_server']).split('|')[1]} ${String(l['reason'])}`);
    t.true(downs.includes(`${dead}:5353 timeout`), downs.join(', '));
    t.true(downs.some((d) => d.startsWith(`${live}:5353 `) && /connect-refused|timeout/.test(d)), downs.join(', '));
    vigil.proc.kill('SIGTERM');
    const end = await Promise.race([vigil.exited, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
    t.deepEqual(end, { code: 0, signal: null });
  } catch (e) {
    t.log(outputOf(vigil).slice(-6000));
    throw e;
  }
});
