/**
 * A daemon's processes as the kernel sees them, for the footprint and soak benches: every
 * process of its session (`ip netns exec` execs the daemon in a new session, so the session
 * id is the daemon's pid) and each one's memory from smaps_rollup (kB).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Every process whose session is `sid`. */
export function sessionPids(sid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[6 - 3]) === sid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * PSS, RSS, USS (private clean + dirty) and anonymous memory of `pid`, kB. Throws if it is
 * gone. Only the last is the process's own whatever else runs: PSS and USS both move when
 * another process that maps node's pages starts or exits (a page shared by two is private to
 * the one left).
 */
export function memoryKb(pid: number): { pssKb: number; rssKb: number; ussKb: number; anonKb: number } {
  const s = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
  return { pssKb: kb('Pss'), rssKb: kb('Rss'), ussKb: kb('Private_Clean') + kb('Private_Dirty'), anonKb: kb('Anonymous') };
}
