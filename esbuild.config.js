// The build: the daemon's sources bundled by esbuild into dist/, one module per entry point
// (the command, each worker thread, the ICMP helper process) and shared chunks, loaded on
// demand where the sources import them dynamically. Packages stay in node_modules.
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
// Comments and indentation go (minifyWhitespace; names are kept, so a stack trace still
// names its functions, at line 1 and a column) and the output is ASCII (charset): V8 keeps
// each module's source in its isolate's heap, at two bytes a character where one character
// is past ASCII, and esbuild keeps comments unless it minifies whitespace.
//
//   node esbuild.config.js        (npm run build: after `tsc --noEmit`, which type-checks)
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const root = fileURLToPath(new URL('.', import.meta.url));

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
  packages: 'external',
  charset: 'ascii',
  legalComments: 'none',
  minifyWhitespace: true,
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  rmSync(new URL('dist', import.meta.url), { recursive: true, force: true });
  await build(buildOptions);
}
