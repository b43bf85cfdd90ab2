/**
 * The announcement on take-over, counted on the wire: every virtual_ipaddress gets exactly
 * garp_master_repeat gratuitous ARPs (IPv4) or unsolicited NAs (IPv6). The first one of
 * each goes out from the supervisor the moment the kernel has the address, the rest from
 * the VRRP worker; this proves the two halves add up to keepalived's count.
 */
import test from 'ava';
import { requireRoot, watchWire } from '../../helpers/netns.ts';
import { globalDefs, instanceBlock, outputOf, routerLab, startVigil, waitAddress } from '../../helpers/routers.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test.serial('take-over sends garp_master_repeat gratuitous ARPs / NAs per VIP, no more, no fewer', async (t) => {
  if (!requireRoot(t)) return;
  const p = routerLab(t, 'vgc', 85, { v6: true });
  const V4 = ['10.85.0.100', '10.85.0.101'];
  const V6 = 'fd55::100';
  const REPEAT = 3;
  const garp = `    garp_master_repeat ${REPEAT}\n    garp_master_delay 0`;
  const conf =
    globalDefs('gc') +
    instanceBlock({ name: 'VI_4', state: 'MASTER', priority: 255, vrid: 61, vip: V4.map((v) => `${v}/24`).join('\n        '), advertInt: '1', extra: garp }) +
    instanceBlock({ name: 'VI_6', state: 'MASTER', priority: 255, vrid: 62, vip: `${V6}/64`, advertInt: '1', version: 3, extra: `    native_ipv6\n${garp}` });

  // Everything r1 sends, seen from the client, from before vigil starts.
  const capture = await watchWire(t, p.lab, p.c, 'arp or icmp6');

  const a = startVigil(p.lab, p.r1, p.dir, 'r1', p.dir.file('r1.conf', conf));
  try {
    for (const v of V4) await waitAddress(p.r1, 'eth0', v, true, 15_000);
    await waitAddress(p.r1, 'eth0', V6, true, 15_000);
    // The whole burst leaves at once (garp_master_delay 0: no second one); give it time to arrive.
    await sleep(1500);
    const lines = capture.text().split('\n');
    const from = '02:55:00:00:00:01';
    for (const v of V4) {
      const arps = lines.filter((l) => l.startsWith(`${l.split(' ')[0]} ${from} > ff:ff:ff:ff:ff:ff, ethertype ARP`) && new RegExp(`${v.replaceAll('.', '\\.')}\\b`).test(l));
      t.is(arps.length, REPEAT, `gratuitous ARPs for ${v}:\n${arps.join('\n')}`);
    }
    const nas = lines.filter((l) => l.includes(` ${from} > `) && l.includes('neighbor advertisement') && l.includes(`tgt is ${V6}`));
    t.is(nas.length, REPEAT, `unsolicited NAs for ${V6}:\n${nas.join('\n')}`);
  } catch (e) {
    t.log(outputOf(a));
    t.log(capture.text());
    throw e;
  } finally {
    a.proc.kill('SIGTERM');
    await a.exited;
  }
});
