/**
 * Soak (issue: footprint and start-up): vigil runs for --minutes under steady churn and must
 * end where it was after the first minute. Churn: SIGHUP every 10 s alternating two configs
 * (the second adds a VIP and changes a priority), a vrrp_script whose result flips every 5 s,
 * a real server under HTTP_GET (delay_loop 2) whose answer flips between 200 and 503 every
 * 10 s, and SIGUSR1 every minute. Prints JSON: PSS of the process tree, fds and threads per
 * process at 1 minute and at the end, and the verdict against the target (PSS within 5 %, no
 * fd or thread growth).
 *
 *   sudo [VIGIL_TEST_DIST=1] node --import tsx bench/soak.ts [--minutes 30]   (--minutes 2: a smoke run)
 *
 * --smaps DIR also copies each long-lived process's /proc/PID/smaps into DIR at every sample
 * (`<seconds>-<pid>.smaps`), to tell which mappings grow: bench/smaps-diff.ts compares two.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync, rmSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NetnsLab, nsExec, waitFor } from '../test/helpers/netns.ts';
import { RouterDir, outputOf, startVigil, vigilStatus } from '../test/helpers/routers.ts';
import type { IsolateHeap } from '../src/ipc/messages.ts';
import { memoryKb, sessionPids } from './proc-tree.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, smaps: { type: 'string' } } });
const minutes = Number(values.minutes);
const smapsDir = values.smaps;
if (smapsDir) mkdirSync(smapsDir, { recursive: true });

const lab = new NetnsLab('vsk');
const dir = new RouterDir();
process.on('exit', () => {
  lab.removeAll();
  dir.remove();
});
for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => process.exit(130));

const flag = join(dir.dir, 'script-ok');
const check = dir.file('check.sh', `#!/bin/sh\ntest -f ${flag}\n`);
chmodSync(check, 0o755);

function config(variant: 0 | 1): string {
  return `global_defs {
    router_id soak
    script_user root
}
vrrp_script chk_flag {
    script "${check}"
    interval 1
    weight -20
    fall 1
    rise 1
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority ${variant === 0 ? 150 : 160}
    advert_int 1
    virtual_ipaddress {
        192.168.7.100/24
${variant === 1 ? '        192.168.7.101/24\n' : ''}    }
    track_script {
        chk_flag
    }
}
virtual_server 192.168.7.100 80 {
    delay_loop 2
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 10.78.0.1 80 {
        weight 1
        HTTP_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
}
`;
}

const r = lab.addNs('r');
const obs = lab.addNs('o');
const web = lab.addNs('w');
lab.veth(r, 'eth0', obs, 'eth0');
lab.veth(r, 'eth1', web, 'eth1');
nsExec(r, ['ip', 'addr', 'add', '192.168.7.10/24', 'dev', 'eth0']);
nsExec(r, ['ip', 'addr', 'add', '10.78.0.254/24', 'dev', 'eth1']);
nsExec(web, ['ip', 'addr', 'add', '10.78.0.1/24', 'dev', 'eth1']);
// 200 and 503 in turns of 10 s
lab.spawnIn(web, [process.execPath, '-e', "require('http').createServer((q,s)=>{s.statusCode=Math.floor(Date.now()/10000)%2?503:200;s.end('x')}).listen(80)"]);

const conf = join(dir.dir, 'vigil.conf');
writeFileSync(conf, config(0));
writeFileSync(flag, '');
const d = startVigil(lab, r, dir, 'soak', conf);
await waitFor('daemon.ready', () => outputOf(d).includes('"event":"daemon.ready"'), 30_000, 50);
const pid = d.proc.pid!;

const tree = (): number[] => sessionPids(pid);
interface Sample {
  atS: number;
  pssKb: number;
  /** private pages (a page of node's that another process stops sharing becomes private) */
  ussKb: number;
  /** anonymous memory (heaps, malloc, stacks): vigil's own, whatever else runs on the host */
  anonKb: number;
  processes: Array<{ pid: number; fds: number; threads: number; pssKb: number; ussKb: number; anonKb: number; cmd: string }>;
  /** V8 heap per isolate (kB used / reserved / young generation / code), from `vigil status --json`: JS or native growth? */
  heaps?: Record<string, { usedKb: number; totalKb: number; youngKb: number; codeKb: number }>;
}

