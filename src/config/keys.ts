/**
 * Names of virtual and real servers, shared by the checkers (which report results under
 * them) and the LVS layer (which looks results up by them): one definition, so the two can
 * never drift apart.
 */
import type { RealServer, VirtualServer } from './model.ts';

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** `10.0.0.1:80/TCP`, `[2001:db8::1]:443/TCP`, `fwmark:7/v4`, `group:web` */
export function virtualServerKey(vs: VirtualServer): string {
  const k = vs.key;
  switch (k.kind) {
    case 'ip':
      return `${hostPort(k.address, k.port)}/${vs.protocol}`;
    case 'fwmark':
      return `fwmark:${k.fwmark}/v${k.family}`;
    case 'group':
      return `group:${k.name}`;
  }
}

/** `<virtual server key>|<rs address>:<rs port>`, e.g. `10.0.0.1:80/TCP|192.168.1.2:8080` */
export function realServerKey(vs: VirtualServer, rs: RealServer): string {
  return `${virtualServerKey(vs)}|${hostPort(rs.address, rs.port)}`;
}
