/**
 * CPU time of the calling thread, from /proc/thread-self/stat (Linux): utime + stime in
 * clock ticks (USER_HZ, 100 on Linux), returned in ms. Node 20 has no per-thread CPU
 * counter (process.threadCpuUsage came in Node 23.9); this lets the checker pool report
 * what one worker thread costs, for bench/checks and status.
 */
import { readFileSync } from 'node:fs';

/** ms per clock tick: USER_HZ is 100 on every Linux ABI Node supports */
const MS_PER_TICK = 10;

export function threadCpuMs(): number {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  // fields after the parenthesised comm: state is field 3; utime and stime are 14 and 15
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return (utime + stime) * MS_PER_TICK;
}
