/**
 * `vigil -t` asks the kernel (rtnetlink) which interfaces exist in its own network
 * namespace, as the daemon does: in a namespace made with `unshare -n`, only `lo` exists,
 * whatever the host has; in a test namespace, exactly the veths the test made.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetnsLab, requireRoot } from '../../helpers/netns.ts';

function conf(iface: string): string {
  return `vrrp_instance A {\n interface ${iface}\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n`;
}

function vigilT(prefix: readonly string[], file: string): { status: number | null; stderr: string } {
  const r = spawnSync(prefix[0]!, [...prefix.slice(1), process.execPath, '--import', 'tsx', 'src/cli/main.ts', '-t', '-f', file], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

test.serial('-t names the interfaces missing in its own network namespace, asked over rtnetlink', (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-ifs-'));
  const lab = new NetnsLab('ki');
  t.teardown(() => {
    lab.removeAll();
    rmSync(dir, { recursive: true, force: true });
  });
  // A host interface (not lo) is missing in a fresh `unshare -n` namespace.
  const host = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1]).find((n) => n !== undefined && n !== 'lo');
  if (host !== undefined) {
    writeFileSync(join(dir, 'host.conf'), conf(host));
    const u = vigilT(['unshare', '-n'], join(dir, 'host.conf'));
    t.is(u.status, 0, u.stderr);
    t.regex(u.stderr, new RegExp(`host\\.conf:2:12: warning: interface ${host} does not exist`));
  }
  // In a namespace with a veth named ens9, ens9 exists and ens10 does not.
  const ns = lab.addNs('a');
  const peer = lab.addNs('b');
  lab.veth(ns, 'ens9', peer, 'p0');
  writeFileSync(join(dir, 'ok.conf'), conf('ens9'));
  writeFileSync(join(dir, 'missing.conf'), conf('ens10'));
  const ok = vigilT(['ip', 'netns', 'exec', ns], join(dir, 'ok.conf'));
  t.is(ok.status, 0, ok.stderr);
  t.is(ok.stderr, '');
  const missing = vigilT(['ip', 'netns', 'exec', ns], join(dir, 'missing.conf'));
  t.is(missing.status, 0, missing.stderr);
  t.regex(missing.stderr, /missing\.conf:2:12: warning: interface ens10 does not exist/);
});
