/**
 * announce_route timings, against the real kernel and real BIRD 2, in namespaces this script
 * creates and always removes. Prints one JSON document.
 *
 *   sudo node --import tsx bench/announce.ts [--runs 200]
 *
 * The director side runs vigil's own components in one process inside the director's
 * namespace: computeDesired (the quorum verdict) → AnnounceHost → RouteTable (batched
 * rtnetlink, VIPs on lo too). IPVS is not involved in any of these paths, and
 * this host's kernel has none, so `programming` is given as true; the whole daemon, IPVS
 * included, is timed by test/kernel/announce-*.test.ts inside the IPVS VM (slower: emulated).
 *
 * - verdictToWithdrawn: a check verdict (all real servers down) → computeDesired → the
 *   kernel's ack of the route's deletion (the route is gone from table 198). Target ≤ 1 ms.
 * - stopToWithdrawn: AnnounceHost.withdraw() (what SIGTERM calls first) → the kernel's ack.
 *   Target ≤ 10 ms from the signal; the daemon adds only its signal handler before it.
 * - verdictToRouterFib: the same verdict → the router's FIB has no route to the VIP
 *   (`ip monitor route` in the router namespace), through BIRD on the director (kernel
 *   protocol, learn) and eBGP to BIRD on the router (merge paths). BIRD's own delay included.
 * - scale1000: 1,000 announcing VIPs: start (VIPs on lo, stale-route dump, routes) → all
 *   1,000 routes acked; withdraw() → all 1,000 deletions acked. Targets 1 s and 100 ms.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 200) || 200;
const VIP = '10.213.9.10';

function stats(xs: number[]): { n: number; min: number; p50: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { n: s.length, min: r(s[0]!), p50: r(q(0.5)), p99: r(q(0.99)), max: r(s[s.length - 1]!) };
}

function vsText(addresses: string[]): string {
  return addresses
    .map(
      (a) =>
        `virtual_server ${a} 80 {\n lb_algo mh\n lb_kind DR\n announce_route {\n  table 198\n }\n real_server 10.93.3.11 80 {\n  TCP_CHECK {\n  }\n }\n}\n`,
    )
    .join('');
}

async function inner(routerNs: string | undefined): Promise<void> {
  const { parseConfigTextFull } = await import('../src/config/load.ts');
  const { computeDesired } = await import('../src/lvs/desired.ts');
  const { realServerKey } = await import('../src/lvs/keys.ts');
  const { AnnounceHost } = await import('../src/supervisor/announce-host.ts');
  const { RouteTable } = await import('../src/netlink/route-table.ts');
  const { createMetrics } = await import('../src/supervisor/metrics.ts');
  const { pino } = await import('pino');
  const log = pino({ level: 'silent' });
  const load = (text: string) => {
    const r = parseConfigTextFull(text, 'bench.conf', { configId: 'bench', interfaceExists: () => true });
    if (!r.config) throw new Error(JSON.stringify(r.diagnostics));
    return r.config;
  };
  const host = (): InstanceType<typeof AnnounceHost> =>
    new AnnounceHost({ log, metrics: createMetrics({ defaultMetrics: false }), openRoutes: async () => new RouteTable({ timeoutMs: 5000 }), programming: () => true });
  const inTable = (): number => (JSON.parse(execFileSync('ip', ['-j', 'route', 'show', 'table', '198'], { encoding: 'utf8' })) as unknown[]).length;
  const out: Record<string, unknown> = {};

  // one VIP: verdict → withdrawn, many times
  const cfg = load(vsText([VIP]));
  const vs = cfg.virtualServers[0]!;
  const key = realServerKey(vs, vs.realServers[0]!);
  const upRes = new Map([[key, { up: true }]]);
  const downRes = new Map([[key, { up: false }]]);
  const h = host();
  await h.start(cfg);
  let state = computeDesired(cfg, upRes).state;
  await h.update(cfg, state);
  const withdrawn: number[] = [];
  for (let i = 0; i < runs; i++) {
    state = computeDesired(cfg, upRes, state).state;
    await h.update(cfg, state);
    const t0 = performance.now();
    state = computeDesired(cfg, downRes, state).state; // the verdict arrives
    await h.update(cfg, state); // resolves on the kernel's ack
    withdrawn.push(performance.now() - t0);
  }
  if (inTable() !== 0) throw new Error('route still in table 198 after the verdict');
  out['verdictToWithdrawnMs'] = stats(withdrawn);

  // through BIRD to the router's FIB
  if (routerNs !== undefined) {
    const mon = spawn('ip', ['netns', 'exec', routerNs, 'ip', 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    let waiter: { re: RegExp; resolve: (t: number) => void } | undefined;
    mon.stdout.setEncoding('utf8').on('data', (d: string) => {
      const t = performance.now();
      buf += d;
      if (waiter && waiter.re.test(buf)) {
        const w = waiter;
        waiter = undefined;
        w.resolve(t);
      }
    });
    const next = (re: RegExp, timeoutMs = 20_000): Promise<number> =>
      new Promise((resolve, reject) => {
        buf = '';
        const timer = setTimeout(() => reject(new Error(`router: no ${re} within ${timeoutMs} ms`)), timeoutMs);
        waiter = { re, resolve: (t) => (clearTimeout(timer), resolve(t)) };
      });
    await new Promise((r) => setTimeout(r, 300));
    const fib: number[] = [];
    const fibUp: number[] = [];
    for (let i = 0; i < 20; i++) {
      const added = next(new RegExp(`^${VIP.replace(/\./g, '\\.')} `, 'm'));
      const tUp = performance.now();
      state = computeDesired(cfg, upRes, state).state;
      await h.update(cfg, state);
      fibUp.push((await added) - tUp);
      await new Promise((r) => setTimeout(r, 200));
      const gone = next(new RegExp(`^Deleted ${VIP.replace(/\./g, '\\.')} `, 'm'));
      const t0 = performance.now();
      state = computeDesired(cfg, downRes, state).state;
      await h.update(cfg, state);
      fib.push((await gone) - t0);
      await new Promise((r) => setTimeout(r, 200));
    }
    mon.kill();
    out['verdictToRouterFibMs'] = stats(fib);
    out['quorumGainedToRouterFibMs'] = stats(fibUp);
  }

  // stop: withdraw() → acked (announced first)
  state = computeDesired(cfg, upRes, state).state;
  await h.update(cfg, state);
  let t0 = performance.now();
  await h.withdraw();
  out['stopToWithdrawnMs'] = Math.round((performance.now() - t0) * 1000) / 1000;
  await h.stop();

  // 1,000 VIPs
  const addrs = Array.from({ length: 1000 }, (_, i) => `10.214.${Math.floor(i / 250)}.${(i % 250) + 1}`);
  const big = load(vsText(addrs));
  const bigRes = new Map(big.virtualServers.map((v) => [realServerKey(v, v.realServers[0]!), { up: true }]));
  const scale: Record<string, number> = {};
  for (let r = 0; r < 3; r++) {
    const hb = host();
    t0 = performance.now();
    await hb.start(big);
    const tLo = performance.now();
    await hb.update(big, computeDesired(big, bigRes).state);
    const tUp = performance.now();
    const n = inTable();
    if (n !== addrs.length) throw new Error(`${n} routes in table 198, want ${addrs.length}`);
    const t2 = performance.now();
    await hb.withdraw();
    const tDown = performance.now();
    if (inTable() !== 0) throw new Error('routes left after withdraw');
    await hb.stop();
    scale[`run${r}_startToAllAnnouncedMs`] = Math.round(tUp - t0);
    scale[`run${r}_ofWhichVipsOnLoMs`] = Math.round(tLo - t0);
    scale[`run${r}_routesOnlyMs`] = Math.round(tUp - tLo);
    scale[`run${r}_withdrawAllMs`] = Math.round(tDown - t2);
  }
  out['scale1000'] = { vips: addrs.length, ...scale };
  process.stdout.write(JSON.stringify(out) + '\n');
}

function birdDirector(): string {
  return `router id 10.93.1.2;
ipv4 table t198;
protocol device { scan time 10; }
protocol kernel vigil { kernel table 198; learn; ipv4 { table t198; import where krt_source = 248; export none; }; }
protocol bgp uplink {
  local 10.93.1.2 as 65001; neighbor 10.93.1.1 as 65000;
  hold time 3; keepalive time 1; connect retry time 1; connect delay time 1;
  ipv4 { table t198; import none; export all; next hop self; };
}
`;
}

const BIRD_ROUTER = `router id 10.93.1.1;
protocol device { scan time 10; }
protocol kernel { merge paths on; ipv4 { import none; export all; }; }
protocol bgp d1 {
  local 10.93.1.1 as 65000; neighbor 10.93.1.2 as 65001;
  hold time 3; keepalive time 1; connect retry time 1; connect delay time 1;
  ipv4 { import all; export none; };
}
`;

async function outer(): Promise<void> {
  const tag = `vab${randomBytes(3).toString('hex')}`;
  const d = `${tag}-d`;
  const rt = `${tag}-r`;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-announce-'));
  const ip = (...a: string[]): string => execFileSync('ip', a, { encoding: 'utf8' });
  const inNs = (ns: string, ...a: string[]): string => ip('netns', 'exec', ns, ...a);
  let bird = false;
  try {
    execFileSync('bird', ['--version'], { stdio: 'ignore' });
    bird = true;
  } catch {
    /* no BIRD: the router measurement is left out */
  }
  ip('netns', 'add', d);
  ip('netns', 'add', rt);
  try {
    inNs(d, 'ip', 'link', 'set', 'lo', 'up');
    inNs(rt, 'ip', 'link', 'set', 'lo', 'up');
    inNs(rt, 'ip', 'link', 'add', 'e1', 'type', 'veth', 'peer', 'name', 'e0', 'netns', d);
    inNs(rt, 'ip', 'addr', 'add', '10.93.1.1/24', 'dev', 'e1');
    inNs(rt, 'ip', 'link', 'set', 'e1', 'up');
    inNs(d, 'ip', 'addr', 'add', '10.93.1.2/24', 'dev', 'e0');
    inNs(d, 'ip', 'link', 'set', 'e0', 'up');
    if (bird) {
      writeFileSync(join(dir, 'd.conf'), birdDirector());
      writeFileSync(join(dir, 'r.conf'), BIRD_ROUTER);
      inNs(d, 'bird', '-c', join(dir, 'd.conf'), '-s', join(dir, 'd.sock'), '-P', join(dir, 'd.pid'));
      inNs(rt, 'bird', '-c', join(dir, 'r.conf'), '-s', join(dir, 'r.sock'), '-P', join(dir, 'r.pid'));
      const until = Date.now() + 20_000;
      while (!/Established/.test(inNs(rt, 'birdc', '-s', join(dir, 'r.sock'), 'show', 'protocols', 'd1'))) {
        if (Date.now() > until) throw new Error('BGP session did not come up');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const self = fileURLToPath(import.meta.url);
    const res = execFileSync('ip', ['netns', 'exec', d, process.execPath, '--import', 'tsx', self, '--inner', '--runs', String(runs), ...(bird ? ['--router', rt] : [])], {
      encoding: 'utf8',
      timeout: 600_000,
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    process.stdout.write(
      JSON.stringify({
        bench: 'announce',
        date: new Date().toISOString(),
        node: process.version,
        kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
        bird: bird ? execFileSync('bird', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() || 'yes' : 'absent',
        unit: 'ms; min/p50/p99/max over runs where a distribution is given',
        targets: { verdictToWithdrawnMs: 1, stopToWithdrawnMs: 10, scale1000: { startToAllAnnouncedMs: 1000, withdrawAllMs: 100 } },
        results: JSON.parse(res) as unknown,
      }) + '\n',
    );
  } finally {
    for (const p of ['d.pid', 'r.pid']) {
      try {
        execFileSync('sh', ['-c', `kill $(cat ${join(dir, p)}) 2>/dev/null`]);
      } catch {
        /* not running */
      }
    }
    for (const ns of [d, rt]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        /* already gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (args.includes('--inner')) {
  const i = args.indexOf('--router');
  await inner(i >= 0 ? args[i + 1] : undefined);
} else await outer();
