/**
 * A real server in one namespace, the checker in another, joined by a veth. The server's
 * host goes silent (nftables drops everything to it): the checker must report it down within
 * delay_loop + connect_timeout × (retry+1) + delay_before_retry × retry (issue: LVS, Proof),
 * and up again within delay_loop once it answers.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { NetnsLab, nsExec, requireRoot, waitFor } from '../../helpers/netns.ts';
import type { CheckTarget } from '../../../src/check/scheduler.ts';

const fixture = fileURLToPath(new URL('./fixtures/watch.ts', import.meta.url));
const repo = fileURLToPath(new URL('../../../', import.meta.url));
// the absolute path: under npm scripts node_modules/.bin/nft is @vercel/nft, not nftables
const NFT = '/usr/sbin/nft';

interface Line {
  at?: number;
  key?: string;
  up?: boolean;
  reason?: string;
  ready?: boolean;
}

test('a silent real server is reported down within the keepalived bound, and up again', async (t) => {
  if (!requireRoot(t)) {
    t.pass();
    return;
  }
  const lab = new NetnsLab('vck');
  t.teardown(() => lab.removeAll());
  const client = lab.addNs('cli');
  const server = lab.addNs('srv');
  lab.veth(client, 'eth0', server, 'eth0');
  nsExec(client, ['ip', 'addr', 'add', '10.231.0.1/24', 'dev', 'eth0']);
  nsExec(server, ['ip', 'addr', 'add', '10.231.0.2/24', 'dev', 'eth0']);
  const web = lab.spawnIn(server, [
    process.execPath,
    '-e',
    "require('node:http').createServer((q, r) => r.end('ok')).listen(8080, '10.231.0.2', () => console.log('listening'))",
  ]);
  await new Promise<void>((resolve, reject) => {
    web.stdout!.once('data', () => resolve());
    web.once('exit', (code) => reject(new Error(`web server exited ${code}`)));
  });

  const timing = { delayLoopMs: 1000, retry: 2, delayBeforeRetryMs: 300, connectTimeoutMs: 400 };
  const targets: CheckTarget[] = [
    {
      key: 'web',
      checkers: [
        {
          task: {
            kind: 'http', ssl: false, address: '10.231.0.2', port: 8080, connectTimeoutMs: timing.connectTimeoutMs,
            urls: [{ path: '/', statusCodes: [] }], sni: false, tlsVerify: false,
          },
          delayLoopMs: timing.delayLoopMs,
          retry: timing.retry,
          delayBeforeRetryMs: timing.delayBeforeRetryMs,
          warmupMs: 0,
          alpha: true,
        },
      ],
    },
  ];
  const watcher = lab.spawnIn(client, [process.execPath, '--import', 'tsx', fixture, JSON.stringify(targets)], { cwd: repo });
  const lines: Array<Line & { seen: number }> = [];
  createInterface({ input: watcher.stdout! }).on('line', (l) => {
    try {
      lines.push({ ...(JSON.parse(l) as Line), seen: performance.now() });
    } catch {
      t.log(`watcher: ${l}`);
    }
  });
  await waitFor('watcher ready', () => lines.some((l) => l.ready === true), 30_000);
  await waitFor('web up', () => lines.some((l) => l.up === true), 10_000);

  // the server's host goes silent: SYNs vanish, no RST, no ICMP
  nsExec(server, [NFT, 'add table inet vck']);
  nsExec(server, [NFT, 'add chain inet vck in { type filter hook input priority 0 ; policy drop ; }']);
  const silentAt = performance.now();
  await waitFor('web down', () => lines.some((l) => l.up === false), 20_000);
  const down = lines.find((l) => l.up === false)!;
  const bound =
    timing.delayLoopMs + timing.connectTimeoutMs * (timing.retry + 1) + timing.delayBeforeRetryMs * timing.retry;
  const took = down.seen - silentAt;
  t.log(`down after ${Math.round(took)} ms (bound ${bound} ms), reason ${down.reason}`);
  t.is(down.reason, 'connect-timeout');
  // the check itself is at most `bound` late; allow for process start-up of nothing, pipe
  // latency and a loaded machine
  t.true(took <= bound + 750, `down after ${Math.round(took)} ms, bound ${bound} ms`);
  t.true(took >= timing.connectTimeoutMs * (timing.retry + 1) + timing.delayBeforeRetryMs * timing.retry - 50, 'not before the retries ran');

  nsExec(server, [NFT, 'delete table inet vck']);
  const backAt = performance.now();
  await waitFor('web up again', () => lines.filter((l) => l.up === true).length >= 2, 10_000);
  const upAgain = lines.filter((l) => l.up === true)[1]!;
  t.true(upAgain.seen - backAt <= timing.delayLoopMs + timing.connectTimeoutMs + 750, `up after ${Math.round(upAgain.seen - backAt)} ms`);
});
