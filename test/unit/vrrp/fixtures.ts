/** Config model values for unit tests of src/vrrp/ (what the parser would produce). */
import type { SourceLoc, VrrpInstance, VrrpScript, VrrpSyncGroup } from '../../../src/config/model.ts';
import type { VrrpInstanceSpec } from '../../../src/ipc/messages.ts';

export const loc: SourceLoc = { file: 'keepalived.conf', line: 1, col: 1 };

export function instance(over: Partial<VrrpInstance> = {}): VrrpInstance {
  return {
    name: 'VI_1',
    loc,
    initialState: 'BACKUP',
    interface: 'eth0',
    virtualRouterId: 51,
    priority: 100,
    advertIntMs: 1000,
    version: 2,
    family: 4,
    virtualIpaddress: [{ address: '10.211.0.100', prefixLen: 24, family: 4, loc }],
    virtualIpaddressExcluded: [],
    virtualRoutes: [],
    nopreempt: false,
    preemptDelayMs: 0,
    unicastPeers: [],
    trackInterfaces: [],
    trackScripts: [],
    dontTrackPrimary: false,
    vmacXmitBase: false,
    garpMasterDelayMs: 5000,
    garpMasterRepeat: 5,
    garpMasterRefreshMs: 0,
    garpMasterRefreshRepeat: 1,
    accept: false,
    strictMode: false,
    ...over,
  };
}

export function script(name: string, over: Partial<VrrpScript> = {}): VrrpScript {
  return {
    name,
    script: { raw: '/bin/true', argv: ['/bin/true'], loc },
    intervalMs: 1000,
    timeoutMs: 1000,
    weight: 0,
    weightReverse: false,
    fall: 1,
    rise: 1,
    initFail: false,
    loc,
    ...over,
  };
}

export function syncGroup(name: string, members: string[], over: Partial<VrrpSyncGroup> = {}): VrrpSyncGroup {
  return { name, loc, members, trackScripts: [], trackInterfaces: [], ...over };
}

/** The interface an engine test's instances run on (eth0, 10.0.0.1). */
export const engineLink = { ifname: 'eth0', ifindex: 2, mac: '02:00:00:00:00:01', primaryAddress: '10.0.0.1' };

/** What the supervisor hands the VRRP engine for `inst`: on engineLink, multicast to 224.0.0.18. */
export function engineSpec(inst: VrrpInstance): VrrpInstanceSpec {
  return { instance: inst, link: engineLink, garpLink: engineLink, mcastGroup: '224.0.0.18' };
}
