import test from 'ava';
import { computeDesired, desiredTimeouts, expandGroupEntry, stopTransitions, type CheckResult, type LvsState } from '../../../src/lvs/desired.ts';
import { realServerKey } from '../../../src/lvs/keys.ts';
import { config, ipKey, loc, rs, tcpCheck, vs } from './build.ts';

const results = (entries: Array<[string, CheckResult]>): Map<string, CheckResult> => new Map(entries);

test('all real servers up: one service with every real server at its weight', (t) => {
  const v = vs(ipKey('10.0.0.1', 80), [rs('192.168.1.2', 8080, { weight: 3 }), rs('192.168.1.3', 8080, { lbKind: 'DR', upperThreshold: 50, lowerThreshold: 5 })]);
  const r = computeDesired(config([v]), new Map());
  t.deepEqual(r.services, [
    {
      vsKey: '10.0.0.1:80/TCP',
      service: { family: 4, protocol: 'TCP', address: '10.0.0.1', port: 80, scheduler: 'wlc' },
      dests: [
        { address: '192.168.1.2', family: 4, port: 8080, forward: 'NAT', weight: 3 },
        { address: '192.168.1.3', family: 4, port: 8080, forward: 'DR', weight: 1, upperThreshold: 50, lowerThreshold: 5 },
      ],
    },
  ]);
  t.deepEqual(r.transitions, []);
  t.deepEqual(r.problems, []);
  const st = r.state.vs.get('10.0.0.1:80/TCP');
  t.is(st?.liveWeight, 4);
  t.true(st?.quorumUp);
});

test('a down real server leaves the pool, or stays at weight 0 with inhibit_on_failure', (t) => {
  const a = rs('192.168.1.2', 80);
  const b = rs('192.168.1.3', 80, { inhibitOnFailure: true });
  const c = rs('192.168.1.4', 80);
  const v = vs(ipKey('10.0.0.1', 80), [a, b, c]);
  const first = computeDesired(config([v]), new Map());
  const down = results([
    [realServerKey(v, a), { up: false }],
    [realServerKey(v, b), { up: false }],
  ]);
  const r = computeDesired(config([v]), down, first.state);
  t.deepEqual(
    r.services[0]?.dests.map((d) => [d.address, d.weight]),
    [
      ['192.168.1.3', 0],
      ['192.168.1.4', 1],
    ],
  );
  t.deepEqual(
    r.transitions.map((x) => [x.type, 'rsKey' in x ? x.rsKey : '']),
    [
      ['rs-down', '10.0.0.1:80/TCP|192.168.1.2:80'],
      ['rs-down', '10.0.0.1:80/TCP|192.168.1.3:80'],
    ],
  );
  // the same results again: no transition
  t.deepEqual(computeDesired(config([v]), down, r.state).transitions, []);
});

test('misc_dynamic weight replaces the configured one and counts towards quorum', (t) => {
  const a = rs('192.168.1.2', 80, { weight: 10 });
  const v = vs(ipKey('10.0.0.1', 80), [a]);
  const r = computeDesired(config([v]), results([[realServerKey(v, a), { up: true, weight: 4 }]]));
  t.is(r.services[0]?.dests[0]?.weight, 4);
  t.is(r.state.vs.get('10.0.0.1:80/TCP')?.liveWeight, 4);
});

test('alpha: real servers start down until their first success; without checkers always up', (t) => {
  const checked = rs('192.168.1.2', 80);
  const alphaChecker = rs('192.168.1.3', 80, { checkers: [tcpCheck({ alpha: true })] });
  const unchecked = rs('192.168.1.4', 80, { checkers: [] });
  const plain = vs(ipKey('10.0.0.1', 80), [checked, alphaChecker, unchecked]);
  const r = computeDesired(config([plain]), new Map());
  t.deepEqual(r.services[0]?.dests.map((d) => d.address), ['192.168.1.2', '192.168.1.4']);
  t.deepEqual(r.transitions, [], 'starting states are not transitions');

  const alphaVs = vs(ipKey('10.0.0.1', 80), [checked, unchecked], { alpha: true });
  const a0 = computeDesired(config([alphaVs]), new Map());
  t.deepEqual(a0.services[0]?.dests.map((d) => d.address), ['192.168.1.4']);
  const a1 = computeDesired(config([alphaVs]), results([[realServerKey(alphaVs, checked), { up: true }]]), a0.state);
  t.deepEqual(a1.services[0]?.dests.map((d) => d.address), ['192.168.1.2', '192.168.1.4']);
  t.deepEqual(a1.transitions.map((x) => x.type), ['rs-up'], 'first success under alpha is a transition (notify_up)');
  // a check result for a server without checkers does not take it down
  t.is(computeDesired(config([alphaVs]), results([[realServerKey(alphaVs, unchecked), { up: false }]])).services[0]?.dests.length, 1);
});

