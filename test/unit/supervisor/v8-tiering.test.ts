import test from 'ava';
import { parseConfigText } from '../../../src/config/load.ts';
import type { Config } from '../../../src/config/model.ts';
import { attemptsPerSecond, tiersWanted } from '../../../src/supervisor/v8-tiering.ts';

function config(text: string): Config {
  const r = parseConfigText(text, 'test.conf', { configId: 'n', interfaceExists: () => true });
  if (!r.config) throw new Error(JSON.stringify(r.diagnostics));
  return r.config;
}

const instance = (n: number): string => `vrrp_instance VI_${n} {\n  interface lo\n  virtual_router_id ${n}\n  priority 100\n  virtual_ipaddress {\n    10.0.${n >> 8}.${n & 255}\n  }\n}\n`;
const realServers = (n: number, delayLoop: number): string =>
  `virtual_server 10.1.0.1 80 {\n  delay_loop ${delayLoop}\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n` +
  Array.from({ length: n }, (_, i) => `  real_server 10.2.${i >> 8}.${(i & 255) + 1} 80 {\n    TCP_CHECK {\n      connect_timeout 2\n    }\n  }\n`).join('') +
  '}\n';

test('the seed node A shape (two instances, one script a second) runs interpreted', (t) => {
  const c = config(instance(1) + instance(2) + 'vrrp_script chk {\n  script "/bin/true"\n  interval 1\n}\n');
  t.is(attemptsPerSecond(c), 1);
  const tiers = tiersWanted(c);
  t.false(tiers.optimizer);
  t.false(tiers.baseline, 'nor Sparkplug');
});

test('100 real servers checked every 6 s (17 a second) run interpreted; every second (100 a second) optimized', (t) => {
  const slow = config(realServers(100, 6));
  t.is(Math.round(attemptsPerSecond(slow)), 17);
  t.false(tiersWanted(slow).optimizer);
  t.true(tiersWanted(slow).baseline, 'with Sparkplug');
  t.false(tiersWanted(config(realServers(30, 6))).baseline, '5 a second: interpreted only');
  const fast = config(realServers(100, 1));
  t.is(attemptsPerSecond(fast), 100);
  t.true(tiersWanted(fast).optimizer);
  t.true(tiersWanted(fast).baseline);
});

test('more than 32 VRRP instances want the optimizer', (t) => {
  const instances = (n: number): Config => config(Array.from({ length: n }, (_, i) => instance(i + 1)).join(''));
  t.false(tiersWanted(instances(32)).optimizer);
  const many = tiersWanted(instances(33));
  t.true(many.optimizer);
  t.true(many.baseline);
});

test('threadGc collects this thread\'s heap: an unreachable object is gone after gc()', async (t) => {
  const { threadGc } = await import('../../../src/io/isolate-heap.ts');
  const gc = threadGc();
  const ref = (() => new WeakRef({ big: new Array(1000).fill(1) }))();
  await new Promise((r) => setTimeout(r, 10)); // a WeakRef holds its target until the job ends
  gc();
  t.is(ref.deref(), undefined);
  t.is(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'the flag was switched off again: no global gc');
});
