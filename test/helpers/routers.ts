/**
 * VRRP routers for system tests: vigil (run from the sources through tsx) or Debian's
 * keepalived, each inside a namespace of a NetnsLab, with per-router pid files and
 * control sockets so several run side by side on one host.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { NetnsLab, nsExec, waitFor } from './netns.ts';

export const repoRoot = resolve(import.meta.dirname, '../..');

/**
 * What systemd gives a service (vigil.service sets nothing else), for runs that time vigil's
 * start. A sandbox that exports NODE_EXTRA_CA_CERTS makes Node read that bundle before any of
 * vigil's code runs: `node -e 0` 100–160 ms against 50–70 without it on the dev host.
 */
export const SERVICE_ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

export interface Router {
  readonly name: string;
  readonly ns: string;
  readonly kind: 'vigil' | 'keepalived';
  readonly proc: ChildProcess;
  /** everything the process printed, stdout and stderr */
  readonly output: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export class RouterDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'vigil-sys-'));

  file(name: string, text: string): string {
    const p = join(this.dir, name);
    writeFileSync(p, text, { mode: 0o644 });
    return p;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function collect(proc: ChildProcess): { output: string[]; exited: Router['exited'] } {
  const output: string[] = [];
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => output.push(d));
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => output.push(d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.on('exit', (code, signal) => res({ code, signal })),
  );
  return { output, exited };
}

/**
 * How to run vigil: the sources through tsx, or the build in dist/ when VIGIL_TEST_DIST=1
 * (test/run-all.sh sets it for the kernel suite: under the VM's emulation, compiling every
 * source file with tsx at start-up takes longer than the tests' waits).
 */
export function vigilEntry(): string[] {
  const built = join(repoRoot, 'dist/src/cli/main.js');
  if (process.env['VIGIL_TEST_DIST'] === '1' && existsSync(built)) return [built];
  return ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts')];
}

/**
 * vigil in `ns`; `launcher` runs it (say `chrt … env …`), which must exec it in place; `env`
 * replaces the caller's environment (SERVICE_ENV where start-up is timed).
 */
export function startVigil(
  lab: NetnsLab,
  ns: string,
  dir: RouterDir,
  name: string,
  conf: string,
  extra: string[] = [],
  launcher: readonly string[] = [],
  env?: NodeJS.ProcessEnv,
): Router {
  const proc = lab.spawnIn(
    ns,
    [
      ...launcher,
      process.execPath,
      ...vigilEntry(),
      '-n',
      '-f',
      conf,
      '-p',
      join(dir.dir, `${name}.pid`),
      '--control-socket',
      join(dir.dir, `${name}.sock`),
      ...extra,
    ],
    { cwd: repoRoot, ...(env ? { env } : {}) },
  );
  return { name, ns, kind: 'vigil', proc, ...collect(proc) };
}

/** keepalived in `ns`: its VRRP process only (`-P`) unless `withChecker` (virtual servers, IPVS). */
export function startKeepalived(lab: NetnsLab, ns: string, dir: RouterDir, name: string, conf: string, withChecker = false): Router {
  const p = (s: string): string => join(dir.dir, `${name}.${s}.pid`);
  const proc = lab.spawnIn(ns, ['keepalived', '-n', '-l', '-D', ...(withChecker ? [] : ['-P']), '-f', conf, '-p', p('main'), '-r', p('vrrp'), '-c', p('check')]);
  return { name, ns, kind: 'keepalived', proc, ...collect(proc) };
}

export function hasAddress(ns: string, ifname: string, address: string): boolean {
  try {
    const out = nsExec(ns, ['ip', '-j', 'addr', 'show', 'dev', ifname]);
    const links = JSON.parse(out) as Array<{ addr_info?: Array<{ local?: string }> }>;
    return links.some((l) => (l.addr_info ?? []).some((a) => a.local === address));
  } catch {
    return false;
  }
}

export function linkMac(ns: string, ifname: string): string {
  const out = nsExec(ns, ['ip', '-j', 'link', 'show', 'dev', ifname]);
  const [link] = JSON.parse(out) as Array<{ address: string }>;
  return link?.address ?? '';
}

export async function waitAddress(ns: string, ifname: string, address: string, present: boolean, timeoutMs: number): Promise<number> {
  return waitFor(`${address} ${present ? 'on' : 'off'} ${ns}/${ifname}`, () => hasAddress(ns, ifname, address) === present, timeoutMs, 5);
}

/** Pings `address` from `ns` and returns the MAC the client's neighbour table then holds for it. */
export function reachVia(ns: string, address: string): string | undefined {
  try {
    nsExec(ns, ['ping', '-c', '1', '-W', '1', address]);
  } catch {
    return undefined;
  }
  const out = nsExec(ns, ['ip', '-j', 'neigh', 'show', address]);
  const [n] = JSON.parse(out) as Array<{ lladdr?: string }>;
  return n?.lladdr;
}

/** What `vigil status --json` reports, the fields tests read. */
export interface VigilStatus {
  instances: Array<{ name: string; state: string; dropped: Record<string, number>; transitions: number; advertsReceived: number; advertsSent: number }>;
  counters: Record<string, number>;
}

/** `vigil status --json` over the control socket of a router startVigil started in `dir`. */
export function vigilStatus(r: Router, dir: RouterDir): VigilStatus {
  const st = spawnSync(
    'ip',
    ['netns', 'exec', r.ns, process.execPath, ...vigilEntry(), 'status', '--json', '--control-socket', join(dir.dir, `${r.name}.sock`)],
    { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 },
  );
  if (st.status !== 0) throw new Error(`vigil status failed (${String(st.status)}): ${st.stderr}`);
  return JSON.parse(st.stdout) as VigilStatus;
}

