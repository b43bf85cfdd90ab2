/**
 * vigil end to end against the kernel's IPVS (run inside ../shared/kernel-vm/run):
 * a client namespace reaches a NAT virtual server through a director namespace running
 * vigil, to two real HTTP servers in their own namespaces. One real server dies: vigil
 * removes it within delay_loop + connect_timeout × (retry+1) + delay_before_retry × retry,
 * the client keeps being served, and the server returns when it recovers. An entry vigil
 * did not create is left alone, before, during and after.
 */
import test from 'ava';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetnsLab, nsExec, requireRoot, waitFor } from '../helpers/netns.ts';
import { outputOf, RouterDir, startVigil } from '../helpers/routers.ts';

const VIP = '10.90.1.100';

function ipvsRules(ns: string): string {
  return nsExec(ns, ['ipvsadm', '-S', '-n']);
}

/** One HTTP GET from the client namespace; the body names the real server that answered. */
function get(ns: string): string | undefined {
  const r = spawnSync(
    'ip',
    ['netns', 'exec', ns, 'python3', '-c', `import urllib.request;print(urllib.request.urlopen('http://${VIP}/', timeout=3).read().decode().strip())`],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return r.status === 0 ? r.stdout.trim() : undefined;
}

test('NAT virtual server: a dead real server is removed within the checker bound, the client keeps being served, it returns on recovery; foreign entries survive', async (t) => {
  if (!requireRoot(t)) return;
  const lab = new NetnsLab('vlv');
  const dir = new RouterDir();
  t.teardown(() => {
    lab.removeAll();
    dir.remove();
  });
  const c = lab.addNs('c');
  const d = lab.addNs('d');
  const rs1 = lab.addNs('rs1');
  const rs2 = lab.addNs('rs2');
  lab.veth(c, 'eth0', d, 'ethc');
  lab.segment('sw', [
    { ns: d, ifname: 'ethr' },
    { ns: rs1, ifname: 'eth0' },
    { ns: rs2, ifname: 'eth0' },
  ]);
  nsExec(c, ['ip', 'addr', 'add', '10.90.1.2/24', 'dev', 'eth0']);
  nsExec(c, ['ip', 'route', 'add', 'default', 'via', '10.90.1.1']);
  nsExec(d, ['ip', 'addr', 'add', '10.90.1.1/24', 'dev', 'ethc']);
  nsExec(d, ['ip', 'addr', 'add', `${VIP}/24`, 'dev', 'ethc']);
  nsExec(d, ['ip', 'addr', 'add', '10.90.2.1/24', 'dev', 'ethr']);
  nsExec(d, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  nsExec(d, ['sysctl', '-q', '-w', 'net.ipv4.vs.expire_nodest_conn=1']);
  const servers = new Map<string, ChildProcess>();
  const serve = (name: string, ns: string, addr: string): void => {
    const root = join(dir.dir, name);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'index.html'), `${name}\n`);
    servers.set(name, lab.spawnIn(ns, ['python3', '-m', 'http.server', '80', '--bind', addr, '--directory', root]));
  };
  for (const [name, ns, addr] of [
    ['rs1', rs1, '10.90.2.11'],
    ['rs2', rs2, '10.90.2.12'],
  ] as const) {
    nsExec(ns, ['ip', 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
    nsExec(ns, ['ip', 'route', 'add', 'default', 'via', '10.90.2.1']);
    serve(name, ns, addr);
  }
  // Somebody else's service: vigil must leave it alone.
  nsExec(d, ['ipvsadm', '-A', '-t', '10.90.1.200:8080', '-s', 'rr']);

  const delayLoop = 2;
  const connectTimeout = 1;
  const retry = 1;
  const delayBeforeRetry = 1;
  const rsBlock = (addr: string): string =>
    `    real_server ${addr} 80 {\n        weight 1\n        HTTP_GET {\n            url {\n                path /\n                status_code 200\n            }\n` +
    `            connect_timeout ${connectTimeout}\n            retry ${retry}\n            delay_before_retry ${delayBeforeRetry}\n        }\n    }\n`;
  const conf = dir.file(
    'd.conf',
    `global_defs {\n    router_id director\n}\nvirtual_server ${VIP} 80 {\n    delay_loop ${delayLoop}\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n` +
      rsBlock('10.90.2.11') +
      rsBlock('10.90.2.12') +
      '}\n',
  );
  const v = startVigil(lab, d, dir, 'd', conf, ['-C']);
  try {
    await waitFor('the service in IPVS', () => /10\.90\.2\.11:80/.test(ipvsRules(d)) && /10\.90\.2\.12:80/.test(ipvsRules(d)), 150_000, 200);
    t.regex(ipvsRules(d), new RegExp(`-A -t ${VIP.replace(/\./g, '\\.')}:80 -s rr`));
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(get(c) ?? 'failed');
    t.deepEqual([...seen].sort(), ['rs1', 'rs2']);

    // rs1 dies.
    const killedAt = performance.now();
    servers.get('rs1')!.kill('SIGKILL');
    process.kill(-servers.get('rs1')!.pid!, 'SIGKILL');
    await waitFor('rs1 out of IPVS', () => !/10\.90\.2\.11:80/.test(ipvsRules(d)), 60_000, 100);
    const removedMs = performance.now() - killedAt;
    const boundMs = (delayLoop + connectTimeout * (retry + 1) + delayBeforeRetry * retry) * 1000;
    t.log(`rs1 removed ${removedMs.toFixed(0)} ms after it died (keepalived's bound: ${boundMs} ms)`);
    // Under emulation every step is slower; the bound with a generous allowance for the VM.
    t.true(removedMs < boundMs * 3, `removed after ${removedMs} ms`);
    for (let i = 0; i < 4; i++) t.is(get(c), 'rs2');

    // rs1 recovers and comes back.
    serve('rs1', rs1, '10.90.2.11');
    await waitFor('rs1 back in IPVS', () => /10\.90\.2\.11:80/.test(ipvsRules(d)), 60_000, 200);
    t.regex(ipvsRules(d), /10\.90\.1\.200:8080/);

    // Stop: vigil removes what it added, and only that.
    v.proc.kill('SIGTERM');
    t.is((await v.exited).code, 0);
    const after = ipvsRules(d);
    t.notRegex(after, new RegExp(`${VIP.replace(/\./g, '\\.')}:80`));
    t.regex(after, /10\.90\.1\.200:8080/);
  } catch (e) {
    t.log(outputOf(v));
    throw e;
  }
});
