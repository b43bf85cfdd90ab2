import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffConfigs } from '../../../src/config/diff.ts';
import { diags, ok } from './helpers.ts';

const vs = (announce: string, head = '10.213.9.10 80'): string =>
  `virtual_server ${head} {\n lb_algo mh\n lb_kind DR\n${announce}\n real_server 10.213.9.21 80 {\n }\n${head.startsWith('fwmark') ? '' : ' protocol TCP\n'}}\n`;

test('announce_route: defaults and values in the model', (t) => {
  const c = ok(vs(' announce_route {\n  table 198\n }'));
  const a = c.virtualServers[0]!.announceRoute!;
  t.is(a.table, 198);
  t.is(a.protocol, 248);
  t.is(a.metric, undefined);
  t.is(a.withdrawGraceMs, 2000);
  t.deepEqual(a.loc, { file: 't.conf', line: 4, col: 2 });
  const b = ok(vs(' announce_route {\n  table 1000\n  protocol 200\n  metric 10\n  withdraw_grace 0.5\n }')).virtualServers[0]!.announceRoute!;
  t.like(b, { table: 1000, protocol: 200, metric: 10, withdrawGraceMs: 500 });
  t.is(ok(vs('')).virtualServers[0]!.announceRoute, undefined);
});

test('announce_route: bad blocks are errors at file:line:col', (t) => {
  t.deepEqual(diags(vs(' announce_route {\n  protocol 200\n }')), [['missing-keyword', 'error', 4, 2]]);
  t.deepEqual(diags(vs(' announce_route {\n  table main\n }')), [['reserved-table', 'error', 5, 9]]);
  t.deepEqual(diags(vs(' announce_route {\n  table 254\n }')), [['reserved-table', 'error', 5, 9]]);
  t.deepEqual(diags(vs(' announce_route {\n  table local\n }')), [['reserved-table', 'error', 5, 9]]);
  t.deepEqual(diags(vs(' announce_route {\n  table default\n }')), [['reserved-table', 'error', 5, 9]]);
  t.deepEqual(diags(vs(' announce_route {\n  table 0\n }')), [['range', 'error', 5, 9]]);
  t.deepEqual(diags(vs(' announce_route {\n  table 4294967296\n }')), [['range', 'error', 5, 9]]);
  t.deepEqual(diags(vs(' announce_route {\n  table x198\n }')), [['bad-value', 'error', 5, 9]]);
  t.deepEqual(diags(vs(' announce_route {\n  table 198\n  protocol 256\n }')), [['range', 'error', 6, 12]]);
  t.deepEqual(diags(vs(' announce_route {\n  table 198\n  protocol -1\n }')), [['range', 'error', 6, 12]]);
  t.deepEqual(diags(vs(' announce_route {\n  table 198\n  protocol 4\n }')), [['kernel-protocol', 'warning', 6, 12]]);
  t.deepEqual(diags(vs(' announce_route {\n  table 198\n  withdraw_grace -1\n }')), [['range', 'error', 6, 18]]);
  t.deepEqual(diags(vs(' announce_route {\n  table 198\n  withdraw_grace soon\n }')), [['bad-value', 'error', 6, 18]]);
  t.deepEqual(diags(vs(' announce_route {\n  table 198\n  metric -3\n }')), [['range', 'error', 6, 10]]);
  // keepalived reads the next line as the block it waits for (issue 15): said there
  t.deepEqual(diags(vs(' announce_route 198')), [['missing-block', 'error', 5, 2]]);
  t.deepEqual(diags(vs(' announce_route {\n  tabel 198\n }')).map((d) => d[0]), ['missing-keyword', 'unknown-keyword']);
});

test('announce_route needs an address: fwmark is an error, a group of fwmarks too', (t) => {
  t.deepEqual(diags(vs(' announce_route {\n  table 198\n }', 'fwmark 5')), [['no-address', 'error', 4, 2]]);
  const grp = (entries: string): string => `virtual_server_group G {\n${entries}\n}\n` + vs(' announce_route {\n  table 198\n }', 'group G');
  t.deepEqual(diags(grp(' fwmark 7')), [['no-address', 'error', 7, 2]]);
  t.deepEqual(diags(grp(' 10.213.9.10 80\n fwmark 7')), [['no-address', 'warning', 8, 2]]);
  t.deepEqual(diags(grp(' 10.213.9.10-12 80')), []);
});

test('a changed announce_route is a changed virtual server on reload', (t) => {
  const a = ok(vs(' announce_route {\n  table 198\n }'));
  const b = ok(vs(' announce_route {\n  table 198\n  metric 5\n }'));
  const plan = diffConfigs(a, b);
  t.deepEqual(plan.virtualServers.changed.map((c) => c.fields), [['announceRoute']]);
  t.true(diffConfigs(a, ok(vs(' announce_route {\n  table 198\n }'))).empty);
});

test('vigil -t refuses a bad block with file:line:col; --dump-conf shows a good one', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-announce-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.conf');
  writeFileSync(bad, vs(' announce_route {\n  table main\n  protocol 300\n }'));
  const cli = ['--import', 'tsx', join(import.meta.dirname, '../../../src/cli/main.ts')];
  const r = spawnSync(process.execPath, [...cli, '-t', '-f', bad], { encoding: 'utf8' });
  t.is(r.status, 1);
  t.regex(r.stderr, new RegExp(`${bad}:5:9: error: announce_route table 254 is the kernel's \`main\` table`));
  t.regex(r.stderr, new RegExp(`${bad}:6:12: error: announce_route protocol 300 is out of range 0..255`));
  const good = join(dir, 'good.conf');
  writeFileSync(good, vs(' announce_route {\n  table 198\n  withdraw_grace 3\n }'));
  const d = spawnSync(process.execPath, [...cli, '--dump-conf', '-f', good], { encoding: 'utf8' });
  t.is(d.status, 0, d.stderr);
  const dumped = JSON.parse(d.stdout) as { virtualServers: Array<{ announceRoute: unknown }> };
  t.like(dumped.virtualServers[0]!.announceRoute, { table: 198, protocol: 248, withdrawGraceMs: 3000 });
});
