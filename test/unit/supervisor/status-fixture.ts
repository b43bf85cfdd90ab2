import type { VigilStatus } from '../../../src/supervisor/dumps.ts';

/** A status with one of everything, shared by the dump and control tests. */
export const sampleStatus: VigilStatus = {
  pid: 4242,
  routerId: 'lb1',
  configFile: '/etc/keepalived/keepalived.conf',
  startedAt: '2026-01-01T00:00:00.000Z',
  now: '2026-01-01T01:00:00.000Z',
  instances: [
    {
      name: 'VI_1', vrid: 51, family: 4, interface: 'eth0', state: 'MASTER', priority: 140, configuredPriority: 150,
      advertsSent: 3600, advertsReceived: 12, transitions: 2, becameMaster: 2, priorityZeroSent: 0, priorityZeroReceived: 1,
      dropped: { ttl: 3, 'auth-failure': 1, 'vrid-mismatch': 5 },
      vips: ['10.0.0.100/24 dev eth0'], syncGroup: 'G1', version: 2, advertIntMs: 1000, nopreempt: false,
      lastTransition: '2026-01-01T00:00:03.000Z',
    },
    {
      name: 'VI_6', vrid: 52, family: 6, interface: 'eth1', state: 'BACKUP', priority: 100, configuredPriority: 100,
      masterAddress: 'fe80::1', advertsSent: 0, advertsReceived: 3600, transitions: 1, becameMaster: 0,
      priorityZeroSent: 0, priorityZeroReceived: 0, dropped: {}, vips: ['2001:db8::100/64'], version: 3, advertIntMs: 500,
    },
  ],
  syncGroups: [{ name: 'G1', state: 'MASTER', members: ['VI_1'] }],
  virtualServers: [
    {
      name: '[10.0.0.100]:tcp:80', lbAlgo: 'wlc', lbKind: 'NAT', quorumUp: true,
      realServers: [
        { name: '[10.0.1.1]:tcp:80', weight: 1, up: true, checkers: ['HTTP_GET'] },
        { name: '[10.0.1.2]:tcp:80', weight: 2, up: false, checkers: ['TCP_CHECK'] },
      ],
    },
  ],
  reloads: { ok: 3, refused: 1, failed: 0 },
  counters: { mails_sent: 2 },
};
