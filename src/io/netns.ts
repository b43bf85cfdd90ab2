/**
 * `net_namespace NAME` (global_defs) and `-s NAME`: the daemon runs in the named network
 * namespace (/run/netns/NAME, as `ip netns` names them; created when missing), VRRP and
 * checks alike, as keepalived does.
 *
 * A namespace cannot be entered half-way by a running Node process: setns(2) moves only
 * the calling thread, and the threads Node already runs (V8's, libuv's pool, which resolves
 * names for checks and mail) would stay outside. So the main thread enters the namespace
 * and then replaces the process image with the same command line (execve(2)): the new image
 * starts with one thread, inside, under the same pid (pid file, systemd's MAINPID and the
 * control socket stay right). The flags Node sets on fds 0–2 (close-on-exec) are cleared
 * first so the new image keeps stdout/stderr.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import { cStrings, koffi, libcLibrary } from './libc.ts';

/** linux/sched.h */
export const CLONE_NEWNET = 0x40000000;
const F_SETFD = 2;

interface Calls {
  setns(fd: number, nstype: number): number;
  execve(path: string, argv: unknown, envp: unknown): number;
  fcntl(fd: number, cmd: number, arg: number): number;
}
let calls: Calls | undefined;
function libcCalls(): Calls {
  if (calls) return calls;
  const lib = libcLibrary();
  calls = {
    setns: lib.func('int setns(int fd, int nstype)') as Calls['setns'],
    execve: lib.func('int execve(const char *path, void *argv, void *envp)') as Calls['execve'],
    fcntl: lib.func('int fcntl(int fd, int cmd, int arg)') as Calls['fcntl'],
  };
  return calls;
}

/** setns(fd, CLONE_NEWNET) for the calling thread; the errno name on failure. */
export function setThreadNetns(fd: number): string | undefined {
  return libcCalls().setns(fd, CLONE_NEWNET) < 0 ? `errno ${koffi.errno()}` : undefined;
}

export function netnsPath(name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new Error(`net_namespace: \`${name}\` is not a namespace name`);
  return `/run/netns/${name}`;
}

/** Whether the calling thread already runs in the namespace `name`. */
export function inNetns(name: string): boolean {
  const p = netnsPath(name);
  if (!existsSync(p)) return false;
  const a = statSync(p);
  const b = statSync('/proc/thread-self/ns/net');
  return a.ino === b.ino && a.dev === b.dev;
}

/**
 * Enters `name` (creating it with `ip netns add` when it does not exist) and re-executes
 * this process there. Returns only on failure, with why.
 */
export function reexecInNetns(name: string): string {
  const path = netnsPath(name);
  if (!existsSync(path)) {
    try {
      execFileSync('ip', ['netns', 'add', name], { stdio: 'ignore' });
    } catch (e) {
      return `cannot create network namespace ${name}: ${(e as Error).message}`;
    }
  }
  const fd = openSync(path, 'r');
  const err = setThreadNetns(fd);
  closeSync(fd);
  if (err !== undefined) return `setns into ${name} failed: ${err}`;
  const c = libcCalls();
  for (const std of [0, 1, 2]) c.fcntl(std, F_SETFD, 0);
  const argv = cStrings([process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
  const env = cStrings(Object.entries(process.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`])));
  c.execve(process.execPath, argv.ptr, env.ptr);
  const errno = koffi.errno();
  argv.free();
  env.free();
  return `execve failed: errno ${errno}`;
}
