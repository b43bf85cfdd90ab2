/**
 * What the daemon's first modules load. `daemon.ts` is imported before the VRRP worker boots
 * (src/cli/main.ts), so whatever it pulls in statically delays the first advert; the LVS model
 * it may name (src/lvs/desired.ts, announce.ts) must stay free of the `netlink` package, which
 * only the supervisor's kernel side needs.
 */
import test from 'ava';
import * as path from 'node:path';
import { modulesResolved, repoRoot } from '../../helpers/resolved.ts';

/** Every module `entry` resolves, as URLs. */
function resolvedBy(entry: string): string[] {
  const r = modulesResolved(['-e', `await import(${JSON.stringify(path.join(repoRoot, entry))})`, '--input-type=module']);
  if (r.status !== 0) throw new Error(`importing ${entry} failed: ${r.stderr}`);
  return r.urls;
}

for (const entry of ['src/lvs/desired.ts', 'src/lvs/announce.ts', 'src/supervisor/daemon.ts']) {
  test(`${entry} does not load the netlink package`, (t) => {
    const urls = resolvedBy(entry);
    t.true(urls.some((u) => u.endsWith(entry)), urls.join('\n'));
    t.false(urls.some((u) => u.includes('/node_modules/netlink/')), urls.filter((u) => u.includes('netlink')).join('\n'));
  });
}
