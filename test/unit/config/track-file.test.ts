import test from 'ava';
import { diags, instance, ok, parse } from './helpers.ts';

const FILE = 'track_file drain {\n file /run/vigil/drain\n weight -10 reverse\n init_file 5 overwrite\n}\n';

test('track_file: file, weight [reverse], init_file VALUE overwrite; weight defaults to 1', (t) => {
  const c = ok(FILE + 'vrrp_track_file old {\n file "/tmp/a b"\n init_file\n}\n' + instance('A', ' track_file {\n  drain\n  old weight 3\n }'));
  t.like(c.trackFiles?.[0], { name: 'drain', file: '/run/vigil/drain', weight: -10, weightReverse: true, init: { value: 5, overwrite: true } });
  t.like(c.trackFiles?.[1], { name: 'old', file: '/tmp/a b', weight: 1, weightReverse: false, init: { value: 0, overwrite: false } });
  t.like(c.vrrpInstances[0]?.trackFiles, [{ name: 'drain' }, { name: 'old', weight: 3 }]);
});

test('track_file on a sync group is kept; a config without track_file has no trackFiles', (t) => {
  const c = ok(FILE + instance('A', '') + instance('B', '').replace('51', '52') + 'vrrp_sync_group G {\n group {\n  A B\n }\n track_file {\n  drain weight 0\n }\n}\n');
  t.like(c.vrrpSyncGroups[0]?.trackFiles, [{ name: 'drain', weight: 0 }]);
  const plain = ok(instance('A', ''));
  t.is(plain.trackFiles, undefined);
  t.is(plain.vrrpInstances[0]?.trackFiles, undefined);
});

test('track_file errors: no file, unknown reference, weight out of -254..254, bad init value', (t) => {
  t.deepEqual(diags('track_file x {\n weight 2\n}\n'), [['missing-keyword', 'error', 1, 12]]);
  t.deepEqual(diags(instance('A', ' track_file {\n  nope\n }')), [['unknown-reference', 'error', 8, 3]]);
  t.deepEqual(diags('track_file x {\n file /f\n weight 255\n}\n'), [['range', 'error', 3, 9]]);
  t.deepEqual(diags('track_file x {\n file /f\n}\n' + instance('A', ' track_file {\n  x weight -254\n }')), []);
  t.deepEqual(diags('track_file x {\n file /f\n init_file abc\n}\n'), [['bad-value', 'error', 3, 12]]);
  t.is(parse('track_file x {\n file /f\n}\n').diagnostics.filter((d) => d.code.startsWith('unsupported')).length, 0);
});
