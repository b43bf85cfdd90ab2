/** Shared by the announce_route kernel tests: log lines, table 198, IPVS and web servers in namespaces. */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nsExec, type NetnsLab } from '../helpers/netns.ts';
import { outputOf, type Router, type RouterDir } from '../helpers/routers.ts';

export function logLines(r: Router): Array<Record<string, unknown>> {
  return outputOf(r)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}

export function events(r: Router, event: string): Array<Record<string, unknown>> {
  return logLines(r).filter((l) => l['event'] === event);
}

/** Destinations in table 198 of `ns` with their protocol: `10.213.9.10 248`. */
export function table198(ns: string): string[] {
  const j = JSON.parse(nsExec(ns, ['ip', '-j', 'route', 'show', 'table', '198'])) as Array<{ dst: string; protocol?: string }>;
  return j.map((r) => `${r.dst} ${r.protocol ?? ''}`.trim());
}

export function ipvsRules(ns: string): string {
  return nsExec(ns, ['ipvsadm', '-S', '-n']);
}

export function loAddresses(ns: string): string[] {
  const j = JSON.parse(nsExec(ns, ['ip', '-j', 'addr', 'show', 'dev', 'lo'])) as Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>;
  return (j[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
}

/** python3's http.server in `ns` on `addr`:port, answering `name` at / (and any path). */
export function serveHttp(lab: NetnsLab, dir: RouterDir, ns: string, name: string, addr: string, port = 80): ChildProcess {
  const root = join(dir.dir, `www-${name}`);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'index.html'), `${name}\n`);
  return lab.spawnIn(ns, ['python3', '-m', 'http.server', String(port), '--bind', addr, '--directory', root]);
}

export function killTree(p: ChildProcess): void {
  try {
    if (p.pid !== undefined) process.kill(-p.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}
