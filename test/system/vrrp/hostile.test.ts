/**
 * Hostile input on the wire: a third host throws thousands of random and mutated VRRP
 * packets (IP protocol 112, multicast and unicast, TTL 255 and not) at a running vigil
 * master. It must keep running, keep its state and VIP, count every packet under a reason,
 * and keep advertising.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { NetnsLab, nsExec, requireRoot } from '../../helpers/netns.ts';
import { globalDefs, hasAddress, instanceBlock, outputOf, RouterDir, startVigil, vigilStatus, waitAddress } from '../../helpers/routers.ts';

const VIP = '10.76.0.100';

/** python3 (standard library) sends the packets; seeded so a failure can be replayed. */
const FUZZER = String.raw`
import random, socket, struct, sys
seed, count = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(seed)
good = bytes.fromhex(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
sent = 0
for i in range(count):
    kind = rnd.randrange(5)
    if kind == 0:
        p = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 80)))
    elif kind == 1:
        b = bytearray(good)
        for _ in range(rnd.randrange(1, 6)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        p = bytes(b)
    elif kind == 2:
        p = good[: rnd.randrange(len(good))]
    elif kind == 3:
        b = bytearray(good)
        b[3] = rnd.choice([0, 1, 2, 200, 255])
        p = bytes(b) + bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 40)))
    else:
        b = bytearray(good)
        b[2] = 254
        p = bytes(b)
    ttl = rnd.choice([255, 255, 255, 1, 64])
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    dst = rnd.choice(["224.0.0.18", "10.76.0.1"])
    try:
        s.sendto(p, (dst, 0))
        sent += 1
    except OSError:
        pass
print(sent)
`;

test('thousands of random and mutated VRRP packets: vigil keeps running, keeps MASTER and the VIP, and counts drops by reason', async (t) => {
  if (!requireRoot(t)) return;
  const lab = new NetnsLab('vfz');
  const dir = new RouterDir();
  t.teardown(() => {
    lab.removeAll();
    dir.remove();
  });
  const r1 = lab.addNs('r1');
  const x = lab.addNs('x');
  lab.segment('sw', [
    { ns: r1, ifname: 'eth0' },
    { ns: x, ifname: 'eth0' },
  ]);
  nsExec(r1, ['ip', 'addr', 'add', '10.76.0.1/24', 'dev', 'eth0']);
  nsExec(x, ['ip', 'addr', 'add', '10.76.0.66/24', 'dev', 'eth0']);
  nsExec(x, ['ip', 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
  const conf = dir.file('r1.conf', globalDefs('r1') + instanceBlock({ state: 'MASTER', priority: 150, vip: `${VIP}/24`, advertInt: '1', version: 2, auth: 'pw' }));
  const r = startVigil(lab, r1, dir, 'r1', conf);
  try {
    await waitAddress(r1, 'eth0', VIP, true, 15_000);
    // A well-formed VRRPv2 advert for VRID 51 at priority 200 with the wrong password: the
    // base the mutations start from (a valid one would rightly make vigil step down).
    const good = '2133c801010148aa0a4c00647077000000000000';
    const py = dir.file('fuzz.py', FUZZER);
    const res = spawnSync('ip', ['netns', 'exec', x, 'python3', py, '1', '5000', good], { encoding: 'utf8', timeout: 120_000 });
    t.is(res.status, 0, res.stderr);
    t.log(`sent ${res.stdout.trim()} packets`);
    await new Promise((res2) => setTimeout(res2, 1500));
    t.is(r.proc.exitCode, null, 'vigil died');
    t.true(hasAddress(r1, 'eth0', VIP));
    const status = vigilStatus(r, dir);
    const inst = status.instances[0]!;
    t.is(inst.state, 'MASTER');
    const socketLevel = Object.entries(status.counters).filter(([k]) => k.startsWith('droppedUnattributed.'));
    const dropped = Object.values(inst.dropped).reduce((a, b) => a + b, 0) + socketLevel.reduce((a, [, n]) => a + n, 0);
    t.log(`dropped by reason: instance ${JSON.stringify(inst.dropped)}, before any instance ${JSON.stringify(Object.fromEntries(socketLevel))}`);
    t.true(dropped > 1000, `only ${dropped} drops counted`);
    t.true(Object.keys(inst.dropped).length >= 3, 'drops are not told apart by reason');
    t.false(outputOf(r).includes('"level":"fatal"'));
  } catch (e) {
    t.log(outputOf(r));
    throw e;
  }
});
