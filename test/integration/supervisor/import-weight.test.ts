/**
 * What the daemon's first modules load. `daemon.ts` is imported before the VRRP worker boots
 * (src/cli/main.ts), so whatever it pulls in statically delays the first advert; the LVS model
 * it may name (src/lvs/desired.ts, announce.ts) must stay free of the `netlink` package, which
 * only the supervisor's kernel side needs.
 */
import test from 'ava';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
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

interface Built {
  /** each .js output's text */
  text: Map<string, string>;
  /** each output's imports */
  imports: Map<string, Array<{ path: string; external: boolean; dynamic: boolean }>>;
  /** each output's source files */
  inputs: Map<string, string[]>;
}

/** The build (esbuild.config.js), in memory, once for the tests below. */
let built: Promise<Built> | undefined;
function buildInMemory(): Promise<Built> {
  built ??= runBuild();
  return built;
}

async function runBuild(): Promise<Built> {
  const { build } = await import('esbuild');
  const config = pathToFileURL(path.join(repoRoot, 'esbuild.config.js')).href;
  const { buildOptions } = (await import(config)) as { buildOptions: Parameters<typeof build>[0] };
  const r = await build({ ...buildOptions, write: false, metafile: true, logLevel: 'silent' });
  const rel = (f: string): string => path.relative(repoRoot, f);
  return {
    text: new Map(r.outputFiles.filter((f) => f.path.endsWith('.js')).map((f) => [rel(f.path), f.text])),
    imports: new Map(
      Object.entries(r.metafile.outputs).map(([out, o]) => [
        out,
        o.imports.map((i) => ({ path: i.path, external: i.external === true, dynamic: i.kind === 'dynamic-import' })),
      ]),
    ),
    inputs: new Map(Object.entries(r.metafile.outputs).map(([out, o]) => [out, Object.keys(o.inputs)])),
  };
}

/** What `entry` of the build loads: its outputs, their sources, and the packages/builtins they import (`lazy`: dynamic imports too). */
function reach({ imports, inputs }: Built, entry: string, lazy: boolean): { outputs: string[]; inputs: string[]; external: string[] } {
  const seen = new Set<string>();
  const external = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const o = todo.pop()!;
    if (seen.has(o)) continue;
    seen.add(o);
    for (const i of imports.get(o) ?? []) {
      if (i.dynamic && !lazy) continue;
      if (i.external) external.add(i.path);
      else todo.push(i.path);
    }
  }
  return { outputs: [...seen], inputs: [...seen].flatMap((o) => inputs.get(o) ?? []), external: [...external].sort() };
}

test('the build: entries where the code looks for them, chunks beside them, ASCII only', async (t) => {
  const { text } = await buildInMemory();
  for (const e of ['dist/src/cli/main.js', 'dist/workers/vrrp.js', 'dist/workers/checker.js', 'dist/workers/spawner.js']) t.true(text.has(e), e);
  // threads.ts, pool.ts and spawner.ts find the workers at ../../workers/ from wherever they
  // end up: every output but the workers' entries sits two levels below dist/
  t.deepEqual(
    [...text.keys()].filter((f) => !f.startsWith('dist/workers/') && path.dirname(path.relative('dist', f)).split('/').length !== 2),
    [],
  );
  // A module's source stays in its isolate's heap for lazy compilation. One character past
  // ASCII in it (a comment's arrow, a message's µ) stores the whole file at two bytes a character.
  t.deepEqual(
    [...text].filter(([, s]) => /[^\x00-\x7f]/.test(s)).map(([f]) => f),
    [],
  );
  t.deepEqual(
    [...text].filter(([, s]) => /(^|[;{}])\s*\/\*\*/m.test(s)).map(([f]) => f),
    [],
    'no doc comments in the build',
  );
  // netlink's raw.js looks for its native binding from its own directory, which the bundle is
  // not: the build loads the package's prebuild by path, else node-gyp-build from the package's
  // directory (esbuild.config.js)
  const binding = [...text.values()].flatMap((s) => /require\(`netlink\/prebuilds\/[\s\S]*?\}\)\(\)/.exec(s) ?? []);
  t.is(binding.length, 1, binding.join('\n'));
  t.regex(binding[0] ?? '', /catch \{\s*return [\w$]*require\("node-gyp-build"\)\([\w$]*require\("node:path"\)\.dirname\([\w$]*require\.resolve\("netlink\/package\.json"\)\)\)/);
  t.false([...text.values()].some((s) => s.includes('__dirname + "/.."')), "no node-gyp-build call from netlink's own directory is left");
});

test("the bundle keeps the sources' lazy loads: main.js loads nothing before the priority, the VRRP thread no crypto, http or tls", async (t) => {
  const b = await buildInMemory();
  // main.ts raises the process's priority before it imports the daemon (see main.ts)
  // (and esbuild's helpers for the CommonJS it bundles, which have no source of their own)
  const first = reach(b, 'dist/src/cli/main.js', false);
  t.deepEqual(first.external, ['node:fs', 'node:os']);
  t.deepEqual(first.inputs.sort(), ['src/cli/args.ts', 'src/cli/main.ts']);
  // the VRRP thread, everything it may ever import: crypto comes through createRequire with
  // the first AH advert, never as an import
  const vrrp = reach(b, 'dist/workers/vrrp.js', true);
  t.true(vrrp.external.includes('node:worker_threads'), vrrp.external.join(' '));
  t.deepEqual(
    vrrp.external.filter((m) => ['node:crypto', 'node:http', 'node:https', 'node:tls', 'node:zlib', 'node:net', 'node:child_process', 'node-gyp-build', 'piscina', 'undici'].includes(m)),
    [],
  );
  // pino and netlink are bundled (esbuild.config.js): the logger's and rtnetlink's chunks are
  // the main thread's alone
  t.true(vrrp.inputs.some((i) => i.startsWith('src/vrrp/')), 'inputs are source paths');
  t.deepEqual(
    vrrp.inputs.filter((i) => i.startsWith('node_modules/pino') || i.startsWith('node_modules/netlink/') || i === 'src/supervisor/logger.ts'),
    [],
  );
  const mainInputs = reach(b, 'dist/src/cli/main.js', true).inputs;
  t.true(mainInputs.some((i) => i.startsWith('node_modules/pino/')), 'pino is bundled');
  t.true(mainInputs.includes('node_modules/netlink/dist/raw.js'), 'netlink is bundled');
});
