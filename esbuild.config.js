// The build: the daemon's sources bundled by esbuild into dist/, one module per entry point
// (the command, each worker thread, the ICMP helper process) and shared chunks, loaded on
// demand where the sources import them dynamically. pino, netlink and ipaddr.js are bundled
// too (see `external`); the packages that find files of their own at run time stay in
// node_modules.
//
// Why a bundle: every module is a file to find, open and read, in every thread that loads it.
// The seed's node A opened 185 JavaScript files at start from tsc's one-file-per-module
// build, 61 from this one. In the emulated IPVS VM, whose files come over 9p, its instance
// started 2.5-4.1 s after exec bundled, against 6.0-8.9 s for a bundle that left pino and
// netlink in node_modules, whose first adverts already came 1-2 s before tsc's files' (see
// README, "How it is built").
//
// Layout: entries keep their source paths (dist/src/cli/main.js, dist/workers/*.js) and
// chunks sit two levels down (dist/src/chunks/), so `new URL('../../workers/x.js',
// import.meta.url)` and `../../../package.json` resolve from any of them as from tsc's files.
// Comments go and the output is ASCII: V8 keeps each module's source in its isolate's heap,
// at two bytes a character where one character is past ASCII (charset escapes the rest).
// esbuild keeps comments unless it minifies whitespace, and a minified chunk is one line,
// which node prints whole above an uncaught exception's stack: each source goes through
// TypeScript's transpiler with removeComments first (an inline source map carries its
// lines through), and the bundle keeps its lines.
//
//   node esbuild.config.js        (npm run build: after `tsc`, which only type-checks: noEmit)
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';

/**
 * netlink finds its native binding from its own directory, which the bundle is not. The bundle
 * loads the package's one N-API prebuild for this platform by its path, and asks node-gyp-build
 * (from the package's directory) only where that fails: a machine without the prebuild, which
 * built netlink from source. node-gyp-build searches: it looks for build/ and reads prebuilds/,
 * on the main thread's way to the VRRP worker's `init` (in the emulated IPVS VM, whose files
 * come over 9p, ~90 ms of readdir and ~80 ms of stats and reads in one profiled start).
 */
function netlinkBinding(path, src) {
  if (!/node_modules[\\/]netlink[\\/]dist[\\/]raw\.js$/.test(path)) return src;
  const from = "require('node-gyp-build')(__dirname + '/..')";
  if (!src.includes(from)) throw new Error(`${path}: no ${from} (netlink changed: see esbuild.config.js)`);
  return src.replace(
    from,
    "(() => { try { return require(`netlink/prebuilds/${process.platform}-${process.arch}/node.napi.node`); } catch { return require('node-gyp-build')(require('node:path').dirname(require.resolve('netlink/package.json'))); } })()",
  );
}

/**
 * Every module of the bundle, vigil's TypeScript and the packages' JavaScript, without its
 * comments (TypeScript's own transpiler; an inline source map carries the lines through).
 */
const withoutComments = {
  name: 'without-comments',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?[jt]s$/ }, ({ path }) => ({
      contents: ts.transpileModule(netlinkBinding(path, readFileSync(path, 'utf8')), {
        fileName: path,
        compilerOptions: {
          removeComments: true,
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.ESNext,
          verbatimModuleSyntax: true,
          inlineSourceMap: true,
        },
      }).outputText,
      loader: 'js',
    }));
  },
};

/** esbuild's options for dist/ (the tests build in memory with them too). */
export const buildOptions = {
  absWorkingDir: fileURLToPath(new URL('.', import.meta.url)),
  entryPoints: ['src/cli/main.ts', 'workers/vrrp.ts', 'workers/checker.ts', 'workers/spawner.ts'],
  outdir: 'dist',
  outbase: '.',
  chunkNames: 'src/chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // What stays in node_modules: native bindings found beside their package (koffi, raw-socket,
  // and node-gyp-build, which finds netlink's: see netlinkBinding), piscina (which starts its
  // own worker file), nodemailer (loaded with the first mail), and what the sources load by
  // published path through createRequire (prom-client, undici). Everything else is bundled:
  // pino and netlink are on the main thread's way to the VRRP worker's `init`, and took
  // 1.0-1.6 s and 1.0-1.2 s to import from node_modules in the emulated IPVS VM (29 and 16
  // files, each found and read over 9p; pino 0.16-0.35 s bundled). Node A's instance started
  // 6.0-8.9 s after exec there with both external, 4.1-7.6 s with pino bundled, 2.5-4.1 s
  // with both (six starts of each, interleaved, two VMs). pino's transports (worker files it
  // finds through __dirname) cannot start from the bundle; vigil's logger never uses one.
  external: ['koffi', 'node-gyp-build', 'nodemailer', 'piscina', 'prom-client', 'raw-socket', 'undici'],
  // CommonJS code in an ES module bundle calls `require` for node's modules
  banner: { js: "import { createRequire as __vigilCreateRequire } from 'node:module'; const require = __vigilCreateRequire(import.meta.url);" },
  charset: 'ascii',
  legalComments: 'none',
  plugins: [withoutComments],
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  rmSync(new URL('dist', import.meta.url), { recursive: true, force: true });
  await build(buildOptions);
}
