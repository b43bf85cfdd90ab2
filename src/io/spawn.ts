/**
 * posix_spawn(3) through koffi: start a program from this process without fork().
 *
 * Node's child_process forks (libuv's uv_spawn): the kernel copies the forking process's page
 * tables under its memory-map lock, and every other thread of the process that faults a page
 * waits for it (bench/fork-stall.ts: a 10 ms timer in another thread late by up to 6 ms while
 * spawning from a ~200 MB process). glibc's posix_spawn clones with CLONE_VM|CLONE_VFORK: the
 * child runs on the parent's memory until it execs, nothing is copied, and only the calling
 * thread waits, until the exec. So the daemon can start its scripts itself, without a second
 * Node process to fork them (bench/footprint: that process cost ~8 MB and 0.17 % of a core).
 *
 * The child leads a session and process group of its own (POSIX_SPAWN_SETSID), has every
 * signal at its default and none blocked (Node ignores SIGPIPE; an ignored signal would
 * survive the exec), stdin on /dev/null, stdout and stderr on one pipe returned here, and no
 * other fd of the daemon (closefrom 3).
 *
 * What posix_spawn cannot do, and how it is done instead:
 * - drop privileges: the program is started through util-linux's setpriv(1) (`--regid`,
 *   `--reuid`, `--clear-groups`), which execs it; a program setpriv cannot start exits 127
 *   with setpriv's message on the pipe;
 * - tell the caller when the child exits: the children are not libuv's, so a SIGCHLD
 *   listener waitpid()s each pid started here (and only those), and so do the pipe's end and,
 *   while a child runs, a timer every second.
 */
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { cStrings, errnoName, koffi, libc, libcLibrary, processSymbols } from './libc.ts';
import { pollReadable, type FdPoll } from './fd-poll.ts';

export interface SpawnOptions {
  readonly argv: readonly string[];
  /** the child's whole environment; default: this process's */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly uid?: number;
  readonly gid?: number;
}

export interface ExitStatus {
  /** exit status when it exited by itself, else null */
  readonly code: number | null;
  /** the signal that ended it ('SIGTERM', …), else null */
  readonly signal: string | null;
}

export interface Spawned {
  /** the child's pid, which is also its session and process-group id */
  readonly pid: number;
  /** the read end of the child's stdout+stderr pipe */
  readonly output: PipeOutput;
  /** settles when the child has exited and was reaped */
  readonly exited: Promise<ExitStatus>;
}

/**
 * The read end of a child's output pipe: 'data' (a Buffer) as it comes, 'close' once at end
 * of file, on a read error, or after destroy(). Read on this thread's loop through a poll
 * handle and read(2): a net.Socket per run cost the idle main thread ~0.3 ms of its ~0.9 ms
 * per script run (a vrrp_script every second, bench/footprint).
 */
export class PipeOutput extends EventEmitter<{ data: [chunk: Buffer]; close: [] }> {
  private static readonly chunk = Buffer.alloc(16384);
  private readonly poll: FdPoll;
  private fd: number;

  constructor(fd: number) {
    super();
    this.fd = fd;
    this.poll = pollReadable(fd, () => this.read());
  }

  private read(): void {
    const buf = PipeOutput.chunk;
    // A few reads per wake-up at most: a child that writes without pause must not hold the loop.
    for (let i = 0; i < 4 && this.fd >= 0; i++) {
      const n = Number(libc().read(this.fd, buf, buf.length));
      if (n > 0) {
        this.emit('data', Buffer.from(buf.subarray(0, n)));
        continue;
      }
      if (n < 0 && koffi.errno() === EAGAIN) return;
      this.destroy(); // 0: end of file (every writer closed it); < 0: nothing more to read
    }
  }

  destroy(): void {
    if (this.fd < 0) return;
    this.poll.stop();
    libc().close(this.fd);
    this.fd = -1;
    this.emit('close');
  }
}

/** setpriv(1), util-linux (Debian: essential). */
export const SETPRIV = '/usr/bin/setpriv';

// glibc <spawn.h>
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
// glibc x86_64/aarch64 sizes, rounded up: posix_spawnattr_t 336, posix_spawn_file_actions_t 80, sigset_t 128
const ATTR_BYTES = 512;
const ACTIONS_BYTES = 256;
const SIGSET_BYTES = 128;
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const WNOHANG = 1;
const EAGAIN = 11;

