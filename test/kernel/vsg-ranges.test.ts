/**
 * virtual_server_group CIDR and range entries, from config text to the kernel (inside
 * ../shared/kernel-vm/run): every address of `10.84.0.0/30`, `10.84.1.1-3` and
 * `10.84.2.254-10.84.3.1` (and of `2001:db8:84::/127`) is an IPVS service, and ipvsadm reads
 * back exactly those.
 */
import test from 'ava';
import { openIpvs } from '../../src/netlink/ipvs/client.ts';
import { computeDesired } from '../../src/lvs/desired.ts';
import { emptyOwned, reconcileOnce } from '../../src/lvs/reconcile.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { table } from './ipvsadm.ts';

test('CIDR, last-octet and full-address ranges become one IPVS service per address', async (t) => {
  const text =
    'virtual_server_group farm {\n 10.84.0.0/30 443\n 10.84.1.1-3 80\n 10.84.2.254-10.84.3.1 8080\n}\n' +
    'virtual_server group farm {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 10.85.0.1 443 {\n }\n}\n' +
    'virtual_server_group farm6 {\n 2001:db8:84::/127 53\n}\n' +
    'virtual_server group farm6 {\n lb_algo rr\n lb_kind NAT\n protocol UDP\n real_server 2001:db8:85::1 53 {\n }\n}\n';
  const r = parseConfigText(text, 'vsg.conf', { configId: 'n1', interfaceExists: () => true });
  t.deepEqual(r.diagnostics.map((d) => d.message), []);
  const ipvs = await openIpvs({ timeoutMs: 10_000 });
  t.teardown(async () => {
    await ipvs.flush();
    await ipvs.close();
  });
  await ipvs.flush();
  const desired = computeDesired(r.config!, new Map());
  const { result } = await reconcileOnce(ipvs, desired.services, emptyOwned());
  t.deepEqual(result.failed, []);
  const services = table().map((x) => `${x.service.address}:${x.service.port}`);
  t.deepEqual(services.sort(), [
    '10.84.0.0:443', '10.84.0.1:443', '10.84.0.2:443', '10.84.0.3:443',
    '10.84.1.1:80', '10.84.1.2:80', '10.84.1.3:80',
    '10.84.2.254:8080', '10.84.2.255:8080', '10.84.3.0:8080', '10.84.3.1:8080',
    '2001:db8:84:::53', '2001:db8:84::1:53',
  ].sort());
  t.true(table().every((x) => x.dests.length === 1 && x.dests[0]!.address === (x.service.family === 4 ? '10.85.0.1' : '2001:db8:85::1')));
});
