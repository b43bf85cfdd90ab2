/**
 * Footprint and start-up, vigil and Debian's keepalived side by side in one run (issue:
 * footprint and start-up). Each daemon runs alone in a namespace of its own with the seed's
 * node-A VRRP setup (VI_1 MASTER prio 150 + VI_2 BACKUP, chk_nginx every second, notify
 * scripts); an observer namespace on the same veth captures its adverts. Prints JSON:
 *
 *   startup   exec → first advert of VI_1 on the wire (ms), per rep; both daemons wait the
 *             master-down interval first (3 × 1 s + skew 414 ms at priority 150);
 *   idle      CPU (% of one core, every thread of every process of the daemon's session, from
 *             schedstat) over --idle seconds as master, --settle seconds (default 30) after its
 *             first advert;
 *   memory    PSS / RSS / USS per process and in total (smaps_rollup), threads per process,
 *             and for vigil the V8 heaps per isolate (`vigil status --json`, `memory`).
 *
 * `--variant lvs100` adds one virtual_server of 100 real servers under HTTP_GET, served by a
 * real HTTP server on 100 addresses in a third namespace. On a kernel without IPVS neither
 * daemon can program IPVS (keepalived's checker process then exits, vigil keeps checking and
 * logs `lvs.ipvs-unavailable`): run it under ../shared/kernel-vm/run for a like-for-like pair.
 *
 *   sudo [VIGIL_TEST_DIST=1] node --import tsx bench/footprint.ts [--reps 3] [--idle 30] [--settle 30]
 *        [--variant vrrp|lvs100|both] [--daemons keepalived,vigil]
 * Targets: PSS ≤ 60 MB (vrrp), ≤ 80 MB (lvs100); idle CPU ≤ 2 × keepalived's + 0.1 %;
 * first advert within 50 ms of keepalived's. vigil runs with a service's environment
 * (SERVICE_ENV: PATH and LANG, as vigil.service), not the caller's.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NetnsLab, nsExec, waitFor } from '../test/helpers/netns.ts';
import { RouterDir, SERVICE_ENV, outputOf, startKeepalived, startVigil, vigilEntry, type Router } from '../test/helpers/routers.ts';
import { memoryKb, sessionPids } from './proc-tree.ts';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    idle: { type: 'string', default: '30' },
    settle: { type: 'string', default: '30' },
    variant: { type: 'string', default: 'both' },
    daemons: { type: 'string', default: 'keepalived,vigil' },
  },
});
const reps = Number(values.reps);
const idleS = Number(values.idle);
const settleS = Number(values.settle);
const variants = values.variant === 'both' ? ['vrrp', 'lvs100'] : [values.variant];
const daemons = values.daemons.split(',') as Array<'keepalived' | 'vigil'>;

const lab = new NetnsLab('vfp');
const dir = new RouterDir();
process.on('exit', () => {
  lab.removeAll();
  dir.remove();
});
for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => process.exit(130));

const notify = dir.file('notify.sh', '#!/bin/sh\necho "$(date +%s.%N) $*" >> "$(dirname "$0")/notify.log"\n');
chmodSync(notify, 0o755);

function config(variant: string): string {
  const vrrp = `global_defs {
    router_id lvs_devel
    script_user root
    enable_script_security
}
vrrp_script chk_nginx {
    script "/bin/kill -0 1"
    interval 1
    weight -2
    fall 2
    rise 1
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        192.168.1.103
    }
    track_script {
        chk_nginx
    }
    notify_master "${notify} master"
    notify_backup "${notify} backup"
    notify_fault "${notify} fault"
}
vrrp_instance VI_2 {
    state BACKUP
    interface eth0
    virtual_router_id 55
    priority 99
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        192.168.1.102
    }
}
`;
  if (variant !== 'lvs100') return vrrp;
  const rs: string[] = [];
  for (let i = 1; i <= 100; i++) {
    rs.push(`    real_server 10.77.0.${i} 80 {
        weight 1
        HTTP_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 3
            retry 3
            delay_before_retry 3
        }
    }`);
  }
  return `${vrrp}virtual_server 192.168.1.103 80 {
    delay_loop 6
    lb_algo rr
    lb_kind DR
    protocol TCP
${rs.join('\n')}
}
`;
}

interface Proc {
  pid: number;
  comm: string;
  threads: number;
  pssKb: number;
  rssKb: number;
  ussKb: number;
}

/** undefined when the process has exited since it was listed (a script's or a checker's child). */
function memory(pid: number): Proc | undefined {
  try {
    const comm = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(0, 3).join(' ');
    return { pid, comm, threads: readdirSync(`/proc/${pid}/task`).length, ...memoryKb(pid) };
  } catch {
    return undefined;
  }
}

