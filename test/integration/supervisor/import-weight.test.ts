/**
 * What the daemon's first modules load. `daemon.ts` is imported before the VRRP worker boots
 * (src/cli/main.ts), so whatever it pulls in statically delays the first advert; the LVS model
 * it may name (src/lvs/desired.ts, announce.ts) must stay free of the `netlink` package, which
 * only the supervisor's kernel side needs.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Every module `entry` resolves, as URLs, recorded by a loader hook in a fresh node. */
function resolvedBy(entry: string): string[] {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-imports-'));
  try {
    fs.writeFileSync(path.join(d, 'hook.mjs'), "export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('RESOLVED ' + r.url + '\\n'); return r; }\n");
    fs.writeFileSync(path.join(d, 'reg.mjs'), "import { register } from 'node:module'; register(new URL('./hook.mjs', import.meta.url));\n");
    const r = spawnSync(process.execPath, ['--import', path.join(d, 'reg.mjs'), '--import', 'tsx', '-e', `await import(${JSON.stringify(path.join(root, entry))})`, '--input-type=module'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`importing ${entry} failed: ${r.stderr}`);
    return r.stderr.split('\n').filter((l) => l.startsWith('RESOLVED ')).map((l) => l.slice('RESOLVED '.length));
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
}

for (const entry of ['src/lvs/desired.ts', 'src/lvs/announce.ts', 'src/supervisor/daemon.ts']) {
  test(`${entry} does not load the netlink package`, (t) => {
    const urls = resolvedBy(entry);
    t.true(urls.some((u) => u.endsWith(entry)), urls.join('\n'));
    t.false(urls.some((u) => u.includes('/node_modules/netlink/')), urls.filter((u) => u.includes('netlink')).join('\n'));
  });
}
