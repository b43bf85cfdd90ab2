import test from 'ava';
import { parseConfigTextFull } from '../../../src/config/load.ts';
import { lvsSyncSpec } from '../../../src/supervisor/lvs-sync.ts';

const cfg = (text: string) => {
  const r = parseConfigTextFull(text, 't.conf', { configId: 'n', interfaceExists: () => true });
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.config;
};
const inst = (extra = ''): string => `vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  10.0.0.1\n }\n${extra}}\n`;

test('lvs_sync_daemon IFACE INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP]', (t) => {
  t.deepEqual(lvsSyncSpec(cfg('global_defs {\n lvs_sync_daemon eth1 VI_1 id 5 maxlen 1400 port 8848 ttl 2 group 224.0.0.99\n}\n' + inst())), {
    spec: { instance: 'VI_1', daemon: { ifname: 'eth1', syncId: 5, maxLen: 1400, port: 8848, ttl: 2, group: '224.0.0.99' } },
  });
  t.deepEqual(lvsSyncSpec(cfg('global_defs {\n lvs_sync_daemon eth1 VI_1\n}\n' + inst())), { spec: { instance: 'VI_1', daemon: { ifname: 'eth1', syncId: 0 } } });
  t.deepEqual(lvsSyncSpec(cfg(inst())), {});
  t.regex(lvsSyncSpec(cfg('global_defs {\n lvs_sync_daemon eth1 VI_1 id 300\n}\n' + inst())).error ?? '', /id/);
});

test('the old form: lvs_sync_daemon_interface in the instance, without a warning', (t) => {
  const r = parseConfigTextFull(inst(' lvs_sync_daemon_interface eth1\n'), 't.conf', { configId: 'n', interfaceExists: () => true });
  t.deepEqual(r.diagnostics, []);
  t.deepEqual(lvsSyncSpec(r.config!), { spec: { instance: 'VI_1', daemon: { ifname: 'eth1', syncId: 0 } } });
});

test('lvs_sync_daemon naming no instance is an error', (t) => {
  const r = parseConfigTextFull('global_defs {\n lvs_sync_daemon eth1 VI_9\n}\n' + inst(), 't.conf', { configId: 'n', interfaceExists: () => true });
  t.deepEqual(
    r.diagnostics.map((d) => d.code),
    ['unknown-reference'],
  );
});
