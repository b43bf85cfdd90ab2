/**
 * The real kernel of the host, no VM. This machine's kernel has no IPVS: opening the client
 * must give one clear VIGIL_IPVS_UNAVAILABLE error (not a crash, not a hang). On a host
 * whose kernel does have IPVS the same call must instead succeed and answer.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { createGenlSocket, GenlChannel, GenlError, resolveGenlFamily } from '../../../src/netlink/genl.ts';
import { openIpvs } from '../../../src/netlink/ipvs/client.ts';
import { IpvsError } from '../../../src/netlink/ipvs/errors.ts';

test('generic netlink: the controller resolves itself; an unknown family is VIGIL_GENL_NO_FAMILY', async (t) => {
  const sock = createGenlSocket();
  try {
    const ctrl = await resolveGenlFamily(sock, 'nlctrl', { timeoutMs: 2000 });
    t.is(ctrl.id, 16);
    const err = await t.throwsAsync(resolveGenlFamily(sock, 'VIGIL_NO_SUCH', { timeoutMs: 2000 }), { instanceOf: GenlError });
    t.is(err?.code, 'VIGIL_GENL_NO_FAMILY');
  } finally {
    sock.socket.close();
  }
});

test('a closed channel rejects queued and later requests with VIGIL_NETLINK_CLOSED', async (t) => {
  const sock = createGenlSocket();
  const fam = await resolveGenlFamily(sock, 'nlctrl', { timeoutMs: 2000 });
  const ch = new GenlChannel(sock, fam, { timeoutMs: 2000, window: 1 });
  // CTRL_CMD_GETFAMILY dump (3) lists every family: a real request that the kernel answers
  const dump = ch.request(3, [], 'family dump', { dump: true });
  const queued = ch.request(3, [], 'family dump 2', { dump: true });
  const first = await dump;
  t.true(first.length > 1);
  await ch.close();
  const e1 = await t.throwsAsync(queued, { instanceOf: GenlError });
  t.is(e1?.code, 'VIGIL_NETLINK_CLOSED');
  const e2 = await t.throwsAsync(ch.request(3, [], 'after close', { dump: true }), { instanceOf: GenlError });
  t.is(e2?.code, 'VIGIL_NETLINK_CLOSED');
});

test('openIpvs on this host: VIGIL_IPVS_UNAVAILABLE without IPVS, a working client with it', async (t) => {
  const hostHasIpvs = existsSync('/proc/net/ip_vs');
  if (hostHasIpvs) {
    const ipvs = await openIpvs({ timeoutMs: 2000 });
    try {
      t.regex((await ipvs.info()).version, /^\d+\.\d+\.\d+$/);
    } finally {
      await ipvs.close();
    }
    return;
  }
  const started = performance.now();
  const err = await t.throwsAsync(openIpvs({ timeoutMs: 2000 }), { instanceOf: IpvsError });
  t.is(err?.code, 'VIGIL_IPVS_UNAVAILABLE');
  t.regex(err?.message ?? '', /^VIGIL_IPVS_UNAVAILABLE ipvs: this kernel has no IPVS/);
  t.true(performance.now() - started < 2000, 'answered by the kernel, not by the deadline');
  // and again: no state left behind that would turn the second attempt into something else
  const again = await t.throwsAsync(openIpvs({ timeoutMs: 2000 }), { instanceOf: IpvsError });
  t.is(again?.code, 'VIGIL_IPVS_UNAVAILABLE');
});