/** ns of CPU per thread (schedstat's first field), keyed pid/tid, with the thread's name. */
function cpuNs(pids: readonly number[]): Map<string, { ns: number; comm: string }> {
  const m = new Map<string, { ns: number; comm: string }>();
  for (const pid of pids) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        m.set(`${pid}/${tid}`, { ns, comm });
      } catch {
        /* thread gone */
      }
    }
  }
  return m;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const epochNow = (): number => performance.timeOrigin + performance.now();

/** tcpdump in `ns` with nanosecond stamps; `firstAdvert(vrid)` is the epoch ms of the first one seen. */
async function capture(ns: string): Promise<{ firstAdvert(vrid: number): number | undefined; stop(): void }> {
  const p = lab.spawnIn(ns, ['tcpdump', '-i', 'eth0', '-n', '-l', '-tt', '--time-stamp-precision=nano', 'ip proto 112']);
  let out = '';
  let err = '';
  p.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  p.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  await waitFor('tcpdump listening', () => err.includes('listening on'), 10_000, 10);
  return {
    firstAdvert(vrid) {
      for (const line of out.split('\n')) {
        if (line.includes(`vrid ${vrid},`)) return Number(line.split(' ')[0]) * 1000;
      }
      return undefined;
    },
    stop: () => void p.kill('SIGKILL'),
  };
}

function statusJson(sock: string, ns: string): unknown {
  const [node, ...entry] = [process.execPath, ...vigilEntry()];
  return JSON.parse(nsExec(ns, [node!, ...entry, 'status', '--json', '--control-socket', sock]));
}