test('sorry server: serves alone while the quorum is lost, leaves when it is regained', (t) => {
  const a = rs('192.168.1.2', 80, { weight: 2 });
  const b = rs('192.168.1.3', 80, { weight: 2, inhibitOnFailure: true });
  const v = vs(ipKey('10.0.0.1', 80), [a, b], { quorum: 3, sorryServer: { address: '192.168.9.9', port: 8080 } });
  const s0 = computeDesired(config([v]), new Map());
  t.true(s0.state.vs.get('10.0.0.1:80/TCP')?.quorumUp);
  t.deepEqual(s0.services[0]?.dests.map((d) => [d.address, d.weight]), [
    ['192.168.1.2', 2],
    ['192.168.1.3', 2],
  ]);

  // a goes down: live weight 2 < quorum 3 → quorum lost, sorry in, b (up, inhibit) at 0
  const s1 = computeDesired(config([v]), results([[realServerKey(v, a), { up: false }]]), s0.state);
  t.false(s1.state.vs.get('10.0.0.1:80/TCP')?.quorumUp);
  t.true(s1.state.vs.get('10.0.0.1:80/TCP')?.sorryActive);
  t.deepEqual(s1.services[0]?.dests.map((d) => [d.address, d.port, d.weight]), [
    ['192.168.1.3', 80, 0],
    ['192.168.9.9', 8080, 1],
  ]);
  t.deepEqual(s1.transitions.map((x) => x.type), ['rs-down', 'quorum-down']);

  // a back: quorum regained, sorry out, both real servers in
  const s2 = computeDesired(config([v]), results([[realServerKey(v, a), { up: true }]]), s1.state);
  t.deepEqual(s2.services[0]?.dests.map((d) => [d.address, d.weight]), [
    ['192.168.1.2', 2],
    ['192.168.1.3', 2],
  ]);
  t.deepEqual(s2.transitions.map((x) => x.type), ['rs-up', 'quorum-up']);
});

test('sorry_server_inhibit keeps the sorry server at weight 0 while not needed; its lb_kind applies', (t) => {
  const a = rs('192.168.1.2', 80);
  const v = vs(ipKey('10.0.0.1', 80), [a], { sorryServer: { address: '192.168.9.9', port: 80, lbKind: 'DR' }, sorryServerInhibit: true });
  const r = computeDesired(config([v]), new Map());
  t.deepEqual(r.services[0]?.dests.map((d) => [d.address, d.weight, d.forward]), [
    ['192.168.1.2', 1, 'NAT'],
    ['192.168.9.9', 0, 'DR'],
  ]);
  const down = computeDesired(config([v]), results([[realServerKey(v, a), { up: false }]]), r.state);
  t.deepEqual(down.services[0]?.dests.map((d) => [d.address, d.weight]), [['192.168.9.9', 1]]);
});

test('starting with the quorum down: reported at start only when a sorry server exists (keepalived)', (t) => {
  const a = rs('192.168.1.2', 80, { checkers: [tcpCheck({ alpha: true })] });
  const plain = vs(ipKey('10.0.0.1', 80), [a]);
  t.deepEqual(computeDesired(config([plain]), new Map()).transitions, []);
  const sorry = vs(ipKey('10.0.0.1', 80), [a], { sorryServer: { address: '192.168.9.9', port: 80 } });
  const r = computeDesired(config([sorry]), new Map());
  t.deepEqual(r.transitions.map((x) => [x.type, 'init' in x ? x.init : undefined]), [['quorum-down', true]]);
  t.deepEqual(r.services[0]?.dests.map((d) => d.address), ['192.168.9.9']);
});

