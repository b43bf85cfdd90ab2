/**
 * Where a network check connects from and to, and the one validation of it that every
 * network checker shares. A leaf module: checkers and the task types import it, it imports
 * nothing of vigil.
 */
import net from 'node:net';

/** connect_ip/connect_port/bindto/bind_port resolved against the real server. */
export interface Endpoint {
  /** connect_ip, else the real server's address */
  readonly address: string;
  /** connect_port, else the real server's port */
  readonly port: number;
  /** bindto: local source address */
  readonly bindTo?: string;
  /** bind_port: local source port */
  readonly bindPort?: number;
  /** ms: keepalived's connect_timeout; see each checker for what it covers */
  readonly connectTimeoutMs: number;
}

/**
 * Why an endpoint cannot be checked, or undefined. Addresses must be literal IPs (the config
 * holds nothing else; a name here would cost a resolver lookup per attempt), ports 1–65535.
 */
export function endpointProblem(e: Endpoint): string | undefined {
  if (net.isIP(e.address) === 0) return `address ${JSON.stringify(e.address)} is not an IP address`;
  if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) return `port ${e.port} is not in 1-65535`;
  if (e.bindTo !== undefined && net.isIP(e.bindTo) === 0) return `bindto ${JSON.stringify(e.bindTo)} is not an IP address`;
  if (e.bindPort !== undefined && (!Number.isInteger(e.bindPort) || e.bindPort < 1 || e.bindPort > 65535)) return `bind_port ${e.bindPort} is not in 1-65535`;
  if (!(e.connectTimeoutMs > 0)) return `connect_timeout ${e.connectTimeoutMs} ms is not positive`;
  return undefined;
}

/** node:net connect options for an endpoint: the destination, and bindto/bind_port as the source. */
export function connectOptions(e: Endpoint): { host: string; port: number; localAddress?: string; localPort?: number } {
  return {
    host: e.address,
    port: e.port,
    ...(e.bindTo !== undefined ? { localAddress: e.bindTo } : {}),
    ...(e.bindPort !== undefined ? { localPort: e.bindPort } : {}),
  };
}