function heaps(): Sample['heaps'] {
  try {
    const m = (vigilStatus(d, dir) as unknown as { memory?: { isolates?: Record<string, IsolateHeap> } }).memory;
    return Object.fromEntries(Object.entries(m?.isolates ?? {}).map(([k, v]) => [k, { usedKb: v.usedKb, totalKb: v.totalKb, youngKb: v.youngKb, codeKb: v.codeKb }]));
  } catch {
    return undefined;
  }
}
/**
 * --smaps: a copy of the process's smaps. A copy that fails is said on stderr and the sample
 * keeps the process (the catch in `sample` is for processes that have gone). Read and write:
 * copyFileSync copies none of a /proc file (its size reads 0).
 */
function keepSmaps(dir: string, pid: number, atS: number): void {
  try {
    writeFileSync(join(dir, `${atS}-${pid}.smaps`), readFileSync(`/proc/${pid}/smaps`));
  } catch (e) {
    process.stderr.write(`soak: smaps of ${pid} at ${atS} s not kept: ${(e as Error).message}\n`);
  }
}
function sample(atS: number): Sample {
  const processes = tree().flatMap((p) => {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(1, 2).join(' ');
      // scripts come and go: only the long-lived processes count
      if (!cmd.includes('main.') && !cmd.includes('spawner.')) return [];
      const { pssKb, ussKb, anonKb } = memoryKb(p);
      if (smapsDir) keepSmaps(smapsDir, p, atS);
      return [{ pid: p, fds: readdirSync(`/proc/${p}/fd`).length, threads: readdirSync(`/proc/${p}/task`).length, pssKb, ussKb, anonKb, cmd }];
    } catch {
      return [];
    }
  });
  const h = heaps();
  const sum = (k: 'pssKb' | 'ussKb' | 'anonKb'): number => processes.reduce((s, p) => s + p[k], 0);
  return { atS, pssKb: sum('pssKb'), ussKb: sum('ussKb'), anonKb: sum('anonKb'), processes, ...(h ? { heaps: h } : {}) };
}

const start = Date.now();
const endAt = start + minutes * 60_000;
let variant: 0 | 1 = 0;
let hups = 0;
let usr1 = 0;
let flips = 0;
let first: Sample | undefined;
const samples: Sample[] = [];
while (Date.now() < endAt) {
  await new Promise((res) => setTimeout(res, 5000));
  const t = Math.round((Date.now() - start) / 1000);
  if (existsSync(flag)) rmSync(flag);
  else writeFileSync(flag, '');
  flips++;
  if (t % 10 < 5) {
    variant = variant === 0 ? 1 : 0;
    writeFileSync(conf, config(variant));
    process.kill(pid, 'SIGHUP');
    hups++;
  }
  if (t % 60 < 5) {
    process.kill(pid, 'SIGUSR1');
    usr1++;
  }
  if (!first && t >= 60) first = sample(t);
  if (t % 60 < 5) samples.push(sample(t));
}
const last = sample(Math.round((Date.now() - start) / 1000));
const alive = d.proc.exitCode === null;
d.proc.kill('SIGTERM');
await d.exited;
const base = first ?? samples[0] ?? last;
const growthPct = (from: number, to: number): number => Math.round(((to - from) / from) * 1000) / 10;
const byPid = (s: Sample, p: number): Sample['processes'][number] | undefined => s.processes.find((x) => x.pid === p);
const result = {
  bench: 'soak',
  minutes,
  sighups: hups,
  sigusr1: usr1,
  scriptFlips: flips,
  refusedOrFailedReloads: (outputOf(d).match(/"event":"reload\.(refused|failed)"/g) ?? []).length,
  alive,
  atOneMinute: base,
  atEnd: last,
  pssGrowthPct: growthPct(base.pssKb, last.pssKb),
  ussGrowthPct: growthPct(base.ussKb, last.ussKb),
  anonGrowthPct: growthPct(base.anonKb, last.anonKb),
  fdGrowth: last.processes.map((p) => ({ cmd: p.cmd, from: byPid(base, p.pid)?.fds ?? null, to: p.fds })),
  threadGrowth: last.processes.map((p) => ({ cmd: p.cmd, from: byPid(base, p.pid)?.threads ?? null, to: p.threads })),
  perMinute: samples.map((s) => ({ atS: s.atS, pssKb: s.pssKb, ussKb: s.ussKb, anonKb: s.anonKb, ...(s.heaps ? { heaps: s.heaps } : {}) })),
};
const met =
  alive &&
  Math.abs(result.pssGrowthPct) <= 5 &&
  last.processes.every((p) => {
    const b = byPid(base, p.pid);
    return b !== undefined && p.fds <= b.fds && p.threads <= b.threads;
  });
writeFileSync(process.stdout.fd, JSON.stringify({ ...result, targetMet: met }, null, 2) + '\n');
process.exit(0);