export function outputOf(r: Router): string {
  return r.output.join('');
}

export interface InstanceOpts {
  name?: string;
  state: 'MASTER' | 'BACKUP';
  priority: number;
  vrid?: number;
  vip: string;
  advertInt?: string;
  version?: 2 | 3;
  iface?: string;
  nopreempt?: boolean;
  unicastSrc?: string;
  unicastPeers?: string[];
  /** auth_pass */
  auth?: string;
  /** auth_type (default PASS) */
  authType?: 'PASS' | 'AH';
  extra?: string;
}

export function instanceBlock(o: InstanceOpts): string {
  const lines = [
    `vrrp_instance ${o.name ?? 'VI_1'} {`,
    `    state ${o.state}`,
    `    interface ${o.iface ?? 'eth0'}`,
    `    virtual_router_id ${o.vrid ?? 51}`,
    `    priority ${o.priority}`,
    `    advert_int ${o.advertInt ?? '1'}`,
    ...(o.version ? [`    version ${o.version}`] : []),
    ...(o.nopreempt ? ['    nopreempt'] : []),
    ...(o.auth ? ['    authentication {', `        auth_type ${o.authType ?? 'PASS'}`, `        auth_pass ${o.auth}`, '    }'] : []),
    ...(o.unicastSrc ? [`    unicast_src_ip ${o.unicastSrc}`] : []),
    ...(o.unicastPeers ? ['    unicast_peer {', ...o.unicastPeers.map((p) => `        ${p}`), '    }'] : []),
    '    virtual_ipaddress {',
    `        ${o.vip}`,
    '    }',
    ...(o.extra ? [o.extra] : []),
    '}',
  ];
  return lines.join('\n') + '\n';
}

export function globalDefs(routerId: string, extra = ''): string {
  return `global_defs {\n    router_id ${routerId}\n    script_user root\n${extra}}\n`;
}

export interface RouterLab {
  readonly lab: NetnsLab;
  readonly dir: RouterDir;
  readonly r1: string;
  readonly r2: string;
  readonly c: string;
}

/**
 * Two routers and a client on one bridged segment: 10.N.0.1, 10.N.0.2 and 10.N.0.10/24 on
 * `eth0` (MACs 02:NN:00:00:00:01/02/0a, NN = N in hex), optionally fdNN::1/2/10/64 too.
 * Torn down by the test's teardown, whatever happens.
 */
export function routerLab(
  t: { teardown(fn: () => void): void },
  prefix: string,
  n: number,
  opts: { v6?: boolean; macs?: boolean } = {},
): RouterLab {
  const lab = new NetnsLab(prefix);
  const dir = new RouterDir();
  t.teardown(() => {
    lab.removeAll();
    dir.remove();
  });
  const hex = n.toString(16).padStart(2, '0');
  const nodes = [
    ['r1', '1', '01'],
    ['r2', '2', '02'],
    ['c', '10', '0a'],
  ] as const;
  const ns = nodes.map(([name]) => lab.addNs(name));
  lab.segment(
    'sw',
    nodes.map(([, , m], i) => ({ ns: ns[i]!, ifname: 'eth0', ...(opts.macs !== false ? { mac: `02:${hex}:00:00:00:${m}` } : {}) })),
  );
  nodes.forEach(([, host], i) => {
    nsExec(ns[i]!, ['ip', 'addr', 'add', `10.${n}.0.${host}/24`, 'dev', 'eth0']);
    if (opts.v6) {
      nsExec(ns[i]!, ['sysctl', '-q', '-w', 'net.ipv6.conf.eth0.accept_dad=0']);
      nsExec(ns[i]!, ['ip', '-6', 'addr', 'add', `fd${hex}::${host}/64`, 'dev', 'eth0', 'nodad']);
    }
  });
  return { lab, dir, r1: ns[0]!, r2: ns[1]!, c: ns[2]! };
}

/** Resolves once the router's VRRP is up: vigil logs `daemon.ready`, keepalived `Startup complete`. */
export async function waitReady(...routers: Router[]): Promise<void> {
  for (const r of routers) {
    const mark = r.kind === 'vigil' ? '"event":"daemon.ready"' : 'Startup complete';
    await waitFor(`${r.kind} ${r.name} ready`, () => outputOf(r).includes(mark), 30_000, 20);
  }
}

/** One thread of a process as the kernel schedules it (fields 19, 40, 41 of /proc/PID/task/TID/stat). */
export interface ThreadScheduling {
  readonly tid: number;
  readonly comm: string;
  readonly nice: number;
  readonly rtPriority: number;
  /** 0 SCHED_OTHER, 2 SCHED_RR */
  readonly policy: number;
}

/** Every thread of `pid` with its scheduling (`ip netns exec` execs the daemon: the spawned pid is vigil's own). */
export function threadScheduling(pid: number): ThreadScheduling[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // the fields after "(comm)", which may hold spaces: field 3 is rest[0]
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    return { tid: Number(tid), comm, nice: Number(rest[19 - 3]), rtPriority: Number(rest[40 - 3]), policy: Number(rest[41 - 3]) };
  });
}

/** SIGHUP to vigil router `name` started by startVigil in `dir` (read from its pid file): a reload. */
export function reloadVigil(dir: RouterDir, name: string): void {
  process.kill(Number(readFileSync(join(dir.dir, `${name}.pid`), 'utf8').trim()), 'SIGHUP');
}

/** Runs `body`; when it fails, logs what each router printed before rethrowing. */
export async function withRouterLogs<T>(t: { log(...v: unknown[]): void }, routers: readonly Router[], body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    for (const r of routers) t.log(outputOf(r));
    throw e;
  }
}
