/**
 * The IPVS connection synchronisation daemons (ip_vs_sync.c) over the "IPVS" generic netlink
 * family: IPVS_CMD_NEW_DAEMON / DEL_DAEMON / GET_DAEMON with the IPVS_CMD_ATTR_DAEMON nest
 * (linux/ip_vs.h). A director that is MASTER runs the master daemon, which multicasts its
 * connection table; a BACKUP runs the backup daemon, which receives it, so that a failover
 * keeps established connections (keepalived's `lvs_sync_daemon`).
 *
 * Its own generic netlink channel, so that the connection-table client (client.ts) stays
 * as it is; encoding is pure and tested without a kernel.
 */
import { createGenlSocket, GenlChannel, resolveGenlFamily } from '../genl.ts';
import { IPVS_GENL_NAME } from './attrs.ts';
import { IpvsError, ipvsErrorFrom } from './errors.ts';
import { nlaBe16, nlaBytes, nlaNested, nlaString, nlaU16, nlaU32, parseAttrs } from './nlattr.ts';

const CMD = { NEW_DAEMON: 9, DEL_DAEMON: 10, GET_DAEMON: 11 } as const;
/** IPVS_CMD_ATTR_DAEMON */
const CMD_ATTR_DAEMON = 3;
/** enum IPVS_DAEMON_ATTR_* */
const D = { STATE: 1, MCAST_IFN: 2, SYNC_ID: 3, SYNC_MAXLEN: 4, MCAST_GROUP: 5, MCAST_GROUP6: 6, MCAST_PORT: 7, MCAST_TTL: 8 } as const;
/** IP_VS_STATE_* */
const STATE = { master: 1, backup: 2 } as const;

export interface SyncDaemon {
  readonly state: 'master' | 'backup';
  /** the interface the sync messages go out of / come in on */
  readonly ifname: string;
  /** 0..255; keepalived's `id`, default 0... the kernel's syncid */
  readonly syncId: number;
  /** bytes of a sync message; kernel default when absent */
  readonly maxLen?: number;
  /** multicast group (IPv4 or IPv6); kernel default 224.0.0.81 */
  readonly group?: string;
  readonly port?: number;
  readonly ttl?: number;
}

function ipv4(s: string): Buffer | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) return undefined;
  const b = Buffer.from(m.slice(1).map(Number));
  return b.every((x, i) => x <= 255 && String(x) === m[i + 1]) ? b : undefined;
}

/** The IPVS_CMD_ATTR_DAEMON nest for a start (`full`) or a stop (the state alone). Throws IpvsError VIGIL_IPVS_INVALID. */
export function daemonAttrs(d: SyncDaemon | { readonly state: 'master' | 'backup' }, full: boolean): Buffer {
  const object = `${d.state} sync daemon`;
  const attrs = [nlaU32(D.STATE, STATE[d.state])];
  if (full) {
    const s = d as SyncDaemon;
    if (s.ifname === '' || Buffer.byteLength(s.ifname) > 15) throw new IpvsError('VIGIL_IPVS_INVALID', object, `interface \`${s.ifname}\` is not a interface name`);
    if (!Number.isInteger(s.syncId) || s.syncId < 0 || s.syncId > 255) throw new IpvsError('VIGIL_IPVS_INVALID', object, `sync id ${s.syncId} is not in 0..255`);
    attrs.push(nlaString(D.MCAST_IFN, s.ifname), nlaU32(D.SYNC_ID, s.syncId));
    if (s.maxLen !== undefined) attrs.push(nlaU16(D.SYNC_MAXLEN, s.maxLen));
    if (s.group !== undefined) {
      const v4 = ipv4(s.group);
      if (v4) attrs.push(nlaBytes(D.MCAST_GROUP, v4));
      else if (s.group.includes(':')) attrs.push(nlaBytes(D.MCAST_GROUP6, ipv6Bytes(s.group, object)));
      else throw new IpvsError('VIGIL_IPVS_INVALID', object, `group ${s.group} is not an IP address`);
    }
    if (s.port !== undefined) attrs.push(nlaBe16(D.MCAST_PORT, s.port));
    if (s.ttl !== undefined) attrs.push(nlaBytes(D.MCAST_TTL, Buffer.from([s.ttl])));
  }
  return nlaNested(CMD_ATTR_DAEMON, attrs);
}

