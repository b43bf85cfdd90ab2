/**
 * Gratuitous ARP and unsolicited NA on a real wire: sent from namespace `a` by the
 * AF_PACKET sender (in a worker thread and in the main thread), captured by tcpdump in `b`,
 * compared byte for byte with keepalived's frame and the pure builder, and accepted by
 * b's kernel, which overrides a stale neighbour entry with the new MAC.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { nsExec, requireRoot, waitFor } from '../../helpers/netns.ts';
import { buildUnsolicitedNaFrame } from '../../../src/vrrp/garp.ts';
import { readPcap } from './pcap.ts';
import { MAC_A, makePair, runFixture, startCapture } from './lab.ts';

const golden = Buffer.from(readFileSync(new URL('../../../../shared/vectors/vrrpv2_garp.frame.hex', import.meta.url), 'utf8').trim(), 'hex');
const OLD_MAC = '02:00:00:00:00:99';

for (const thread of ['worker', 'main'] as const) {
  test.serial(`gratuitous ARP and unsolicited NA from the ${thread} thread: keepalived's bytes, accepted by the peer's kernel`, async (t) => {
    if (!requireRoot(t)) return t.pass();
    const pair = await makePair();
    t.teardown(() => pair.lab.removeAll());
    const { a, b } = pair;
    // b holds stale entries for both VIPs pointing at another MAC; the frames must move them.
    nsExec(b, ['sysctl', '-q', '-w', 'net.ipv4.neigh.eth0.locktime=0']);
    nsExec(b, ['ip', 'neigh', 'replace', '10.211.0.100', 'lladdr', OLD_MAC, 'dev', 'eth0', 'nud', 'stale']);
    nsExec(b, ['ip', '-6', 'neigh', 'replace', '2001:db8::64', 'lladdr', OLD_MAC, 'dev', 'eth0', 'nud', 'stale']);
    const cap = await startCapture(pair, b, ['arp', 'or', 'icmp6']);
    const tx = runFixture(pair, a, 'garp-send', { thread, ifname: 'eth0', vips4: ['10.211.0.100'], vips6: ['2001:db8::64'], repeat: 5 });
    await waitFor('the sender to finish', () => tx.out.length > 0, 30_000);
    const done = tx.out[0]!;
    t.like(done, {
      event: 'done',
      arp: 5,
      na: 5,
      errors: { badVip: 'VIGIL_SOCK_ARG', v6AsArp: 'VIGIL_SOCK_ARG', afterClose: 'VIGIL_SOCK_SEND', noSuchIfindex: 'VIGIL_SOCK_OPEN', badMac: 'VIGIL_SOCK_ARG' },
    }, tx.stderr());
    t.log(`per sendArp/sendNa call (µs): ${JSON.stringify(done['perCallUs'])}`);

    const isArp = (f: Buffer): boolean => f.readUInt16BE(12) === 0x0806;
    const isOurNa = (f: Buffer): boolean => f.readUInt16BE(12) === 0x86dd && f[20] === 58 && f[54] === 136;
    await waitFor('5 ARPs and 5 NAs on the wire', () => {
      const frames = readPcap(cap.file).map((f) => f.data);
      return frames.filter(isArp).length >= 5 && frames.filter(isOurNa).length >= 5;
    }, 10_000);
    await cap.stop();
    const frames = readPcap(cap.file).map((f) => f.data);
    const arps = frames.filter(isArp);
    const nas = frames.filter(isOurNa);
    t.is(arps.length, 5);
    t.is(nas.length, 5);
    for (const f of arps) t.deepEqual(f, golden, 'byte-identical to keepalived 2.2.7’s gratuitous ARP');
    const na = buildUnsolicitedNaFrame(Buffer.from(MAC_A.replaceAll(':', ''), 'hex'), '2001:db8::64');
    for (const f of nas) t.deepEqual(f, na);

    const neigh4 = nsExec(b, ['ip', 'neigh', 'show', '10.211.0.100', 'dev', 'eth0']);
    const neigh6 = nsExec(b, ['ip', '-6', 'neigh', 'show', '2001:db8::64', 'dev', 'eth0']);
    t.regex(neigh4, new RegExp(`lladdr ${MAC_A}`), `ARP entry moved: ${neigh4}`);
    t.regex(neigh6, new RegExp(`lladdr ${MAC_A}`), `NDP entry moved (checksum, hop limit and override accepted): ${neigh6}`);
  });
}
