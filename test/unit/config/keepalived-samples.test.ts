/**
 * keepalived's own doc/samples (test/fixtures/keepalived-samples, copied with a source line):
 * no checker-side keyword in any of them is left "not implemented".
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadConfigFull } from '../../../src/config/load.ts';

const dir = fileURLToPath(new URL('../../fixtures/keepalived-samples/', import.meta.url));
const samples = readdirSync(dir).filter((f) => f.startsWith('keepalived.conf.')).sort();

/** The blocks of the checker side, as diagnostics name them. */
const CHECKER_SIDE = /\b(virtual_server_group|virtual_server|real_server|url|host|HTTP_GET|SSL_GET|TCP_CHECK|SMTP_CHECK|UDP_CHECK|PING_CHECK|DNS_CHECK|MISC_CHECK|FILE_CHECK)\b/;

test('every sample is read', (t) => {
  t.true(samples.length >= 25, `${samples.length} samples`);
});

for (const f of samples) {
  test(`${f}: no checker-side keyword is ignored as not implemented`, (t) => {
    const r = loadConfigFull(join(dir, f), { configId: 'n1', interfaceExists: () => true });
    const ignored = r.diagnostics.filter((d) => (d.code === 'unsupported-keyword' || d.code === 'unsupported-option') && CHECKER_SIDE.test(d.message));
    t.deepEqual(
      ignored.map((d) => `${d.loc.line}:${d.loc.col} ${d.message}`),
      [],
    );
  });
}
