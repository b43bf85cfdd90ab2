/**
 * Cost of vigil's packet I/O calls, measured on a veth pair in a namespace of its own:
 *   - sendArp() / sendNa(): per call (frame build + non-blocking sendto over AF_PACKET)
 *   - VrrpSocket.send(): per call (non-blocking sendto on the raw socket)
 *   - receive path: send() on one end to onPacket() on the other, through the kernel, the
 *     receiving thread's poll handle (what a received advert waits before the FSM sees it)
 * Prints one JSON object (µs; min/p50/p99/max). Needs root.
 *
 *   sudo node --import tsx bench/garp-send.ts [--n 20000]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openGarpSender } from '../src/io/garp.ts';
import { openVrrpSocket } from '../src/io/vrrp-socket.ts';

const nArg = process.argv.indexOf('--n');
const N = nArg > 0 ? Number(process.argv[nArg + 1]) : 20_000;

function stats(us: number[]): Record<string, number> {
  const s = [...us].sort((a, b) => a - b);
  const at = (q: number): number => Number((s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN).toFixed(2));
  return { n: s.length, min: at(0), p50: at(0.5), p99: at(0.99), max: at(1) };
}

function time(n: number, f: () => void): number[] {
  const us: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f();
    us.push((performance.now() - t0) * 1000);
  }
  return us;
}

async function inner(): Promise<void> {
  const sysfs = (ifn: string, f: string): string => readFileSync(`/sys/class/net/${ifn}/${f}`, 'utf8').trim();
  const link = { ifname: 'v0', ifindex: Number(sysfs('v0', 'ifindex')), mac: Buffer.from(sysfs('v0', 'address').replaceAll(':', ''), 'hex') };
  const g = openGarpSender(link);
  time(2000, () => g.sendArp('10.99.0.100')); // warm up (JIT, koffi)
  const arp = time(N, () => g.sendArp('10.99.0.100'));
  time(2000, () => g.sendNa('2001:db8::64'));
  const na = time(N, () => g.sendNa('2001:db8::64'));
  g.close();

  const payload = Buffer.from('213396010101da300ad300643131313100000000', 'hex');
  const rx: number[] = [];
  let pendingAt = 0;
  let resolveOne: (() => void) | undefined;
  const b = openVrrpSocket({ family: 4, ifname: 'v1', group: '224.0.0.18', unicast: false }, () => {
    if (pendingAt) rx.push((performance.now() - pendingAt) * 1000);
    pendingAt = 0;
    resolveOne?.();
  }, (e) => console.error(e));
  const a = openVrrpSocket({ family: 4, ifname: 'v0', group: '224.0.0.18', unicast: false, src: '10.99.0.1' }, () => {}, (e) => console.error(e));
  const send = time(N, () => a.send(payload, '224.0.0.18'));
  await new Promise((r) => setTimeout(r, 1000)); // the receiver drains the burst
  for (let i = 0; i < 2000; i++) {
    const got = new Promise<void>((r) => (resolveOne = r));
    pendingAt = performance.now();
    a.send(payload, '224.0.0.18');
    await Promise.race([got, new Promise((r) => setTimeout(r, 100))]);
    await new Promise((r) => setImmediate(r));
  }
  a.close();
  b.close();
  process.stdout.write(
    `${JSON.stringify({
      sendArpUs: stats(arp),
      sendNaUs: stats(na),
      vrrpSendUs: stats(send),
      sendToOnPacketUs: stats(rx),
      receivedOf: 2000,
      node: process.version,
    })}\n`,
  );
}

if (process.argv.includes('--inner')) {
  await inner();
} else {
  const ns = `viobench-${randomBytes(3).toString('hex')}`;
  const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'inherit' });
  ip('netns', 'add', ns);
  try {
    ip('-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    ip('-n', ns, 'addr', 'add', '10.99.0.1/24', 'dev', 'v0');
    ip('-n', ns, 'addr', 'add', '10.99.0.2/24', 'dev', 'v1');
    // Both ends live in this one namespace: v1 must accept packets from a local source.
    for (const k of ['net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0', 'net.ipv4.conf.v1.rp_filter=0', 'net.ipv4.conf.v1.accept_local=1']) {
      ip('netns', 'exec', ns, 'sysctl', '-q', '-w', k);
    }
    for (const l of ['lo', 'v0', 'v1']) ip('-n', ns, 'link', 'set', l, 'up');
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', new URL(import.meta.url).pathname, '--inner', '--n', String(N)], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    process.exitCode = r.status ?? 1;
  } finally {
    ip('netns', 'del', ns);
  }
}
