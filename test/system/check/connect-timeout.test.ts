/**
 * connect_timeout against a peer that drops SYNs and queries (nftables in a namespace the
 * test creates): the one failure that loopback alone cannot produce.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { NetnsLab, nsExec, requireRoot } from '../../helpers/netns.ts';
import type { AttemptResult, CheckTask } from '../../../src/check/task.ts';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('./fixtures/attempts.ts', import.meta.url));
const repo = fileURLToPath(new URL('../../../', import.meta.url));

async function attemptsIn(ns: string, tasks: CheckTask[]): Promise<AttemptResult[]> {
  const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', fixture, JSON.stringify(tasks)], {
    cwd: repo,
    timeout: 60_000,
  });
  return JSON.parse(stdout) as AttemptResult[];
}

test('SYNs dropped: TCP_CHECK, HTTP_GET and SSL_GET fail with connect-timeout after connect_timeout; DNS times out', async (t) => {
  if (!requireRoot(t)) {
    t.pass();
    return;
  }
  const lab = new NetnsLab('vck');
  t.teardown(() => lab.removeAll());
  const ns = lab.addNs('drop');
  // the absolute path: under npm scripts node_modules/.bin/nft is @vercel/nft, not nftables
  nsExec(ns, ['/usr/sbin/nft', 'add table inet vck']);
  nsExec(ns, ['/usr/sbin/nft', 'add chain inet vck in { type filter hook input priority 0 ; }']);
  nsExec(ns, ['/usr/sbin/nft', 'add rule inet vck in tcp dport 81 drop']);
  nsExec(ns, ['/usr/sbin/nft', 'add rule inet vck in udp dport 53 drop']);
  const timeout = 400;
  const url = [{ path: '/', statusCodes: [] }];
  const results = await attemptsIn(ns, [
    { kind: 'tcp', address: '127.0.0.1', port: 81, connectTimeoutMs: timeout },
    { kind: 'http', ssl: false, address: '127.0.0.1', port: 81, connectTimeoutMs: timeout, urls: url, sni: false, tlsVerify: false },
    { kind: 'http', ssl: true, address: '127.0.0.1', port: 81, connectTimeoutMs: timeout, urls: url, sni: false, tlsVerify: false },
    { kind: 'dns', address: '127.0.0.1', port: 53, connectTimeoutMs: timeout, queryType: 'A', name: '.' },
    // a port that is not dropped and has no listener: refused at once
    { kind: 'tcp', address: '127.0.0.1', port: 82, connectTimeoutMs: timeout },
  ]);
  const [tcp, http, ssl, dns, refused] = results;
  for (const [name, r] of [['tcp', tcp], ['http', http], ['ssl', ssl]] as const) {
    t.like(r, { ok: false, reason: 'connect-timeout' }, name);
    t.true(r!.durationMs >= timeout - 20 && r!.durationMs < timeout + 1500, `${name} took ${r!.durationMs} ms`);
  }
  t.like(dns, { ok: false, reason: 'timeout' });
  t.like(refused, { ok: false, reason: 'connect-refused' });
  t.true(refused!.durationMs < timeout);
});
