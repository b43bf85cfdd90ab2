import test from 'ava';
import { decodeProcEvents, procSubscribeMessage } from '../../../src/netlink/proc-events.ts';

/** A datagram as the kernel sends it: nlmsghdr + cn_msg + proc_event (what, cpu, timestamp, data words). */
function datagram(what: number, cpu: number, seq: number, data: number[], comm?: string): Buffer {
  const ev = Buffer.alloc(16 + 24);
  ev.writeUInt32LE(what, 0);
  ev.writeUInt32LE(cpu, 4);
  data.forEach((v, i) => ev.writeInt32LE(v, 16 + 4 * i));
  if (comm !== undefined) ev.write(comm, 16 + 8, 'latin1');
  const cn = Buffer.alloc(20);
  cn.writeUInt32LE(1, 0);
  cn.writeUInt32LE(1, 4);
  cn.writeUInt32LE(seq, 8);
  cn.writeUInt16LE(ev.length, 16);
  const nl = Buffer.alloc(16);
  nl.writeUInt32LE(16 + cn.length + ev.length, 0);
  nl.writeUInt16LE(3, 4);
  return Buffer.concat([nl, cn, ev]);
}

test('the subscribe message: nlmsghdr (NLMSG_DONE) + cn_msg {CN_IDX_PROC, CN_VAL_PROC, len 4} + LISTEN or IGNORE', (t) => {
  const m = procSubscribeMessage(true);
  t.is(m.length, 40);
  t.is(m.readUInt32LE(0), 40);
  t.is(m.readUInt16LE(4), 3);
  t.deepEqual([m.readUInt32LE(16), m.readUInt32LE(20), m.readUInt16LE(32)], [1, 1, 4]);
  t.is(m.readUInt32LE(36), 1);
  t.is(procSubscribeMessage(false).readUInt32LE(36), 2);
});

test('fork, exec, comm and exit events decode with their cpu and sequence number; others are `other`', (t) => {
  t.deepEqual(decodeProcEvents(datagram(0x1, 1, 7, [100, 100, 205, 205])), [{ event: { what: 'fork', parentTgid: 100, childPid: 205, childTgid: 205 }, cpu: 1, seq: 7 }]);
  t.deepEqual(decodeProcEvents(datagram(0x2, 0, 8, [205, 205])), [{ event: { what: 'exec', pid: 205, tgid: 205 }, cpu: 0, seq: 8 }]);
  t.deepEqual(decodeProcEvents(datagram(0x200, 0, 9, [205, 205], 'nginx')), [{ event: { what: 'comm', pid: 205, tgid: 205, comm: 'nginx' }, cpu: 0, seq: 9 }]);
  t.deepEqual(decodeProcEvents(datagram(0x80000000, 0, 10, [206, 205, 0, 9])), [{ event: { what: 'exit', pid: 206, tgid: 205 }, cpu: 0, seq: 10 }]);
  t.deepEqual(decodeProcEvents(datagram(0, 0, 0, [])), [{ event: { what: 'other', code: 0 }, cpu: 0, seq: 0 }]);
  t.deepEqual(decodeProcEvents(datagram(0x4, 0, 1, [1, 1])), [{ event: { what: 'other', code: 4 }, cpu: 0, seq: 1 }]);
});

test('truncated, foreign and error messages yield nothing', (t) => {
  const d = datagram(0x1, 0, 1, [1, 1, 2, 2]);
  t.deepEqual(decodeProcEvents(d.subarray(0, 30)), []);
  const foreign = Buffer.from(d);
  foreign.writeUInt32LE(5, 16); // another connector index
  t.deepEqual(decodeProcEvents(foreign), []);
  const err = Buffer.from(d);
  err.writeUInt16LE(2, 4); // NLMSG_ERROR
  t.deepEqual(decodeProcEvents(err), []);
});
