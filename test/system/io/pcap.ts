/** A minimal reader of the classic pcap files tcpdump -w writes (Ethernet link type). */
import { readFileSync } from 'node:fs';

export interface Frame {
  /** seconds since the epoch, with the file's (µs or ns) resolution */
  t: number;
  data: Buffer;
}

export function readPcap(path: string): Frame[] {
  const b = readFileSync(path);
  if (b.length < 24) return [];
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const frames: Frame[] = [];
  for (let off = 24; off + 16 <= b.length; ) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    if (off + 16 + incl > b.length) break; // tcpdump killed mid-write
    frames.push({ t: sec + frac / (nano ? 1e9 : 1e6), data: Buffer.from(b.subarray(off + 16, off + 16 + incl)) });
    off += 16 + incl;
  }
  return frames;
}
