// The build: the daemon's sources bundled by esbuild into dist/, one module per entry point
// (the command, each worker thread, the ICMP helper process) and shared chunks, loaded on
// demand where the sources import them dynamically. pino and ipaddr.js are bundled too (see
// `external`); the packages that find files of their own at run time stay in node_modules.
//
// Why a bundle: every module is a file to find, open and read, in every thread that loads it.
// The seed's node A loaded 185 JavaScript files at start from tsc's one-file-per-module
// build, 103 from this one; in the emulated IPVS VM, whose files come over 9p, its first
// advert came 8.5-10.3 s after exec against 6.1-8.3 s (bench/footprint, three starts each,
// two runs interleaved).
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
//   node esbuild.config.js        (npm run build: after `tsc --noEmit`, which type-checks)
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';

export const root = fileURLToPath(new URL('.', import.meta.url));

/** Every TypeScript source without its comments (TypeScript's own transpiler), as JavaScript. */
const withoutComments = {
  name: 'without-comments',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, ({ path }) => ({
      contents: ts.transpileModule(readFileSync(path, 'utf8'), {
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
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts', 'workers/vrrp.ts', 'workers/checker.ts', 'workers/spawner.ts'],
  outdir: 'dist',
  outbase: '.',
  chunkNames: 'src/chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // What stays in node_modules: native bindings found beside their package (koffi, netlink,
  // raw-socket), piscina (which starts its own worker file), nodemailer (loaded with the first
  // mail), and what the sources load by published path through createRequire (prom-client,
  // undici). Everything else is bundled: pino took 1.0-1.6 s to import from node_modules in
  // the emulated IPVS VM (29 files, each found and read over 9p) and 0.16-0.35 s bundled,
  // on the main thread's way to the VRRP worker's `init`. pino's transports (worker files it
  // finds through __dirname) cannot start from the bundle; vigil's logger never uses one.
  external: ['koffi', 'netlink', 'nodemailer', 'piscina', 'prom-client', 'raw-socket', 'undici'],
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
