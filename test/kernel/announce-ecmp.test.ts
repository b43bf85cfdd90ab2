/**
 * More than one director, for real (run inside ../shared/kernel-vm/run: it needs IPVS).
 *
 *     client c ── rt (BIRD 2, ECMP: merge paths, fib_multipath_hash_policy=1)
 *                 ├─ eBGP ── d1 (vigil + BIRD 2 exporting table 198) ─┐
 *                 └─ eBGP ── d2 (vigil + BIRD 2 exporting table 198) ─┤ lan: DR real servers
 *                 rt ────────────────────────────────────────────────┘ rs1 rs2 rs3 (+ rt, their gateway)
 *
 * vigil on each director announces 10.213.9.10 (web :80, echo :7; lb_algo mh + mh-port) in
 * table 198; BIRD there exports it; the router installs one route with both directors as
 * next hops. It shows: both next hops; 40 new connections all served and spread over both
 * directors; a director whose real servers all fail its checks (unreachable from it) leaves the router within two
 * check intervals and comes back; `vigil drain` / `vigil undrain` take it out and back; six
 * long-lived connections keep echoing without a break while the director that carries most
 * of them is stopped with SIGTERM; that director leaves nothing in IPVS or table 198.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetnsLab, nsExec, requireRoot, waitFor } from '../helpers/netns.ts';
import { outputOf, repoRoot, RouterDir, startVigil, vigilEntry, type Router } from '../helpers/routers.ts';
import { events, ipvsRules, serveHttp, table198 } from './announce-helpers.ts';
import { controlRequest } from '../../src/supervisor/control-client.ts';

const VIP = '10.213.9.10';
const FIX = fileURLToPath(new URL('./fixtures/', import.meta.url));
const DELAY_LOOP_S = 1;

function birdDirector(id: string, peer: string): string {
  return `router id ${id};
ipv4 table t198;
protocol device { scan time 10; }
# vigil's routes: table 198, protocol 248 (announce_route's defaults)
protocol kernel vigil {
  kernel table 198;
  learn;
  ipv4 { table t198; import where krt_source = 248; export none; };
}
protocol bgp uplink {
  local ${id} as 65001;
  neighbor ${peer} as 65000;
  hold time 3; keepalive time 1; connect retry time 1; connect delay time 1; error wait time 1, 2;
  ipv4 { table t198; import none; export all; next hop self; };
}
`;
}

const BIRD_ROUTER = `router id 10.93.0.1;
protocol device { scan time 10; }
protocol kernel {
  merge paths on;
  ipv4 { import none; export all; };
}
template bgp director {
  local as 65000;
  hold time 3; keepalive time 1; connect retry time 1; connect delay time 1; error wait time 1, 2;
  ipv4 { import all; export none; };
}
protocol bgp d1 from director { neighbor 10.93.1.2 as 65001; }
protocol bgp d2 from director { neighbor 10.93.2.2 as 65001; }
`;

function vigilConf(name: string): string {
  const rs = (addr: string, port: number, check: string): string =>
    `    real_server ${addr} ${port} {\n        weight 1\n        ${check} {\n            connect_timeout 1\n            retry 0\n${check === 'HTTP_GET' ? '            url {\n                path /\n            }\n' : ''}        }\n    }\n`;
  const vs = (port: number, check: string): string =>
    `virtual_server ${VIP} ${port} {\n    delay_loop ${DELAY_LOOP_S}\n    alpha\n    lb_algo mh\n    mh-port\n    lb_kind DR\n    protocol TCP\n` +
    `    announce_route {\n        table 198\n        withdraw_grace 2\n    }\n` +
    ['10.93.3.11', '10.93.3.12', '10.93.3.13'].map((a) => rs(a, port, check)).join('') +
    '}\n';
  return `global_defs {\n    router_id ${name}\n}\n${vs(80, 'HTTP_GET')}${vs(7, 'TCP_CHECK')}`;
}

/** The router's next hops for the VIP (gateway addresses), sorted. */
function nextHops(rt: string): string[] {
  const j = JSON.parse(nsExec(rt, ['ip', '-j', 'route', 'show', `${VIP}/32`])) as Array<{ gateway?: string; nexthops?: Array<{ gateway: string }> }>;
  const r = j[0];
  if (r === undefined) return [];
  return (r.nexthops?.map((n) => n.gateway) ?? (r.gateway !== undefined ? [r.gateway] : [])).sort();
}