test('quorum hysteresis: lost below quorum − hysteresis, regained at quorum + hysteresis', (t) => {
  const servers = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => rs(`192.168.1.${i}`, 80));
  const v = vs(ipKey('10.0.0.1', 80), servers, { quorum: 5, hysteresis: 2 });
  const upTo = (n: number): Map<string, CheckResult> => new Map(servers.map((s, i) => [realServerKey(v, s), { up: i < n }]));
  const steps: Array<[number, boolean, string[]]> = [
    [8, true, []], // start: 8 ≥ 7 → up
    [4, true, []], // 4 ≥ 3 → stays up
    [3, true, []], // 3 is not < 3
    [2, false, ['quorum-down']], // 2 < 3 → lost
    [6, false, []], // 6 < 7 → still down
    [7, true, ['quorum-up']], // 7 ≥ 7 → regained
    [0, false, ['quorum-down']],
  ];
  let prev: LvsState | undefined;
  for (const [n, up, q] of steps) {
    const r = computeDesired(config([v]), upTo(n), prev);
    t.is(r.state.vs.get('10.0.0.1:80/TCP')?.quorumUp, up, `live ${n}`);
    t.deepEqual(r.transitions.filter((x) => x.type.startsWith('quorum')).map((x) => x.type), q, `live ${n}`);
    prev = r.state;
  }
  // at start, 6 < quorum + hysteresis → starts down (set_quorum_states)
  t.false(computeDesired(config([v]), upTo(6)).state.vs.get('10.0.0.1:80/TCP')?.quorumUp);
  // quorum lost also when the live weight is 0 even with quorum 0
  const z = vs(ipKey('10.0.0.1', 80), [servers[0]!], { quorum: 0 });
  const z0 = computeDesired(config([z]), new Map());
  const z1 = computeDesired(config([z]), new Map([[realServerKey(z, servers[0]!), { up: false }]]), z0.state);
  t.deepEqual(z1.transitions.map((x) => x.type), ['rs-down', 'quorum-down']);
});

test('virtual_server_group: every address of a range, every fwmark, same real servers', (t) => {
  const a = rs('192.168.1.2', 80, { inhibitOnFailure: true });
  const v = vs({ kind: 'group', name: 'web' }, [a], { lbAlgo: 'rr', persistenceTimeoutMs: 300_000, persistenceGranularity: '255.255.255.0' });
  const g = {
    name: 'web',
    loc,
    entries: [
      { kind: 'ip' as const, address: '10.0.0.1', family: 4 as const, port: 80, rangeEnd: '3', loc },
      { kind: 'ip' as const, address: '10.0.1.1', family: 4 as const, port: 443, loc },
      { kind: 'fwmark' as const, fwmark: 9, loc },
    ],
  };
  const r = computeDesired(config([v], [g]), new Map());
  t.deepEqual(
    r.services.map((s) => [s.service.address ?? `fwm ${s.service.fwmark}`, s.service.port, s.service.persistent, s.vsKey]),
    [
      ['10.0.0.1', 80, { timeoutS: 300, netmask: '255.255.255.0' }, 'group:web/TCP'],
      ['10.0.0.2', 80, { timeoutS: 300, netmask: '255.255.255.0' }, 'group:web/TCP'],
      ['10.0.0.3', 80, { timeoutS: 300, netmask: '255.255.255.0' }, 'group:web/TCP'],
      ['10.0.1.1', 443, { timeoutS: 300, netmask: '255.255.255.0' }, 'group:web/TCP'],
      ['fwm 9', undefined, { timeoutS: 300, netmask: '255.255.255.0' }, 'group:web/TCP'],
    ],
  );
  for (const s of r.services) t.deepEqual(s.dests, [{ address: '192.168.1.2', family: 4, port: 80, forward: 'NAT', weight: 1 }]);
  // the real server goes down: weight 0 everywhere (inhibit)
  const down = computeDesired(config([v], [g]), new Map([[realServerKey(v, a), { up: false }]]), r.state);
  for (const s of down.services) t.is(s.dests[0]?.weight, 0);
  // a UDP virtual server on the same group is a different set of services
  const u = vs({ kind: 'group', name: 'web' }, [a], { protocol: 'UDP' });
  t.is(computeDesired(config([v, u], [g]), new Map()).services.length, 9, '4 TCP + 4 UDP + the fwmark once');
});