interface SpawnLib {
  posix_spawnp(pid: Int32Array, file: string, actions: unknown, attr: unknown, argv: unknown, envp: unknown): number;
  posix_spawn_file_actions_init(a: unknown): number;
  posix_spawn_file_actions_destroy(a: unknown): number;
  posix_spawn_file_actions_adddup2(a: unknown, fd: number, newfd: number): number;
  posix_spawn_file_actions_addopen(a: unknown, fd: number, path: string, flags: number, mode: number): number;
  posix_spawn_file_actions_addclosefrom_np(a: unknown, from: number): number;
  posix_spawn_file_actions_addchdir_np(a: unknown, path: string): number;
  posix_spawnattr_init(a: unknown): number;
  posix_spawnattr_destroy(a: unknown): number;
  posix_spawnattr_setflags(a: unknown, flags: number): number;
  posix_spawnattr_setsigmask(a: unknown, set: Buffer): number;
  posix_spawnattr_setsigdefault(a: unknown, set: Buffer): number;
  pipe2(fds: Int32Array, flags: number): number;
  waitpid(pid: number, status: Int32Array, options: number): number;
}

let bound: SpawnLib | undefined;
let environSymbol: unknown;

/** The current value of the C `environ` (Node's process.env writes go through setenv). */
function environ(): unknown {
  // Looked up in the process's global scope: libc's own `environ` is not the one in use once
  // the executable has a copy of it.
  environSymbol ??= processSymbols().symbol('environ', 'void *');
  return koffi.decode(environSymbol, 'void *');
}

function lib(): SpawnLib {
  if (bound) return bound;
  const l = libcLibrary();
  bound = {
    posix_spawnp: l.func('int posix_spawnp(_Out_ int *pid, const char *file, void *actions, void *attr, void *argv, void *envp)'),
    posix_spawn_file_actions_init: l.func('int posix_spawn_file_actions_init(void *a)'),
    posix_spawn_file_actions_destroy: l.func('int posix_spawn_file_actions_destroy(void *a)'),
    posix_spawn_file_actions_adddup2: l.func('int posix_spawn_file_actions_adddup2(void *a, int fd, int newfd)'),
    posix_spawn_file_actions_addopen: l.func('int posix_spawn_file_actions_addopen(void *a, int fd, const char *path, int flags, uint32_t mode)'),
    posix_spawn_file_actions_addclosefrom_np: l.func('int posix_spawn_file_actions_addclosefrom_np(void *a, int from)'),
    posix_spawn_file_actions_addchdir_np: l.func('int posix_spawn_file_actions_addchdir_np(void *a, const char *path)'),
    posix_spawnattr_init: l.func('int posix_spawnattr_init(void *a)'),
    posix_spawnattr_destroy: l.func('int posix_spawnattr_destroy(void *a)'),
    posix_spawnattr_setflags: l.func('int posix_spawnattr_setflags(void *a, short flags)'),
    posix_spawnattr_setsigmask: l.func('int posix_spawnattr_setsigmask(void *a, const void *set)'),
    posix_spawnattr_setsigdefault: l.func('int posix_spawnattr_setsigdefault(void *a, const void *set)'),
    pipe2: l.func('int pipe2(_Out_ int *fds, int flags)'),
    waitpid: l.func('int waitpid(int pid, _Out_ int *status, int options)'),
  } as unknown as SpawnLib;
  return bound;
}

const signalNames = new Map<number, string>(Object.entries(constants.signals).map(([k, v]) => [v, k]));

/** waitpid(2) status → exit code or signal. */
export function decodeStatus(status: number): ExitStatus {
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: signalNames.get(sig) ?? `SIG${sig}` };
}

/** pids started here and not reaped yet → what to call with their status */
const waiting = new Map<number, (s: ExitStatus) => void>();
const statusBuf = new Int32Array(1);

function reap(): void {
  const l = lib();
  for (const [pid, done] of waiting) {
    const r = l.waitpid(pid, statusBuf, WNOHANG);
    if (r === 0) continue;
    waiting.delete(pid);
    // r === -1: ECHILD, someone else reaped it; its status is lost
    done(r === pid ? decodeStatus(statusBuf[0]!) : { code: null, signal: null });
  }
  if (waiting.size === 0) unlisten();
}

/** ms between reaps while a child runs: keeps the event loop alive for its exit (a signal
 * listener does not) and catches an exit whose SIGCHLD was folded into another's. */