async function statusOf(sock: string): Promise<unknown> {
  const r = await controlRequest('status', sock, 20_000);
  return r.ok ? r.result : r.error;
}

/** Connections the service VIP:port took on a director since it started (ipvsadm --stats, "Conns"). */
function conns(ns: string, port: number): number {
  const out = nsExec(ns, ['ipvsadm', '-L', '-n', '--stats', '-t', `${VIP}:${port}`]);
  const line = out.split('\n').find((l) => l.startsWith('TCP'));
  return Number(line?.trim().split(/\s+/)[2] ?? 0);
}

/** Established IPVS connections to VIP:port on a director. */
function established(ns: string, port: number): number {
  return nsExec(ns, ['ipvsadm', '-L', '-n', '-c'])
    .split('\n')
    .filter((l) => l.includes(`${VIP}:${port}`) && l.includes('ESTABLISHED')).length;
}

test('two directors behind a BGP router with ECMP: spread, health-driven withdrawal, drain, and a SIGTERM that keeps long-lived connections', async (t) => {
  if (!requireRoot(t)) return;
  const lab = new NetnsLab('vec');
  const dir = new RouterDir();
  t.teardown(() => {
    lab.removeAll();
    dir.remove();
  });
  const c = lab.addNs('c');
  const rt = lab.addNs('rt');
  const d1 = lab.addNs('d1');
  const d2 = lab.addNs('d2');
  const rss = [lab.addNs('rs1'), lab.addNs('rs2'), lab.addNs('rs3')];
  lab.veth(c, 'eth0', rt, 'ethc');
  lab.veth(rt, 'eth1', d1, 'eth0');
  lab.veth(rt, 'eth2', d2, 'eth0');
  lab.segment('lan', [{ ns: rt, ifname: 'ethl' }, { ns: d1, ifname: 'ethr' }, { ns: d2, ifname: 'ethr' }, ...rss.map((ns) => ({ ns, ifname: 'eth0' }))]);
  nsExec(c, ['ip', 'addr', 'add', '10.93.0.2/24', 'dev', 'eth0']);
  nsExec(c, ['ip', 'route', 'add', 'default', 'via', '10.93.0.1']);
  for (const [a, ifn] of [['10.93.0.1/24', 'ethc'], ['10.93.1.1/24', 'eth1'], ['10.93.2.1/24', 'eth2'], ['10.93.3.254/24', 'ethl']] as const) nsExec(rt, ['ip', 'addr', 'add', a, 'dev', ifn]);
  for (const [k, v] of [['net.ipv4.ip_forward', '1'], ['net.ipv4.fib_multipath_hash_policy', '1'], ['net.ipv4.conf.all.rp_filter', '0'], ['net.ipv4.conf.ethl.rp_filter', '0']]) nsExec(rt, ['sysctl', '-q', '-w', `${k}=${v}`]);
  nsExec(d1, ['ip', 'addr', 'add', '10.93.1.2/24', 'dev', 'eth0']);
  nsExec(d1, ['ip', 'addr', 'add', '10.93.3.1/24', 'dev', 'ethr']);
  nsExec(d2, ['ip', 'addr', 'add', '10.93.2.2/24', 'dev', 'eth0']);
  nsExec(d2, ['ip', 'addr', 'add', '10.93.3.2/24', 'dev', 'ethr']);
  for (const [d, gw] of [[d1, '10.93.1.1'], [d2, '10.93.2.1']] as const) nsExec(d, ['ip', 'route', 'add', 'default', 'via', gw]);
  rss.forEach((ns, i) => {
    nsExec(ns, ['ip', 'addr', 'add', `10.93.3.1${i + 1}/24`, 'dev', 'eth0']);
    nsExec(ns, ['ip', 'route', 'add', 'default', 'via', '10.93.3.254']);
    // DR: the VIP is local on each real server, which neither answers ARP for it nor uses it as an ARP source
    nsExec(ns, ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'lo']);
    for (const k of ['net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.eth0.arp_announce=2']) nsExec(ns, ['sysctl', '-q', '-w', k]);
    serveHttp(lab, dir, ns, `rs${i + 1}`, '0.0.0.0');
    lab.spawnIn(ns, ['python3', join(FIX, 'echo-server.py'), '7', `rs${i + 1}`]);
  });

  const bird = (ns: string, name: string, conf: string): void => {
    const file = dir.file(`${name}.bird.conf`, conf);
    const r = spawnSync('ip', ['netns', 'exec', ns, 'bird', '-c', file, '-s', join(dir.dir, `${name}.bird.sock`), '-P', join(dir.dir, `${name}.bird.pid`)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bird ${name}: ${r.stderr}`);
  };
  bird(rt, 'rt', BIRD_ROUTER);
  bird(d1, 'd1', birdDirector('10.93.1.2', '10.93.1.1'));
  bird(d2, 'd2', birdDirector('10.93.2.2', '10.93.2.1'));

  const v1 = startVigil(lab, d1, dir, 'd1', dir.file('d1.conf', vigilConf('d1')), ['-C']);
  const v2 = startVigil(lab, d2, dir, 'd2', dir.file('d2.conf', vigilConf('d2')), ['-C']);
  const vigils: Router[] = [v1, v2];
  const cli = (ns: string, name: string, cmd: string): number | null =>
    spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...vigilEntry(), cmd, '--control-socket', join(dir.dir, `${name}.sock`)], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 }).status;
  const both = ['10.93.1.2', '10.93.2.2'];
  const t0 = Date.now();
  const progress = (what: string): void => void process.stderr.write(`announce-ecmp +${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}\n`);
  try {
    await waitFor('both directors as next hops', () => nextHops(rt).join() === both.join(), 240_000, 500);
    progress('both next hops');
    t.deepEqual(nextHops(rt), both, 'ECMP: one route, both directors');
    // The route stands while any virtual server of the VIP has quorum, and the echo service's
    // TCP checks often pass before the web service's HTTP_GET: with alpha, :80 has no real
    // server until then, so the 40 requests wait for it on both directors.
    await waitFor('the web service up on both directors', () => vigils.every((v) => events(v, 'lvs.quorum-up').some((e) => e['vs'] === `[${VIP}]:tcp:80`)), 240_000, 200);
    progress('web service up');

    // 40 new connections: all served, both directors carry some
    const before = [conns(d1, 80), conns(d2, 80)];
    const got = spawnSync(
      'ip',
      ['netns', 'exec', c, 'python3', '-c', `import urllib.request\nfor i in range(40):\n    print(urllib.request.urlopen('http://${VIP}/', timeout=5).read().decode().strip(), flush=True)`],
      { encoding: 'utf8', timeout: 120_000 },
    );
    const answers = got.stdout.trim().split('\n').filter(Boolean);
    t.is(answers.length, 40, got.stderr);
    t.true(answers.every((a) => /^rs[123]$/.test(a)));
    progress('40 connections done');
    // ipvsadm shows counters IPVS folds in from its per-CPU ones every 2 s (the estimator):
    // read until they show the 40, or for 15 s
    let carried = [0, 0];
    await waitFor(
      'the directors to count the 40 connections',
      () => {
        carried = [conns(d1, 80) - before[0]!, conns(d2, 80) - before[1]!];
        return carried[0]! + carried[1]! >= 40;
      },
      15_000,
      250,
    ).catch(() => undefined);
    t.log(`40 connections: d1 carried ${carried[0]}, d2 ${carried[1]}; real servers ${[...new Set(answers)].sort().join(' ')}`);
    t.is(carried[0]! + carried[1]!, 40);
    t.true(carried[0]! > 0 && carried[1]! > 0, 'both directors carry some');

    // d2 can no longer reach any real server (prohibit routes: its checks fail at once): withdrawn from the router
    const rsAddrs = ['10.93.3.11', '10.93.3.12', '10.93.3.13'];
    for (const a of rsAddrs) nsExec(d2, ['ip', 'route', 'add', 'prohibit', `${a}/32`]);
    const failedAt = Date.now();
    try {
      await waitFor('d2 withdrawn from the router', () => nextHops(rt).join() === '10.93.1.2', 60_000, 100);
    } catch (e) {
      t.log(JSON.stringify(await statusOf(join(dir.dir, 'd2.sock'))));
      t.log(spawnSync('ip', ['netns', 'exec', d2, 'curl', '-s', '-m', '3', '-o', '/dev/null', '-w', '%{http_code}', 'http://10.93.3.11/'], { encoding: 'utf8' }).stdout);
      t.log(nsExec(d2, ['ip', '-j', 'route', 'show', 'table', '198']));
      throw e;
    }
    const withdrawnMs = Date.now() - failedAt;
    t.log(`d2's real servers unreachable from it: gone from the router's FIB after ${withdrawnMs} ms (2 check intervals = ${2000 * DELAY_LOOP_S} ms)`);
    t.true(withdrawnMs < 2000 * DELAY_LOOP_S * 3, 'within two check intervals, with the VM emulation allowance');
    t.true(table198(d1).includes(`${VIP} 248`));
    progress('d2 withdrawn');
    for (const a of rsAddrs) nsExec(d2, ['ip', 'route', 'del', 'prohibit', `${a}/32`]);
    await waitFor('d2 back at the router', () => nextHops(rt).join() === both.join(), 60_000, 200);

    // drain / undrain d1
    progress('d2 back; draining d1');
    t.is(cli(d1, 'd1', 'drain'), 0);
    await waitFor('d1 drained from the router', () => nextHops(rt).join() === '10.93.2.2', 30_000, 100);
    t.true(ipvsRules(d1).includes(`-A -t ${VIP}:80`), 'drained: IPVS untouched');
    t.is(cli(d1, 'd1', 'undrain'), 0);
    await waitFor('d1 back at the router', () => nextHops(rt).join() === both.join(), 30_000, 100);

    // six long-lived connections; the director carrying most of them is stopped
    progress('drain/undrain done; long-lived connections');
    const echo = lab.spawnIn(c, ['python3', join(FIX, 'echo-client.py'), VIP, '7', '6', '30', '0.1']);
    const lines: string[] = [];
    createInterface({ input: echo.stdout! }).on('line', (l) => lines.push(l));
    let errText = '';
    echo.stderr!.setEncoding('utf8').on('data', (d: string) => (errText += d));
    await waitFor('echo connections up', () => lines.some((l) => l.includes('ready')), 60_000, 50);
    await new Promise((r) => setTimeout(r, 2000));
    const on = [established(d1, 7), established(d2, 7)];
    const victim = on[0]! >= on[1]! ? 0 : 1;
    const [vns, v] = [[d1, d2][victim]!, vigils[victim]!];
    t.log(`long-lived connections: d1 ${on[0]}, d2 ${on[1]}; stopping d${victim + 1}`);
    t.true(on[0]! + on[1]! >= 6);
    progress('SIGTERM to the busiest director');
    const termAt = Date.now();
    v.proc.kill('SIGTERM');
    await waitFor('stopped director off the router', () => nextHops(rt).length === 1, 30_000, 50);
    const offMs = Date.now() - termAt;
    t.is((await v.exited).code, 0);
    t.log(`SIGTERM: next hop gone from the router after ${offMs} ms; vigil exited after ${Date.now() - termAt} ms`);
    progress('director stopped');
    await waitFor('echo client done', () => lines.some((l) => l.includes('"done"')), 120_000, 200);
    const done = (JSON.parse(lines.find((l) => l.includes('"done"'))!) as { done: Array<{ port: number; answers: number; max_gap_ms: number; last_at: number; by: string[]; error: string | null }> }).done;
    t.log(`echo connections: ${JSON.stringify(done)}`);
    t.is(done.length, 6);
    for (const cn of done) {
      t.is(cn.error, null, `connection from port ${cn.port}: ${cn.error}`);
      t.true(cn.last_at > 25, `port ${cn.port} echoed until the end`);
      t.is(cn.by.length, 1, `port ${cn.port} stayed on one real server`);
      t.true(cn.max_gap_ms < 2000, `port ${cn.port}: longest gap ${cn.max_gap_ms} ms`);
    }
    t.is(errText, '');
    t.false(ipvsRules(vns).includes(VIP), 'the stopped director left nothing in IPVS');
    t.deepEqual(table198(vns), [], 'nor in table 198');
    await waitFor('stop withdrawal logged', () => events(v, 'announce.down').some((e) => e['reason'] === 'stop' && e['vip'] === `${VIP}/32`), 10_000, 50);
  } catch (e) {
    for (const v of vigils) t.log(`---- ${v.name}\n${outputOf(v).slice(-6000)}`);
    throw e;
  }
});
