/**
 * What the daemon's first modules load. `daemon.ts` is imported before the VRRP worker boots
 * (src/cli/main.ts), so whatever it pulls in statically delays the first advert; the LVS model
 * it may name (src/lvs/desired.ts, announce.ts) must stay free of the `netlink` package, which
 * only the supervisor's kernel side needs.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importing, modulesResolved, repoRoot } from '../../helpers/resolved.ts';

/** Every module `entry` resolves, as URLs. */
function resolvedBy(entry: string): string[] {
  const r = modulesResolved(importing([entry]));
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

/** The built-in modules node loads for importing `entries` (in order), beyond its own start's. */
function builtinsLoadedBy(entries: readonly string[]): string[] {
  const r = modulesResolved(
    importing(entries, {
      before: 'const before = new Set(process.moduleLoadList);',
      after: 'console.log(JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m))));',
    }),
  );
  if (r.status !== 0) throw new Error(`importing ${entries.join(', ')} failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as string[]).flatMap((m) => (m.startsWith('NativeModule ') ? [m.slice('NativeModule '.length)] : []));
}

test("libc's binding and the metrics load none of node's https, tls, http or zlib", (t) => {
  // koffi's index brings its build tool (https, zlib); prom-client's index its Pushgateway
  // (http, https). Every thread loads libc.ts, the main thread metrics.ts, whatever the config.
  const loaded = builtinsLoadedBy(['src/io/libc.ts', 'src/supervisor/metrics.ts']);
  t.true(loaded.length > 0, 'the modules did load something');
  t.deepEqual(
    loaded.filter((m) => ['https', 'tls', 'http', 'zlib'].includes(m)),
    [],
  );
});

test("the VRRP engine and the state dumps do not import node's crypto", (t) => {
  // crypto comes with the first AH advert or the first dump (SIGUSR1), not with every start.
  // tsx loads crypto itself, so what counts is which of vigil's modules import it.
  const r = modulesResolved(importing(['src/vrrp/engine.ts', 'src/supervisor/dumps.ts']));
  t.is(r.status, 0, r.stderr);
  const ours = r.importers.filter((i) => i.parent.startsWith(`file://${repoRoot}/src/`));
  t.true(ours.some((i) => i.url.endsWith('/src/vrrp/ah.ts')), 'the engine and its codecs were imported');
  t.deepEqual(
    ours.filter((i) => i.url === 'node:crypto').map((i) => i.parent),
    [],
  );
});

test("the daemon's built modules are ASCII: V8 keeps each source at one byte a character", async (t) => {
  // A module's source stays in its isolate's heap for lazy compilation. One character past
  // ASCII in it (a comment's arrow, a message's µ) stores the whole file at two bytes a
  // character: the build removes comments (tsconfig removeComments), messages stay ASCII.
  const ts = (await import('typescript')).default;
  const config = JSON.parse(fs.readFileSync(path.join(repoRoot, 'tsconfig.json'), 'utf8')) as { compilerOptions: { removeComments?: boolean } };
  t.true(config.compilerOptions.removeComments, 'the build removes comments');
  const files = ['src', 'workers'].flatMap((d) => (fs.readdirSync(path.join(repoRoot, d), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => path.join(d, f)));
  t.true(files.length > 100, `${files.length} modules`);
  const wide = files.filter((f) => {
    const out = ts.transpileModule(fs.readFileSync(path.join(repoRoot, f), 'utf8'), { compilerOptions: { removeComments: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } });
    return /[^\x00-\x7f]/.test(out.outputText);
  });
  t.deepEqual(wide, []);
});