async function stopDaemon(r: Router): Promise<void> {
  r.proc.kill('SIGTERM');
  const t = setTimeout(() => {
    try {
      process.kill(-r.proc.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, 10_000);
  await r.exited;
  clearTimeout(t);
  await sleep(300);
}

/** Web server for lvs100: one node http server on 10.77.0.1-100:80 in its own namespace. */
function startWeb(webNs: string): ChildProcess {
  for (let i = 1; i <= 100; i++) nsExec(webNs, ['ip', 'addr', 'add', `10.77.0.${i}/24`, 'dev', 'eth1']);
  return lab.spawnIn(webNs, [process.execPath, '-e', "require('http').createServer((q,s)=>s.end('ok')).listen(80)"]);
}

const result: Record<string, unknown> = {
  bench: 'footprint',
  node: process.version,
  kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
  keepalived: execFileSync('keepalived', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0] ?? '',
  vigilEntry: vigilEntry().join(' '),
  vigilEnv: SERVICE_ENV,
  reps,
  idleS,
  settleS,
  variants: {} as Record<string, unknown>,
};

for (const variant of variants) {
  const v: Record<string, unknown> = {};
  (result['variants'] as Record<string, unknown>)[variant] = v;
  const conf = dir.file(`${variant}.conf`, config(variant));
  for (const kind of daemons) {
    const r = lab.addNs(`${kind.slice(0, 1)}${variant.slice(0, 1)}`);
    const obs = lab.addNs(`o${kind.slice(0, 1)}${variant.slice(0, 1)}`);
    lab.veth(r, 'eth0', obs, 'eth0');
    nsExec(r, ['ip', 'addr', 'add', '192.168.1.10/24', 'dev', 'eth0']);
    nsExec(obs, ['ip', 'addr', 'add', '192.168.1.11/24', 'dev', 'eth0']);
    let web: ChildProcess | undefined;
    if (variant === 'lvs100') {
      const webNs = lab.addNs(`w${kind.slice(0, 1)}`);
      lab.veth(r, 'eth1', webNs, 'eth1');
      nsExec(r, ['ip', 'addr', 'add', '10.77.0.254/24', 'dev', 'eth1']);
      web = startWeb(webNs);
    }
    const startup: number[] = [];
    const ready: number[] = [];
    let idle: Record<string, unknown> = {};
    for (let rep = 0; rep < reps; rep++) {
      const cap = await capture(obs);
      const t0 = epochNow();
      const d = kind === 'vigil' ? startVigil(lab, r, dir, `v${variant}${rep}`, conf, [], [], SERVICE_ENV) : startKeepalived(lab, r, dir, `k${variant}${rep}`, conf, variant === 'lvs100');
      await waitFor(`${kind} first advert`, () => cap.firstAdvert(51) !== undefined, 15_000, 20);
      startup.push(Math.round((cap.firstAdvert(51)! - t0) * 10) / 10);
      if (kind === 'vigil') {
        // READY=1 follows the first advert where start-up is slow (the emulated VM): wait for it
        // rather than stop the daemon before it, and say when it came (ms after exec)
        await waitFor('daemon.ready', () => outputOf(d).includes('"event":"daemon.ready"'), 60_000, 50).catch(() => undefined);
        const since = /"event":"daemon\.ready"[^\n]*"sinceExecMs":(\d+(?:\.\d+)?)/.exec(outputOf(d))?.[1];
        if (since !== undefined) ready.push(Number(since));
      }
      if (rep === reps - 1) {
        // Past start-up work (first checks, notify scripts, JIT, V8's memory reducer, which runs
        // full collections for some seconds after start): idle is what `top` shows later on.
        await sleep(settleS * 1000);
        const sid = d.proc.pid!;
        const pids = sessionPids(sid);
        const before = cpuNs(pids);
        const t1 = performance.now();
        await sleep(idleS * 1000);
        const after = cpuNs(sessionPids(sid));
        const wallNs = (performance.now() - t1) * 1e6;
        const perThread: Record<string, number> = {};
        let total = 0;
        for (const [k, a] of after) {
          const dns = a.ns - (before.get(k)?.ns ?? 0);
          total += dns;
          perThread[`${k} ${a.comm}`] = Math.round((dns / wallNs) * 100 * 1000) / 1000;
        }
        const procs = sessionPids(sid).flatMap((pid) => memory(pid) ?? []);
        idle = {
          cpuPctOfCore: Math.round((total / wallNs) * 100 * 1000) / 1000,
          cpuPerThread: Object.fromEntries(Object.entries(perThread).filter(([, p]) => p > 0.001)),
          pssMb: Math.round(procs.reduce((s, p) => s + p.pssKb, 0) / 102.4) / 10,
          rssMb: Math.round(procs.reduce((s, p) => s + p.rssKb, 0) / 102.4) / 10,
          ussMb: Math.round(procs.reduce((s, p) => s + p.ussKb, 0) / 102.4) / 10,
          processes: procs,
          ...(kind === 'vigil' ? { isolates: (statusJson(join(dir.dir, `v${variant}${rep}.sock`), r) as { memory?: unknown }).memory } : {}),
        };
      }
      cap.stop();
      await stopDaemon(d);
      if (kind === 'vigil' && !outputOf(d).includes('"event":"daemon.ready"')) v[`${kind}Error`] = 'never logged daemon.ready';
    }
    web?.kill('SIGKILL');
    const sorted = [...startup].sort((a, b) => a - b);
    v[kind] = { firstAdvertMs: startup, firstAdvertMedianMs: sorted[Math.floor(sorted.length / 2)], ...(kind === 'vigil' ? { readyMs: ready } : {}), ...idle };
  }
  const k = v['keepalived'] as { firstAdvertMedianMs: number; cpuPctOfCore: number; pssMb: number } | undefined;
  const g = v['vigil'] as { firstAdvertMedianMs: number; cpuPctOfCore: number; pssMb: number } | undefined;
  if (k && g) {
    v['compare'] = {
      firstAdvertLateMs: Math.round((g.firstAdvertMedianMs - k.firstAdvertMedianMs) * 10) / 10,
      cpuTargetPct: Math.round((2 * k.cpuPctOfCore + 0.1) * 1000) / 1000,
      cpuMet: g.cpuPctOfCore <= 2 * k.cpuPctOfCore + 0.1,
      pssTargetMb: variant === 'lvs100' ? 80 : 60,
      pssMet: g.pssMb <= (variant === 'lvs100' ? 80 : 60),
      startupMet: g.firstAdvertMedianMs - k.firstAdvertMedianMs <= 50,
    };
  }
}

writeFileSync(process.stdout.fd, JSON.stringify(result, null, 2) + '\n');
process.exit(0);
