/**
 * keepalived's tracking of what a master holds: a VIP, virtual route or virtual rule deleted
 * by someone else (`ip addr del`, `ip route del`, `ip rule del`) makes the master step down
 * and come back after the skew time, putting it back; with `no_track` the deletion is left
 * alone until the instance next becomes master. static_* ones deleted are put back at once,
 * unless no_track.
 */
import test from 'ava';
import { nsExec, requireRoot, waitFor } from '../../helpers/netns.ts';
import { globalDefs, hasAddress, instanceBlock, outputOf, routerLab, startVigil, vigilStatus, waitAddress, type Router } from '../../helpers/routers.ts';

const VIP = '10.93.0.100';
const QUIET = '10.93.0.101';

const routeThere = (ns: string, prefix: string): boolean => nsExec(ns, ['ip', 'route', 'show', prefix]).trim() !== '';
const ruleThere = (ns: string, pref: string): boolean => nsExec(ns, ['ip', 'rule', 'show', 'pref', pref]).trim() !== '';

test('a deleted VIP, route or rule makes the master step down and put it back; with no_track it stays deleted', async (t) => {
  if (!requireRoot(t)) return;
  const p = routerLab(t, 'vnt', 93);
  const extra = [
    '    virtual_routes {',
    '        10.94.0.0/16 dev eth0',
    '        10.95.0.0/16 dev eth0 no_track',
    '    }',
    '    virtual_rules {',
    '        from 10.93.0.0/24 table 100 preference 500',
    '        from 10.93.1.0/24 table 100 preference 501 no_track',
    '    }',
  ].join('\n');
  const conf = p.dir.file(
    'r1.conf',
    globalDefs('r1') + instanceBlock({ state: 'MASTER', priority: 150, vip: `${VIP}/24\n        ${QUIET}/24 no_track`, extra }),
  );
  const r: Router = startVigil(p.lab, p.r1, p.dir, 'r1', conf);
  const transitions = (): number => vigilStatus(r, p.dir).instances[0]!.transitions;
  const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));
  try {
    await waitAddress(p.r1, 'eth0', VIP, true, 20_000);
    await waitFor('routes and rules in', () => routeThere(p.r1, '10.95.0.0/16') && ruleThere(p.r1, '501'), 5000, 20);
    const start = transitions();

    // no_track: deleted and left deleted, the instance stays MASTER
    nsExec(p.r1, ['ip', 'addr', 'del', `${QUIET}/24`, 'dev', 'eth0']);
    nsExec(p.r1, ['ip', 'route', 'del', '10.95.0.0/16', 'dev', 'eth0', 'proto', 'keepalived']);
    nsExec(p.r1, ['ip', 'rule', 'del', 'pref', '501']);
    await sleep(2500);
    t.is(transitions(), start, 'a no_track deletion moved the instance');
    t.false(hasAddress(p.r1, 'eth0', QUIET));
    t.false(routeThere(p.r1, '10.95.0.0/16'));
    t.false(ruleThere(p.r1, '501'));

    // tracked: each deletion is a step down (MASTER -> BACKUP -> MASTER) that puts everything back
    const deletions: Array<[string, string[], () => boolean]> = [
      ['address', ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0'], () => hasAddress(p.r1, 'eth0', VIP)],
      ['route', ['ip', 'route', 'del', '10.94.0.0/16', 'dev', 'eth0', 'proto', 'keepalived'], () => routeThere(p.r1, '10.94.0.0/16')],
      ['rule', ['ip', 'rule', 'del', 'pref', '500'], () => ruleThere(p.r1, '500')],
    ];
    let expected = start;
    for (const [what, cmd, back] of deletions) {
      nsExec(p.r1, cmd);
      await waitFor(`${what} put back`, back, 5000, 20);
      expected += 2;
      await waitFor(`${what}: two transitions`, () => transitions() === expected, 5000, 100);
      t.is(vigilStatus(r, p.dir).instances[0]!.state, 'MASTER');
      // the take-over put back the no_track ones too (keepalived: "until the instance next transitions to master")
      t.true(hasAddress(p.r1, 'eth0', QUIET) && routeThere(p.r1, '10.95.0.0/16') && ruleThere(p.r1, '501'), what);
    }
    t.regex(outputOf(r), /"event":"vrrp.owned-deleted"/);
  } catch (e) {
    t.log(outputOf(r));
    throw e;
  }
});

test('a deleted static address, route or rule is put back at once; with no_track it stays deleted', async (t) => {
  if (!requireRoot(t)) return;
  const p = routerLab(t, 'vns', 93);
  const statics = [
    'static_ipaddress {',
    '    10.93.0.200/24 dev eth0',
    '    10.93.0.201/24 dev eth0 no_track',
    '}',
    'static_routes {',
    '    10.96.0.0/16 dev eth0',
    '    10.97.0.0/16 dev eth0 no_track',
    '}',
    'static_rules {',
    '    from 10.93.2.0/24 table 100 preference 600',
    '    from 10.93.3.0/24 table 100 preference 601 no_track',
    '}',
    '',
  ].join('\n');
  const conf = p.dir.file('r1.conf', globalDefs('r1') + statics + instanceBlock({ state: 'BACKUP', priority: 100, vip: `${VIP}/24` }));
  const r: Router = startVigil(p.lab, p.r1, p.dir, 'r1', conf);
  try {
    await waitFor('static state in', () => hasAddress(p.r1, 'eth0', '10.93.0.201') && routeThere(p.r1, '10.97.0.0/16') && ruleThere(p.r1, '601'), 20_000, 20);
    for (const cmd of [
      ['ip', 'addr', 'del', '10.93.0.200/24', 'dev', 'eth0'],
      ['ip', 'addr', 'del', '10.93.0.201/24', 'dev', 'eth0'],
      ['ip', 'route', 'del', '10.96.0.0/16', 'dev', 'eth0', 'proto', 'keepalived'],
      ['ip', 'route', 'del', '10.97.0.0/16', 'dev', 'eth0', 'proto', 'keepalived'],
      ['ip', 'rule', 'del', 'pref', '600'],
      ['ip', 'rule', 'del', 'pref', '601'],
    ]) nsExec(p.r1, cmd);
    await waitFor('tracked ones put back', () => hasAddress(p.r1, 'eth0', '10.93.0.200') && routeThere(p.r1, '10.96.0.0/16') && ruleThere(p.r1, '600'), 5000, 20);
    await new Promise((res) => setTimeout(res, 1000));
    t.false(hasAddress(p.r1, 'eth0', '10.93.0.201'));
    t.false(routeThere(p.r1, '10.97.0.0/16'));
    t.false(ruleThere(p.r1, '601'));
    t.regex(outputOf(r), /"event":"static.reinstated"/);
  } catch (e) {
    t.log(outputOf(r));
    throw e;
  }
});
