/**
 * Process-wide limits keepalived sets for its realtime processes (lib/process.c), through
 * koffi: memory locking for `vrrp_no_swap` / `checker_no_swap` / `bfd_no_swap`, and
 * RLIMIT_RTTIME for `vrrp_rlimit_rttime`. vigil is one process, so both cover every thread.
 * Each returns an error string instead of throwing.
 *
 * Not mlockall as keepalived: V8 gives heap pages back with madvise(MADV_DONTNEED), which
 * the kernel refuses on locked memory (EINVAL), and V8 aborts on that refusal (seen on
 * Node 20: "Check failed: 0 == ret" within seconds of mlockall). What is locked instead is
 * every file-backed mapping (node's and the libraries' code and read-only data, the pages a
 * busy host evicts first) and the main stack, at the time of the call.
 */
import { readFileSync } from 'node:fs';
import { lastErrno, libcLibrary } from './libc.ts';

// include/uapi/asm-generic/mman-common.h
/** lock pages as they are faulted in, not the whole mapping at once (Linux ≥ 4.4), as keepalived does */
const MLOCK_ONFAULT = 1;
// include/uapi/asm-generic/resource.h
const RLIMIT_RTTIME = 15;

interface Calls {
  mlock2(addr: number, len: number, flags: number): number;
  munlockall(): number;
  setrlimit(resource: number, rlim: Buffer): number;
}
let bound: Calls | undefined;

function calls(): Calls {
  if (bound) return bound;
  const lib = libcLibrary();
  bound = {
    mlock2: lib.func('int mlock2(uintptr_t addr, size_t len, unsigned int flags)') as Calls['mlock2'],
    munlockall: lib.func('int munlockall()') as Calls['munlockall'],
    setrlimit: lib.func('int setrlimit(int resource, const void *rlim)') as Calls['setrlimit'],
  };
  return bound;
}

export type Outcome = { ok: true } | { ok: false; error: string };

/** The mappings lockMemory locks, from /proc/self/maps: file-backed ones (not memfd, not deleted) and [stack]. */
export function lockableMappings(maps: string): Array<{ start: number; len: number; what: string }> {
  const out: Array<{ start: number; len: number; what: string }> = [];
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s+(.*)$/.exec(line);
    if (m === null) continue;
    const what = m[3]!;
    const file = what.startsWith('/') && !what.startsWith('/memfd:') && !what.endsWith('(deleted)');
    if (!file && what !== '[stack]') continue;
    const start = parseInt(m[1]!, 16);
    out.push({ start, len: parseInt(m[2]!, 16) - start, what });
  }
  return out;
}

/** mlock2(MLOCK_ONFAULT) of lockableMappings(): their pages stay in memory once touched. */
export function lockMemory(): Outcome & { mappings?: number } {
  const maps = lockableMappings(readFileSync('/proc/self/maps', 'utf8'));
  const failed: string[] = [];
  for (const m of maps) if (calls().mlock2(m.start, m.len, MLOCK_ONFAULT) !== 0) failed.push(`${m.what}: ${lastErrno()}`);
  if (failed.length > 0) return { ok: false, error: `mlock2 failed for ${failed.length} of ${maps.length} mappings (${failed[0]})` };
  return { ok: true, mappings: maps.length };
}

export function unlockMemory(): Outcome {
  return calls().munlockall() === 0 ? { ok: true } : { ok: false, error: `munlockall failed: ${lastErrno()}` };
}

/**
 * RLIMIT_RTTIME: µs of CPU a realtime thread may use without a blocking call. The soft limit
 * is half the hard one, as keepalived sets it: SIGXCPU warns at the soft limit, the kernel
 * kills the process at the hard one.
 */
export function setRealtimeCpuLimit(us: number): Outcome {
  const rlim = Buffer.alloc(16);
  rlim.writeBigUInt64LE(BigInt(Math.floor(us / 2)), 0);
  rlim.writeBigUInt64LE(BigInt(us), 8);
  return calls().setrlimit(RLIMIT_RTTIME, rlim) === 0 ? { ok: true } : { ok: false, error: `setrlimit(RLIMIT_RTTIME, ${us}) failed: ${lastErrno()}` };
}
