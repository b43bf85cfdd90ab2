/**
 * How long NetControl takes to add and to remove 1 and 100 VIPs (IPv4 and IPv6), measured
 * inside a network namespace this script creates and always removes. Prints one JSON document.
 *
 *   sudo node --import tsx bench/netlink-vips.ts [--runs 7]
 *
 * Each sample is the wall time of N sequential addAddress (or removeAddress) calls, each a
 * GETLINK (interface by name) plus NEWADDR/DELADDR round trip over one rtnetlink socket, as
 * the supervisor issues them on a VRRP transition. Times in ms: min / median / max over runs.
 * For scale, the same work done by `ip -batch` (one iproute2 process, one socket) is timed too.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 7) || 7;

function stats(xs: number[]): { min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return { min: r(s[0]!), median: r(s[Math.floor(s.length / 2)]!), max: r(s[s.length - 1]!) };
}

function vips(n: number, family: 4 | 6): Array<{ ifname: string; address: string; prefixLen: number; family: 4 | 6 }> {
  return Array.from({ length: n }, (_, i) =>
    family === 4
      ? { ifname: 'eth0', address: `10.${100 + (i >> 8)}.${i & 255}.1`, prefixLen: 24, family }
      : { ifname: 'eth0', address: `2001:db8:${(i + 1).toString(16)}::1`, prefixLen: 64, family },
  );
}

async function inner(): Promise<void> {
  const { openNetControl } = await import('../src/netlink/net-control.ts');
  const nc = await openNetControl({ timeoutMs: 5000 });
  const results: Record<string, unknown> = {};
  try {
    await nc.getLink('eth0'); // warm the socket and the module
    for (const family of [4, 6] as const) {
      for (const n of [1, 100]) {
        const list = vips(n, family);
        const add: number[] = [];
        const del: number[] = [];
        const ipAdd: number[] = [];
        const ipDel: number[] = [];
        for (let r = 0; r < runs; r++) {
          let t0 = performance.now();
          for (const v of list) if ((await nc.addAddress(v)) !== 'added') throw new Error(`not added: ${v.address}`);
          add.push(performance.now() - t0);
          t0 = performance.now();
          for (const v of list) if ((await nc.removeAddress(v)) !== 'removed') throw new Error(`not removed: ${v.address}`);
          del.push(performance.now() - t0);
          // iproute2 for scale: one process, the same adds/removes from a batch file.
          const f = join(tmpdir(), `vnl-bench-${process.pid}.batch`);
          const nodad = family === 6 ? ' nodad' : '';
          writeFileSync(f, list.map((v) => `addr add ${v.address}/${v.prefixLen} dev eth0${nodad}\n`).join(''));
          t0 = performance.now();
          execFileSync('ip', ['-batch', f]);
          ipAdd.push(performance.now() - t0);
          writeFileSync(f, list.map((v) => `addr del ${v.address}/${v.prefixLen} dev eth0\n`).join(''));
          t0 = performance.now();
          execFileSync('ip', ['-batch', f]);
          ipDel.push(performance.now() - t0);
          unlinkSync(f);
        }
        results[`ipv${family}_${n}`] = {
          vigil: { addMs: stats(add), removeMs: stats(del), perVipAddMs: stats(add.map((x) => x / n)) },
          ipBatch: { addMs: stats(ipAdd), removeMs: stats(ipDel) },
        };
      }
    }
  } finally {
    await nc.close();
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

async function outer(): Promise<void> {
  const ns = `vnlb${randomBytes(3).toString('hex')}`;
  const ip = (...a: string[]): string => execFileSync('ip', a, { encoding: 'utf8' });
  ip('netns', 'add', ns);
  try {
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'eth0', 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'eth1', 'up');
    const self = fileURLToPath(import.meta.url);
    const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', self, '--inner', '--runs', String(runs)], {
      encoding: 'utf8',
      timeout: 300_000,
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    const inner = JSON.parse(out) as Record<string, unknown>;
    process.stdout.write(
      JSON.stringify({
        bench: 'netlink-vips',
        date: new Date().toISOString(),
        node: process.version,
        kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
        runs,
        unit: 'ms, min/median/max over runs; N sequential calls per sample',
        results: inner,
      }) + '\n',
    );
  } finally {
    try {
      ip('netns', 'del', ns);
    } catch {
      /* already gone */
    }
  }
}

if (args.includes('--inner')) await inner();
else await outer();
