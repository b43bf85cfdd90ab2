/**
 * Network namespaces for tests: created fresh for each test, torn down always.
 *
 * Every name carries a per-process prefix so parallel test files never collide, and
 * `removeAll()` deletes everything this process made, including the processes still
 * running inside (by pid, as `ip netns pids` lists them).
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const haveRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Under CI a test that needs root must run, never skip. */
export function requireRoot(t: { log(...v: unknown[]): void }): boolean {
  if (haveRoot) return true;
  if (process.env['CI'] === 'true') throw new Error('this test needs root and CI=true forbids skipping it');
  t.log('skipped: needs root');
  return false;
}

function ip(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Run a command inside a namespace and return its stdout (throws on non-zero exit). */
export function nsExec(ns: string, argv: readonly string[]): string {
  return ip(['netns', 'exec', ns, ...argv]);
}

export class NetnsLab {
  readonly tag: string;
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];

  /** `prefix` is short (≤4 chars): interface names are limited to 15 bytes. */
  constructor(prefix: string) {
    this.tag = `${prefix}${randomBytes(3).toString('hex')}`;
  }

  /** Creates namespace `<tag>-<name>` with lo up; returns its full name. */
  addNs(name: string): string {
    const ns = `${this.tag}-${name}`;
    ip(['netns', 'add', ns]);
    this.namespaces.push(ns);
    nsExec(ns, ['ip', 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * A veth pair with one end in each namespace, both up. Interface names are given
   * per end (they live in different namespaces, so `eth0` may repeat).
   */
  veth(nsA: string, ifA: string, nsB: string, ifB: string, opts: { macA?: string; macB?: string } = {}): void {
    const tmpA = `va${randomBytes(4).toString('hex')}`;
    const tmpB = `vb${randomBytes(4).toString('hex')}`;
    nsExec(nsA, ['ip', 'link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB, 'netns', nsB]);
    nsExec(nsA, ['ip', 'link', 'set', tmpA, 'name', ifA]);
    nsExec(nsB, ['ip', 'link', 'set', tmpB, 'name', ifB]);
    if (opts.macA) nsExec(nsA, ['ip', 'link', 'set', ifA, 'address', opts.macA]);
    if (opts.macB) nsExec(nsB, ['ip', 'link', 'set', ifB, 'address', opts.macB]);
    nsExec(nsA, ['ip', 'link', 'set', ifA, 'up']);
    nsExec(nsB, ['ip', 'link', 'set', ifB, 'up']);
  }

  /**
   * A bridge in its own namespace ("switch") with each given namespace attached through
   * a veth whose namespace end is named `ifname`. No STP, no multicast snooping.
   */
  segment(name: string, members: ReadonlyArray<{ ns: string; ifname: string; mac?: string }>): string {
    const sw = this.addNs(name);
    nsExec(sw, ['ip', 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'mcast_snooping', '0']);
    nsExec(sw, ['ip', 'link', 'set', 'br0', 'up']);
    members.forEach((m, i) => {
      const port = `p${i}`;
      this.veth(sw, port, m.ns, m.ifname, m.mac ? { macB: m.mac } : {});
      nsExec(sw, ['ip', 'link', 'set', port, 'master', 'br0']);
    });
    return sw;
  }

  /** Spawns a long-running process inside a namespace; it is killed by removeAll(). */
  spawnIn(ns: string, argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const [cmd, ...rest] = ['ip', 'netns', 'exec', ns, ...argv];
    const child = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
    this.children.push(child);
    return child;
  }

  /** Kills what we spawned and whatever else runs inside our namespaces, then deletes them. */
  removeAll(): void {
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        try {
          process.kill(-c.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    for (const ns of this.namespaces.reverse()) {
      try {
        for (const pid of ip(['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
      } catch {
        /* namespace already gone */
      }
      try {
        ip(['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
    this.namespaces.length = 0;
    this.children.length = 0;
  }
}

/**
 * `tcpdump -e -n -l` on `ifname` inside `ns`, as text: resolves once it listens; `text()` is
 * everything it printed so far. Killed at the test's teardown.
 */
export async function watchWire(
  t: { teardown(fn: () => void): void },
  lab: NetnsLab,
  ns: string,
  filter: string,
  ifname = 'eth0',
): Promise<{ text(): string }> {
  const dump = lab.spawnIn(ns, ['tcpdump', '-i', ifname, '-e', '-n', '-l', filter]);
  let out = '';
  let err = '';
  dump.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  dump.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  t.teardown(() => void dump.kill('SIGKILL'));
  await waitFor('tcpdump listening', () => err.includes('listening on'), 10_000, 20);
  return { text: () => out };
}

/** Waits until `pred` is true, polling every `stepMs`, or throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  pred: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  stepMs = 20,
): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await pred()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
