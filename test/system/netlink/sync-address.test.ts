/**
 * The synchronous RTM_NEWADDR used at take-over (src/netlink/sync-address.ts) against the
 * real kernel, in a namespace built and removed here; effects checked with `ip -j`.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetnsLab, nsExec, requireRoot } from '../../helpers/netns.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIX = fileURLToPath(new URL('./fixtures/sync-add.ts', import.meta.url));

test('adds IPv4 (label, scope, broadcast) and IPv6 (nodad) addresses; present when there; typed errors', (t) => {
  if (!requireRoot(t)) return t.pass();
  const l = new NetnsLab('vsa');
  t.teardown(() => l.removeAll());
  const ns = l.addNs('a');
  const peer = l.addNs('b');
  l.veth(ns, 'eth0', peer, 'eth0');
  const v4 = { ifname: 'eth0', address: '192.0.2.10', prefixLen: 24, family: 4, label: 'eth0:vip', scope: 'link', broadcast: '+' };
  const v6 = { ifname: 'eth0', address: '2001:db8:1::10', prefixLen: 64, family: 6 };
  const calls = [
    { spec: v4 },
    { spec: v4 },
    { spec: v6 },
    { spec: { ...v4, address: '192.0.2.11' }, ifindex: 999_999 },
  ];
  const out = JSON.parse(
    execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', FIX, JSON.stringify(calls)], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 }),
  ) as Array<{ ok?: string; code?: string; message?: string }>;
  t.deepEqual(out.slice(0, 3), [{ ok: 'added' }, { ok: 'present' }, { ok: 'added' }]);
  t.is(out[3]?.code, 'VIGIL_NL_ENODEV');
  t.regex(out[3]?.message ?? '', /add address 192\.0\.2\.11\/24/);
  const [dev] = JSON.parse(nsExec(ns, ['ip', '-j', 'addr', 'show', 'dev', 'eth0'])) as Array<{ addr_info: Array<Record<string, unknown>> }>;
  const a4 = dev?.addr_info.find((a) => a['local'] === '192.0.2.10');
  t.like(a4, { prefixlen: 24, scope: 'link', label: 'eth0:vip', broadcast: '192.0.2.255' });
  const a6 = dev?.addr_info.find((a) => a['local'] === '2001:db8:1::10');
  t.like(a6, { prefixlen: 64, nodad: true });
  t.falsy(a6?.['tentative'], 'never tentative');
  t.falsy(dev?.addr_info.find((a) => a['local'] === '192.0.2.11'));
});
