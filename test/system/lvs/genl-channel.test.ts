/**
 * GenlChannel against the host kernel's generic netlink controller (nlctrl, always there):
 * pipelined requests, dumps that must hold the socket alone, and batches whose failures are
 * attributed to the right request. The IPVS client uses exactly these paths.
 */
import test from 'ava';
import { createGenlSocket, GenlChannel, GenlError, resolveGenlFamily } from '../../../src/netlink/genl.ts';
import { nlaString, parseAttrs, getString } from '../../../src/netlink/ipvs/nlattr.ts';

const CTRL_CMD_GETFAMILY = 3;
const CTRL_ATTR_FAMILY_NAME = 2;

async function channel(window = 16): Promise<GenlChannel> {
  const sock = createGenlSocket();
  const fam = await resolveGenlFamily(sock, 'nlctrl', { timeoutMs: 2000 });
  return new GenlChannel(sock, fam, { timeoutMs: 2000, window });
}

function familyNames(msgs: Array<{ data: Buffer }>): string[] {
  return msgs.map((m) => {
    const a = parseAttrs(m.data);
    return a.ok && a.value.has(CTRL_ATTR_FAMILY_NAME) ? getString(a.value.get(CTRL_ATTR_FAMILY_NAME)!) : '?';
  });
}

test('requests, dumps and requests again, all issued at once: every answer complete and right', async (t) => {
  const ch = await channel(4);
  try {
    const alone = familyNames(await ch.request(CTRL_CMD_GETFAMILY, [], 'dump', { dump: true }));
    t.true(alone.includes('nlctrl'));
    const get = (name: string) => ch.request(CTRL_CMD_GETFAMILY, [nlaString(CTRL_ATTR_FAMILY_NAME, name)], `family ${name}`);
    const before = Array.from({ length: 20 }, () => get('nlctrl'));
    const dumps = [ch.request(CTRL_CMD_GETFAMILY, [], 'dump 1', { dump: true }), ch.request(CTRL_CMD_GETFAMILY, [], 'dump 2', { dump: true })];
    const after = Array.from({ length: 20 }, () => get('nlctrl'));
    const missing = get('VIGIL_NO_SUCH');
    for (const r of [...before, ...after]) t.deepEqual(familyNames(await r), ['nlctrl']);
    for (const d of dumps) t.deepEqual(familyNames(await d), alone);
    const err = await t.throwsAsync(missing, { instanceOf: GenlError });
    t.is(err?.code, 'VIGIL_NETLINK_REJECTED');
    t.is(err?.errno, 'ENOENT');
    t.is(err?.message, 'family VIGIL_NO_SUCH: kernel rejected the request (ENOENT)');
  } finally {
    await ch.close();
  }
});

test('a batch reports failures against the right items, across chunks, and leaves the socket usable', async (t) => {
  const ch = await channel();
  try {
    // 700 items → 3 chunks; all but every 7th ask for a family that does not exist (the
    // successes are answered with the family's description, which is large)
    const items = Array.from({ length: 700 }, (_, i) => {
      const name = i % 7 !== 3 ? `VIGIL_NO_${i}` : 'nlctrl';
      return { cmd: CTRL_CMD_GETFAMILY, payload: [nlaString(CTRL_ATTR_FAMILY_NAME, name)], what: `family ${name}` };
    });
    const results = await ch.batch(items, 'batch');
    t.is(results.length, 700);
    results.forEach((r, i) => {
      if (i % 7 !== 3) {
        t.is(r?.code, 'VIGIL_NETLINK_REJECTED');
        t.is(r?.message, `family VIGIL_NO_${i}: kernel rejected the request (ENOENT)`);
      } else if (r !== undefined) {
        t.fail(`item ${i}: ${r.message}`);
      }
    });
    // the socket is still in a clean state: a dump right after is complete
    t.true(familyNames(await ch.request(CTRL_CMD_GETFAMILY, [], 'dump', { dump: true })).includes('nlctrl'));
    t.deepEqual(await ch.batch([], 'empty'), []);
  } finally {
    await ch.close();
  }
});
