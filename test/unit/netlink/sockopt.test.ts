import test from 'ava';
import { parseProcNetlink } from '../../../src/netlink/sockopt.ts';

test('/proc/net/netlink rows: protocol, port id (u32), drops, inode', (t) => {
  const text = [
    'sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode',
    '000000002bf43d39 0   0          00000000 0        0        0     2        0        4       ',
    '00000000cef7cb6a 0   4290813952 00000001 0        0        0     2        17       98765   ',
    'garbage line',
    '',
  ].join('\n');
  t.deepEqual(parseProcNetlink(text), [
    { protocol: 0, portid: 0, drops: 0, inode: 4 },
    { protocol: 0, portid: 4290813952, drops: 17, inode: 98765 },
  ]);
});
