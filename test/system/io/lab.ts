/**
 * The two-namespace segment the io system tests run on: `a` (MAC 02:ab:00:00:00:01,
 * 10.211.0.1 — the sender of ../shared/vectors/) and `b` (10.211.0.2), joined by a veth pair
 * named eth0 on both sides, plus helpers to run fixtures and tcpdump inside them.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetnsLab, nsExec, waitFor } from '../../helpers/netns.ts';

export const MAC_A = '02:ab:00:00:00:01';
export const MAC_B = '02:ab:00:00:00:02';

export interface Pair {
  lab: NetnsLab;
  a: string;
  b: string;
  /** IPv6 link-local addresses of a's and b's eth0 */
  ll: { a: string; b: string };
}

function linkLocal(ns: string): string | undefined {
  const out = nsExec(ns, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']);
  if (out.includes('tentative')) return undefined;
  return /inet6 (fe80::[0-9a-f:]+)\//.exec(out)?.[1];
}

export async function makePair(): Promise<Pair> {
  const lab = new NetnsLab('vio');
  try {
    const a = lab.addNs('a');
    const b = lab.addNs('b');
    lab.veth(a, 'eth0', b, 'eth0', { macA: MAC_A, macB: MAC_B });
    nsExec(a, ['ip', 'addr', 'add', '10.211.0.1/24', 'dev', 'eth0']);
    nsExec(b, ['ip', 'addr', 'add', '10.211.0.2/24', 'dev', 'eth0']);
    // Link-locals are usable once DAD is over (about 1-2 s on a fresh veth).
    await waitFor('IPv6 link-local addresses', () => linkLocal(a) !== undefined && linkLocal(b) !== undefined, 15_000, 100);
    return { lab, a, b, ll: { a: linkLocal(a)!, b: linkLocal(b)! } };
  } catch (e) {
    lab.removeAll();
    throw e;
  }
}

/** A child's stdout as parsed JSON lines, appended as they arrive. */
export function jsonLines(child: ChildProcess): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ event: 'unparsed', line });
      }
    }
  });
  return lines;
}

const fixtures = new URL('./fixtures/', import.meta.url);

/** Starts `fixtures/<name>.ts` with one JSON argument inside `ns`; returns it and its output. */
export function runFixture(
  pair: Pair,
  ns: string,
  name: string,
  args: unknown,
): { child: ChildProcess; out: Array<Record<string, unknown>>; stderr: () => string } {
  const child = pair.lab.spawnIn(ns, [process.execPath, '--import', 'tsx', new URL(`${name}.ts`, fixtures).pathname, JSON.stringify(args)], {
    cwd: new URL('../../../', import.meta.url).pathname,
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  return { child, out: jsonLines(child), stderr: () => err };
}

/**
 * tcpdump on eth0 of `ns` into a fresh pcap file; resolves once it is capturing.
 * --immediate-mode: without it libpcap hands packets over a TPACKET_V3 block at a time, and
 * a capture stopped within the block timeout loses the last (here: all) packets.
 */
export async function startCapture(pair: Pair, ns: string, filter: string[]): Promise<{ file: string; stop: () => Promise<void> }> {
  const file = join(mkdtempSync(join(tmpdir(), 'vio-')), 'cap.pcap');
  const child = pair.lab.spawnIn(ns, ['tcpdump', '-i', 'eth0', '-n', '-U', '--immediate-mode', '-Z', 'root', '-w', file, ...filter]);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  await waitFor('tcpdump to listen', () => err.includes('listening on'), 10_000, 20);
  return {
    file,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await done;
      }
    },
  };
}

/** Sends SIGTERM (the fixtures close their sockets and report) and waits for the exit. */
export async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
}