test('group ranges: IPv4 last octet, IPv6 last hextet (hex), nonsense falls back to the start', (t) => {
  t.deepEqual(expandGroupEntry({ kind: 'ip', address: '10.0.0.254', family: 4, port: 80, rangeEnd: '255', loc }), ['10.0.0.254', '10.0.0.255']);
  t.deepEqual(expandGroupEntry({ kind: 'ip', address: '2001:db8::a', family: 6, port: 80, rangeEnd: 'c', loc }), ['2001:db8::a', '2001:db8::b', '2001:db8::c']);
  t.deepEqual(expandGroupEntry({ kind: 'ip', address: '10.0.0.5', family: 4, port: 80, rangeEnd: '2', loc }), ['10.0.0.5']);
});

test('fwmark and IPv6 virtual servers, scheduler flags and persistence in whole seconds', (t) => {
  const f = vs({ kind: 'fwmark', fwmark: 7, family: 6 }, [rs('2001:db8::2', 0)], { lbAlgo: 'sh', schedFlags: ['sh-port'], persistenceTimeoutMs: 1500 });
  const r = computeDesired(config([f]), new Map());
  t.deepEqual(r.services[0]?.service, { family: 6, protocol: 'TCP', fwmark: 7, scheduler: 'sh', persistent: { timeoutS: 2, netmask: '128' }, flags: ['sh-port'] });
  t.deepEqual(r.services[0]?.dests, [{ address: '2001:db8::2', family: 6, port: 0, forward: 'NAT', weight: 1 }]);
});

test('a virtual server that cannot be programmed is a problem; the others are still there', (t) => {
  const bad = vs(ipKey('10.0.0.1', 80), [rs('192.168.1.2', 80)], { lbAlgo: 'no such scheduler' });
  const good = vs(ipKey('10.0.0.2', 80), [rs('192.168.1.2', 80)]);
  const r = computeDesired(config([bad, good]), new Map());
  t.deepEqual(r.services.map((s) => s.vsKey), ['10.0.0.2:80/TCP']);
  t.is(r.problems.length, 1);
  t.is(r.problems[0]?.error.code, 'VIGIL_IPVS_INVALID');
  t.is(r.problems[0]?.vsKey, '10.0.0.1:80/TCP');
});

test('a virtual server written twice: the first one wins', (t) => {
  const one = vs(ipKey('10.0.0.1', 80), [rs('192.168.1.2', 80)], { lbAlgo: 'rr' });
  const two = vs(ipKey('10.0.0.1', 80), [rs('192.168.1.3', 80)], { lbAlgo: 'wrr' });
  const r = computeDesired(config([one, two]), new Map());
  t.is(r.services.length, 1);
  t.is(r.services[0]?.service.scheduler, 'rr');
});

test('stop: with omega every up real server goes down and quorum_down runs; without, nothing', (t) => {
  const a = rs('192.168.1.2', 80);
  const b = rs('192.168.1.3', 80);
  const withOmega = vs(ipKey('10.0.0.1', 80), [a, b], { omega: true });
  const without = vs(ipKey('10.0.0.2', 80), [a]);
  const cfg = config([withOmega, without]);
  const r = computeDesired(cfg, new Map([[realServerKey(withOmega, b), { up: false }]]));
  t.deepEqual(
    stopTransitions(cfg, r.state).map((x) => [x.type, x.vsKey, 'rsKey' in x ? x.rsKey : '']),
    [
      ['rs-down', '10.0.0.1:80/TCP', '10.0.0.1:80/TCP|192.168.1.2:80'],
      ['quorum-down', '10.0.0.1:80/TCP', ''],
    ],
  );
});

test('lvs_timeouts: ms in the model, whole seconds for IPVS, never rounded down to 0', (t) => {
  t.is(desiredTimeouts(undefined), undefined);
  t.is(desiredTimeouts({}), undefined);
  t.deepEqual(desiredTimeouts({ tcpMs: 7_200_000, tcpFinMs: 120_000, udpMs: 300_000 }), { tcpS: 7200, tcpFinS: 120, udpS: 300 });
  t.deepEqual(desiredTimeouts({ udpMs: 500 }), { udpS: 1 });
  t.deepEqual(desiredTimeouts({ tcpMs: 1500 }), { tcpS: 2 });
});