function ipv6Bytes(s: string, object: string): Buffer {
  const [head = '', tail] = s.split('::');
  const part = (x: string): number[] => (x === '' ? [] : x.split(':').map((h) => Number.parseInt(h, 16)));
  const a = part(head);
  const b = tail === undefined ? [] : part(tail);
  const words = tail === undefined ? a : [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  if (words.length !== 8 || words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffff)) throw new IpvsError('VIGIL_IPVS_INVALID', object, `group ${s} is not an IPv6 address`);
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, 2 * i));
  return out;
}

/** A GET_DAEMON reply's daemon, or undefined for a reply without one. */
export function decodeDaemon(data: Uint8Array): SyncDaemon | undefined {
  const top = parseAttrs(data);
  if (!top.ok) return undefined;
  const nest = top.value.get(CMD_ATTR_DAEMON);
  if (!nest) return undefined;
  const a = parseAttrs(nest);
  if (!a.ok) return undefined;
  const st = a.value.get(D.STATE)?.readUInt32LE(0);
  const ifn = a.value.get(D.MCAST_IFN);
  const id = a.value.get(D.SYNC_ID)?.readUInt32LE(0);
  if (st === undefined || ifn === undefined || id === undefined) return undefined;
  const nul = ifn.indexOf(0);
  return {
    state: st === STATE.master ? 'master' : 'backup',
    ifname: ifn.subarray(0, nul < 0 ? ifn.length : nul).toString(),
    syncId: id,
  };
}

export interface SyncDaemonControl {
  start(d: SyncDaemon): Promise<void>;
  /** resolves 'absent' when that daemon was not running */
  stop(state: 'master' | 'backup'): Promise<'stopped' | 'absent'>;
  list(): Promise<SyncDaemon[]>;
  close(): Promise<void>;
}

/** Opens the daemon control; rejects with VIGIL_IPVS_UNAVAILABLE when the kernel has no IPVS. */
export async function openSyncDaemons(timeoutMs = 5000): Promise<SyncDaemonControl> {
  const sock = createGenlSocket();
  const early = (): void => {};
  sock.socket.on('error', early);
  let channel: GenlChannel;
  try {
    const family = await resolveGenlFamily(sock, IPVS_GENL_NAME, { timeoutMs });
    channel = new GenlChannel(sock, family, { timeoutMs });
    sock.socket.off('error', early);
  } catch (err) {
    sock.socket.close();
    throw ipvsErrorFrom(err, 'ipvs sync daemon');
  }
  return {
    async start(d) {
      const payload = [daemonAttrs(d, true)];
      try {
        await channel.request(CMD.NEW_DAEMON, payload, `${d.state} sync daemon on ${d.ifname}`);
      } catch (err) {
        throw ipvsErrorFrom(err, `${d.state} sync daemon on ${d.ifname}`);
      }
    },
    async stop(state) {
      try {
        await channel.request(CMD.DEL_DAEMON, [daemonAttrs({ state }, false)], `${state} sync daemon`);
        return 'stopped';
      } catch (err) {
        const e = ipvsErrorFrom(err, `${state} sync daemon`);
        if (e.errno === 'ESRCH') return 'absent';
        throw e;
      }
    },
    async list() {
      let msgs;
      try {
        msgs = await channel.request(CMD.GET_DAEMON, [], 'ipvs sync daemons', { dump: true });
      } catch (err) {
        throw ipvsErrorFrom(err, 'ipvs sync daemons');
      }
      return msgs.flatMap((m) => {
        const d = decodeDaemon(m.data);
        return d === undefined ? [] : [d];
      });
    },
    close: () => channel.close(),
  };
}
