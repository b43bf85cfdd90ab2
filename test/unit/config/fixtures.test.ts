/**
 * Whole files: configurations written for keepalived 2.2 must be accepted (the project's
 * shared vectors, the bench template filled in, conf/ and conf/examples/), broken ones
 * rejected with exactly the diagnostics their `# vigil-expect: LINE:COL SEVERITY CODE`
 * lines list.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFull } from '../../../src/config/load.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtures = path.join(root, 'test/fixtures/config');
const anyInterface = (): boolean => true;

function confs(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.conf'))
    .sort()
    .map((f) => path.join(dir, f));
}

const good = [...confs(path.join(fixtures, 'good')), path.join(root, 'conf/keepalived.conf'), ...confs(path.join(root, 'conf/examples'))];

for (const file of good) {
  const rel = path.relative(root, file);
  for (const configId of ['lb1', 'lb2']) {
    test(`accepted without errors: ${rel} (-i ${configId})`, (t) => {
      const r = loadConfigFull(file, { configId, interfaceExists: anyInterface });
      t.deepEqual(
        r.diagnostics.filter((d) => d.severity === 'error'),
        [],
      );
      t.truthy(r.config);
      t.true(r.config!.vrrpInstances.length + r.config!.virtualServers.length > 0);
    });
  }
}

test('good fixtures are warning-free too (conf/ examples may warn only about interfaces)', (t) => {
  for (const file of good) {
    const r = loadConfigFull(file, { configId: 'lb1', interfaceExists: anyInterface });
    t.deepEqual(r.diagnostics, [], path.relative(root, file));
  }
});

test('the seed config keeps what the notes describe', (t) => {
  const c = loadConfigFull(path.join(root, 'conf/keepalived.conf'), { configId: 'x', interfaceExists: anyInterface }).config!;
  t.like(c.globalDefs, {
    notificationEmail: ['root@localhost'],
    notificationEmailFrom: 'kaadmin@localhost',
    smtpServer: { host: '127.0.0.1', port: 25 },
    smtpConnectTimeoutMs: 30000,
    routerId: 'lvs_devel',
  });
  t.like(c.vrrpScripts[0], { name: 'chk_nginx', intervalMs: 1000, weight: -2, fall: 2, rise: 1 });
  t.deepEqual(c.vrrpScripts[0]!.script.argv, ['killall', '-0', 'nginx']);
  t.deepEqual(
    c.vrrpInstances.map((i) => [i.name, i.initialState, i.virtualRouterId, i.priority, i.virtualIpaddress[0]!.address]),
    [
      ['VI_1', 'MASTER', 51, 100, '192.168.1.103'],
      ['VI_2', 'BACKUP', 55, 99, '192.168.1.102'],
    ],
  );
  t.deepEqual(c.vrrpInstances[0]!.trackScripts.map((r) => r.name), ['chk_nginx']);
  t.deepEqual(c.vrrpInstances[0]!.notifyMaster?.argv, ['/etc/keepalived/notify.sh', 'master']);
  const vs = c.virtualServers[0]!;
  t.deepEqual(vs.key, { kind: 'ip', address: '172.168.100.100', family: 4, port: 80 });
  t.like(vs, { delayLoopMs: 6000, lbAlgo: 'rr', lbKind: 'DR', protocol: 'TCP', persistenceTimeoutMs: undefined });
  t.deepEqual(vs.realServers.map((r) => [r.address, r.port, r.checkers[0]?.type, r.checkers[0]?.retry, r.checkers[0]?.connectTimeoutMs]), [
    ['172.16.100.17', 80, 'HTTP_GET', 3, 3000],
    ['172.16.100.18', 80, 'HTTP_GET', 3, 3000],
  ]);
});

for (const file of confs(path.join(fixtures, 'broken'))) {
  const rel = path.relative(root, file);
  test(`rejected at the right line:col: ${rel}`, (t) => {
    const expected = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('# vigil-expect: '))
      .map((l) => l.slice('# vigil-expect: '.length).trim())
      .sort();
    t.true(expected.length > 0, 'the fixture lists its expected diagnostics');
    const r = loadConfigFull(file, { configId: 'lb1', interfaceExists: anyInterface });
    const actual = r.diagnostics.map((d) => `${d.loc.line}:${d.loc.col} ${d.severity} ${d.code}`).sort();
    t.deepEqual(actual, expected);
    t.is(r.config, undefined);
    t.true(r.diagnostics.every((d) => d.loc.file === file));
  });
}
