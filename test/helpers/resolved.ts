/**
 * Which modules a node command resolves: a fresh node (with tsx) runs `args` under a loader
 * hook that records the URL of every module it resolves. For tests of what a path loads, and
 * what it must not (`-t` loads no daemon; the LVS model no netlink package).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const MARK = 'RESOLVED ';

/**
 * `args` after node's own (`--import tsx` is given), run in the repository's root. `urls`: each
 * module resolved; `importers`: the same, with the URL of the module that imported it.
 */
export function modulesResolved(args: readonly string[]): { status: number | null; stdout: string; stderr: string; urls: string[]; importers: Array<{ url: string; parent: string }> } {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-imports-'));
  try {
    fs.writeFileSync(path.join(d, 'hook.mjs'), `export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write(${JSON.stringify(MARK)} + r.url + ' ' + (c.parentURL ?? '') + '\\n'); return r; }\n`);
    fs.writeFileSync(path.join(d, 'reg.mjs'), "import { register } from 'node:module'; register(new URL('./hook.mjs', import.meta.url));\n");
    const r = spawnSync(process.execPath, ['--import', path.join(d, 'reg.mjs'), '--import', 'tsx', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    const importers = r.stderr.split('\n').flatMap((l) => {
      if (!l.startsWith(MARK)) return [];
      const [url = '', parent = ''] = l.slice(MARK.length).split(' ');
      return [{ url, parent }];
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, urls: importers.map((i) => i.url), importers };
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
}

/** `args` for modulesResolved: run `before`, import each of `entries` (paths in the repository) in order, run `after`. */
export function importing(entries: readonly string[], code: { before?: string; after?: string } = {}): string[] {
  const imports = entries.map((e) => `await import(${JSON.stringify(path.join(repoRoot, e))});`);
  return ['--input-type=module', '-e', [code.before ?? '', ...imports, code.after ?? ''].join('\n')];
}
