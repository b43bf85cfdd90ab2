/**
 * Who runs a script, and whether it is safe to run it (keepalived core/notify.c:
 * check_script_secure, check_security, get_default_script_user, set_uid_gid).
 *
 * User: a script's own `user USER [GROUP]`, else global `script_user`, else the user
 * `keepalived_script` if it exists, else vigil's own user (root) — with
 * enable_script_security, a missing keepalived_script is an error, as in keepalived
 * ("Unable to set default user keepalived_script for script"). Names are resolved with
 * getent(1), so NSS sources (LDAP, sssd) work as they do for keepalived's getpwnam().
 *
 * Safety: a script that will run as root (uid or gid 0, or a set-uid/gid-root file) must
 * not be replaceable by anyone but root: the file and every directory on its path (as
 * written, and after resolving symlinks) must be owned by root and not writable by group
 * (unless the group is root) or others — a sticky directory such as /tmp excepted. With
 * enable_script_security such a script is refused; without, it runs and a warning says so.
 *
 * One deviation, on purpose: keepalived rejects a path whose directory component is a
 * symlink (so `/bin/x` on a merged-/usr system fails). Here a root-owned symlink is
 * accepted as a component — only root can change it — and the resolved path is walked too.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { GlobalDefs, ScriptCommand } from '../config/model.ts';

export const DEFAULT_SCRIPT_USER = 'keepalived_script';
/** ms: getent against a slow NSS source must not hang a reload */
const GETENT_TIMEOUT_MS = 5000;
/** keepalived's fallback PATH for a bare script name when PATH is unset */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ScriptUser {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
}

export type ScriptUserErrorCode = 'SCRIPT_USER_UNKNOWN' | 'SCRIPT_GROUP_UNKNOWN' | 'SCRIPT_USER_LOOKUP_FAILED' | 'SCRIPT_DEFAULT_USER_MISSING';

export class ScriptUserError extends Error {
  readonly code: ScriptUserErrorCode;
  constructor(code: ScriptUserErrorCode, message: string) {
    super(message);
    this.name = 'ScriptUserError';
    this.code = code;
  }
}

/** One `getent DB KEY` line split on ':', or undefined when the key does not exist (exit 2). */
function getent(db: 'passwd' | 'group', key: string): Promise<string[] | undefined> {
  return new Promise((resolve, reject) => {
    execFile('getent', [db, key], { timeout: GETENT_TIMEOUT_MS }, (err, stdout) => {
      if (err) {
        if ((err as { code?: unknown }).code === 2) return resolve(undefined);
        return reject(new ScriptUserError('SCRIPT_USER_LOOKUP_FAILED', `getent ${db} ${key}: ${err.message}`));
      }
      const line = stdout.split('\n')[0] ?? '';
      resolve(line === '' ? undefined : line.split(':'));
    });
  });
}

/** `user USER [GROUP]` to ids; GROUP defaults to the user's primary group. */
export async function resolveUser(user: string, group?: string): Promise<ScriptUser> {
  if (user.startsWith('-') || group?.startsWith('-')) {
    throw new ScriptUserError('SCRIPT_USER_UNKNOWN', `user ${JSON.stringify(user)} is not a valid name`);
  }
  const pw = await getent('passwd', user);
  const uid = Number(pw?.[2]);
  const pgid = Number(pw?.[3]);
  if (!pw || !Number.isInteger(uid) || !Number.isInteger(pgid)) {
    throw new ScriptUserError('SCRIPT_USER_UNKNOWN', `script user ${JSON.stringify(user)} does not exist`);
  }
  if (group === undefined) return { uid, gid: pgid, name: user };
  const gr = await getent('group', group);
  const gid = Number(gr?.[2]);
  if (!gr || !Number.isInteger(gid)) {
    throw new ScriptUserError('SCRIPT_GROUP_UNKNOWN', `script group ${JSON.stringify(group)} does not exist`);
  }
  return { uid, gid, name: user };
}

export interface DefaultUser {
  readonly user: ScriptUser;
  /** set when falling back to vigil's own user */
  readonly warning?: string;
}

/**
 * The user for scripts that name none: script_user, else keepalived_script, else ourselves.
 * Throws ScriptUserError (SCRIPT_DEFAULT_USER_MISSING) when enable_script_security is on and
 * neither script_user nor keepalived_script exists, as keepalived does.
 */
export async function defaultScriptUser(g: Pick<GlobalDefs, 'scriptUser' | 'enableScriptSecurity'>): Promise<DefaultUser> {
  if (g.scriptUser) return { user: await resolveUser(g.scriptUser.user, g.scriptUser.group) };
  try {
    return { user: await resolveUser(DEFAULT_SCRIPT_USER) };
  } catch (err) {
    if (!(err instanceof ScriptUserError) || err.code !== 'SCRIPT_USER_UNKNOWN') throw err;
  }
  if (g.enableScriptSecurity) {
    throw new ScriptUserError(
      'SCRIPT_DEFAULT_USER_MISSING',
      `enable_script_security is set but neither script_user nor the user ${DEFAULT_SCRIPT_USER} exists; scripts without their own user cannot run`,
    );
  }
  const self = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, name: ownName() };
  return {
    user: self,
    warning: `no user ${DEFAULT_SCRIPT_USER} and no script_user: scripts run as ${self.name} (uid ${self.uid})`,
  };
}

function ownName(): string {
  const uid = process.getuid?.() ?? 0;
  return uid === 0 ? 'root' : String(uid);
}