const REAP_POLL_MS = 1000;
let poll: NodeJS.Timeout | undefined;

function listen(): void {
  process.on('SIGCHLD', reap);
  poll = setInterval(reap, REAP_POLL_MS);
}

function unlisten(): void {
  process.off('SIGCHLD', reap);
  clearInterval(poll);
  poll = undefined;
}

/**
 * Starts `opts.argv` (PATH searched) in a session of its own. Returns the error's name
 * (ENOENT, EACCES, …) when it could not be started. Main thread only: SIGCHLD is a process
 * signal, and Node delivers it on the main thread.
 */
export function spawnDetached(opts: SpawnOptions): Spawned | { error: string } {
  // A worker thread gets no SIGCHLD: a child whose pipe outlives it would never be reaped.
  if (!isMainThread) throw new Error('spawnDetached runs on the main thread only (SIGCHLD)');
  const l = lib();
  const dropIds = opts.uid !== undefined || opts.gid !== undefined;
  const argv = dropIds
    ? [
        SETPRIV,
        ...(opts.gid !== undefined ? [`--regid=${opts.gid}`, '--clear-groups'] : []),
        ...(opts.uid !== undefined ? [`--reuid=${opts.uid}`] : []),
        '--',
        ...opts.argv,
      ]
    : opts.argv;
  const envList = opts.env === undefined ? undefined : Object.entries(opts.env).map(([k, v]) => `${k}=${v}`);
  if (argv.some((a) => a.includes('\0')) || envList?.some((e) => e.includes('\0'))) return { error: 'EINVAL' };

  const fds = new Int32Array(2);
  if (l.pipe2(fds, O_CLOEXEC) !== 0) return { error: errnoName(koffi.errno()) };
  const [readFd, writeFd] = [fds[0]!, fds[1]!];
  let output: PipeOutput;
  try {
    output = new PipeOutput(readFd);
  } catch {
    // libuv refused a fresh pipe (not expected): nothing has started
    libc().close(readFd);
    libc().close(writeFd);
    return { error: 'EIO' };
  }
  const actions: unknown = koffi.alloc('uint8_t', ACTIONS_BYTES);
  const attr: unknown = koffi.alloc('uint8_t', ATTR_BYTES);
  const cArgv = cStrings(argv);
  // This process's environment is passed as it is (environ), not copied string by string.
  const cEnv = envList === undefined ? { ptr: environ(), free: () => undefined } : cStrings(envList);
  const pid = new Int32Array(1);
  let rc: number;
  try {
    l.posix_spawn_file_actions_init(actions);
    l.posix_spawnattr_init(attr);
    l.posix_spawn_file_actions_addopen(actions, 0, '/dev/null', O_RDONLY, 0);
    l.posix_spawn_file_actions_adddup2(actions, writeFd, 1);
    l.posix_spawn_file_actions_adddup2(actions, writeFd, 2);
    l.posix_spawn_file_actions_addclosefrom_np(actions, 3);
    if (opts.cwd !== undefined) l.posix_spawn_file_actions_addchdir_np(actions, opts.cwd);
    l.posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    l.posix_spawnattr_setsigmask(attr, Buffer.alloc(SIGSET_BYTES));
    // every signal 1..64 back to its default (glibc skips those that cannot be changed)
    l.posix_spawnattr_setsigdefault(attr, Buffer.alloc(SIGSET_BYTES).fill(0xff, 0, 8));
    // Listening before the child exists: its SIGCHLD cannot come before the pid is waited for
    // (the listener runs on a later turn of the event loop, after the pid is in `waiting`).
    if (waiting.size === 0) listen();
    rc = l.posix_spawnp(pid, argv[0]!, actions, attr, cArgv.ptr, cEnv.ptr);
  } finally {
    l.posix_spawn_file_actions_destroy(actions);
    l.posix_spawnattr_destroy(attr);
    koffi.free(actions);
    koffi.free(attr);
    cArgv.free();
    cEnv.free();
    libc().close(writeFd);
  }
  if (rc !== 0) {
    output.destroy();
    if (waiting.size === 0) unlisten();
    return { error: errnoName(rc) };
  }
  const child = pid[0]!;
  const exited = new Promise<ExitStatus>((resolve) => waiting.set(child, resolve));

  // A SIGCHLD that two exits share, or one Node folded, is not lost: the pipe's end looks too.
  output.once('close', reap);
  return { pid: child, output, exited };
}