/** The user one script runs as: its own `user`, else the default. */
export async function scriptUserFor(cmd: ScriptCommand, fallback: ScriptUser): Promise<ScriptUser> {
  if (cmd.user === undefined) return fallback;
  return resolveUser(cmd.user, cmd.group);
}

export type ScriptCheckStatus =
  /** safe, or not running as root */
  | 'ok'
  /** writable by non-root but enable_script_security is off: runs, with a warning */
  | 'insecure'
  /** writable by non-root and enable_script_security is on: must not run */
  | 'refused'
  | 'not-found'
  | 'not-executable';

export interface ScriptCheck {
  readonly status: ScriptCheckStatus;
  /** argv[0] after a PATH search (what gets executed) */
  readonly path: string;
  /** one line for the log; set for every status but 'ok' (and for a PATH search) */
  readonly message?: string;
  /** true when the script will run with root privileges */
  readonly runsAsRoot: boolean;
}

/** Whether the script may run at all (ok or insecure-but-allowed). */
export function mayRun(c: ScriptCheck): boolean {
  return c.status === 'ok' || c.status === 'insecure';
}

/**
 * Checks one script for `user`. Synchronous: a handful of stat(2) calls at load/reload,
 * never on a hot path.
 */
export function checkScript(argv0: string, user: ScriptUser, scriptSecurity: boolean, env: NodeJS.ProcessEnv = process.env): ScriptCheck {
  let path = argv0;
  let searchNote: string | undefined;
  if (!argv0.includes('/')) {
    const found = searchPath(argv0, env['PATH'] ?? DEFAULT_PATH);
    if (found === undefined) {
      return { status: 'not-found', path: argv0, message: `script ${argv0} not found in PATH; disabled`, runsAsRoot: false };
    }
    path = found;
    searchNote = `script ${argv0} resolved by PATH search to ${found}; please give the full path`;
  }
  let real: string;
  let st: Stats;
  try {
    real = realpathSync(path);
    st = statSync(real);
  } catch (err) {
    return { status: 'not-found', path, message: `script ${path} cannot be accessed: ${(err as NodeJS.ErrnoException).code ?? String(err)}; disabled`, runsAsRoot: false };
  }
  if (!st.isFile() || !isExecutable(st, user)) {
    return { status: 'not-executable', path, message: `script ${path} is not executable for uid:gid ${user.uid}:${user.gid}; disabled`, runsAsRoot: false };
  }
  const runsAsRoot =
    user.uid === 0 ||
    user.gid === 0 ||
    (st.uid === 0 && (st.mode & 0o4100) === 0o4100) ||
    (st.gid === 0 && (st.mode & 0o2010) === 0o2010);
  if (!runsAsRoot) return withNote({ status: 'ok', path, runsAsRoot }, searchNote);
  const unsafe = unsafeComponent(isAbsolute(path) ? path : join(process.cwd(), path)) ?? (real !== path ? unsafeComponent(real) : undefined);
  if (unsafe === undefined) return withNote({ status: 'ok', path, runsAsRoot }, searchNote);
  return {
    status: scriptSecurity ? 'refused' : 'insecure',
    path,
    runsAsRoot,
    message: scriptSecurity
      ? `unsafe permissions for script ${path}: ${unsafe}; refused (enable_script_security)`
      : `SECURITY VIOLATION: script ${path} runs as root but ${unsafe}; enable_script_security would refuse it`,
  };
}

function withNote(c: ScriptCheck, note: string | undefined): ScriptCheck {
  return note === undefined ? c : { ...c, message: note };
}

/** keepalived is_executable(): root needs any x bit; others the bit for their class. */
function isExecutable(st: Stats, user: ScriptUser): boolean {
  if (user.uid === 0) return (st.mode & 0o111) !== 0;
  if (st.uid === user.uid) return (st.mode & 0o100) !== 0;
  if (st.gid === user.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

function searchPath(name: string, pathVar: string): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Walks `/`, `/a`, `/a/b`, … `/a/b/script` with lstat and returns why the first unsafe
 * component is unsafe, or undefined when all are safe. Pure apart from lstat.
 */
export function unsafeComponent(absPath: string): string | undefined {
  const parts = absPath.split('/').filter((p) => p !== '' && p !== '.');
  const prefixes = ['/'];
  let acc = '';
  for (const p of parts) {
    acc = p === '..' ? acc.slice(0, Math.max(0, acc.lastIndexOf('/'))) : `${acc}/${p}`;
    prefixes.push(acc === '' ? '/' : acc);
  }
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i] as string;
    const last = i === prefixes.length - 1;
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch (err) {
      return `${p} cannot be examined (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
    }
    const why = unsafeStat(st, last);
    if (why !== undefined) return `${p} ${why}`;
  }
  return undefined;
}

/** keepalived check_security() for one lstat result. Pure. */
export function unsafeStat(st: Pick<Stats, 'uid' | 'gid' | 'mode'> & { isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }, last: boolean): string | undefined {
  if (st.isSymbolicLink()) return st.uid === 0 ? undefined : `is a symlink owned by uid ${st.uid}`;
  if (!last && !st.isDirectory()) return 'is not a directory';
  if (last && !st.isFile()) return 'is not a regular file';
  if (st.uid !== 0) return `is owned by uid ${st.uid}, not root`;
  const sticky = (st.mode & 0o1000) !== 0;
  if (st.isDirectory() && sticky) return undefined;
  if (st.gid !== 0 && (st.mode & 0o020) !== 0) return `is writable by group ${st.gid}`;
  if ((st.mode & 0o002) !== 0) return 'is writable by everyone';
  return undefined;
}
