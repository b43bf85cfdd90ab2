/**
 * From the config model to what the scheduler and the script tracker run: one CheckTarget
 * per real server, one ScriptSpec per vrrp_script. The one place where config keywords
 * become task fields.
 *
 * Not carried (Node.js cannot set them on a socket without a native addon): `bind_if`
 * (SO_BINDTODEVICE) and the checker's `fwmark` (SO_MARK). `unsupportedOptions` names them
 * so the caller can warn once.
 */
import type { Checker, Config, RealServer, ScriptCommand, VirtualServer, VrrpScript } from '../config/model.ts';
import { realServerKey, virtualServerKey } from '../config/keys.ts';
import type { CheckTask, ScriptTask } from './task.ts';
import type { CheckTarget, CheckerSpec } from './scheduler.ts';
import type { ScriptSpec } from './vrrp-script.ts';

/** uid/gid for a script; undefined: run as this process. */
export type UserResolver = (cmd: ScriptCommand) => { uid: number; gid: number } | undefined;

export interface TargetOptions {
  /** default: scripts run as this process */
  resolveUser?: UserResolver;
  /** ms between SIGTERM and SIGKILL for MISC_CHECK scripts */
  graceMs?: number;
}

export { realServerKey, virtualServerKey };

export function unsupportedOptions(c: Checker): string[] {
  const out: string[] = [];
  if (c.bindIf !== undefined) out.push('bind_if');
  if (c.fwmark !== undefined) out.push('fwmark');
  // raw-socket cannot bind (src/check/ping.ts)
  if (c.type === 'PING_CHECK' && c.bindTo !== undefined) out.push('bindto');
  return out;
}

export function checkTask(vs: VirtualServer, rs: RealServer, c: Checker, opts: TargetOptions = {}): CheckTask {
  const endpoint = {
    address: c.connectIp ?? rs.address,
    port: c.connectPort ?? rs.port,
    connectTimeoutMs: c.connectTimeoutMs,
    ...(c.bindTo !== undefined ? { bindTo: c.bindTo } : {}),
    ...(c.bindPort !== undefined ? { bindPort: c.bindPort } : {}),
  };
  switch (c.type) {
    case 'HTTP_GET':
    case 'SSL_GET': {
      const vhost = c.virtualhost ?? vs.virtualhost;
      return {
        kind: 'http',
        ...endpoint,
        ssl: c.type === 'SSL_GET',
        urls: c.urls.map((u) => ({
          path: u.path,
          statusCodes: u.statusCodes.map((r) => ({ from: r.from, to: r.to })),
          ...(u.digest !== undefined ? { digest: u.digest } : {}),
          ...(u.virtualhost !== undefined ? { virtualhost: u.virtualhost } : {}),
          ...(u.regex !== undefined ? { regex: { ...u.regex } } : {}),
        })),
        ...(vhost !== undefined ? { virtualhost: vhost } : {}),
        sni: c.enableSni,
        tlsVerify: c.tlsVerify,
      };
    }
    case 'TCP_CHECK':
      return { kind: 'tcp', ...endpoint };
    case 'DNS_CHECK':
      return { kind: 'dns', ...endpoint, queryType: c.queryType, name: c.name };
    case 'SMTP_CHECK':
      return { kind: 'smtp', ...endpoint, heloName: c.heloName };
    case 'PING_CHECK':
      return { kind: 'ping', address: endpoint.address, connectTimeoutMs: c.connectTimeoutMs };
    case 'UDP_CHECK':
      return {
        kind: 'udp',
        ...endpoint,
        ...(c.payload !== undefined ? { payload: Uint8Array.from(c.payload) } : {}),
        requireReply: c.requireReply,
        ...(c.reply !== undefined ? { reply: { data: Uint8Array.from(c.reply.data), ...(c.reply.mask !== undefined ? { mask: Uint8Array.from(c.reply.mask) } : {}) } } : {}),
        minReplyLength: c.minReplyLength,
        maxReplyLength: c.maxReplyLength,
      };
    case 'MISC_CHECK': {
      const ids = opts.resolveUser?.(c.miscPath);
      return {
        kind: 'misc',
        argv: [...c.miscPath.argv],
        timeoutMs: c.miscTimeoutMs,
        dynamic: c.miscDynamic,
        ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}),
        ...(ids !== undefined ? { uid: ids.uid, gid: ids.gid } : {}),
      };
    }
  }
}

export function checkerSpec(vs: VirtualServer, rs: RealServer, c: Checker, opts: TargetOptions = {}): CheckerSpec {
  return {
    task: checkTask(vs, rs, c, opts),
    delayLoopMs: c.delayLoopMs,
    retry: c.retry,
    delayBeforeRetryMs: c.delayBeforeRetryMs,
    ...(c.warmupMs !== undefined ? { warmupMs: c.warmupMs } : {}),
    alpha: c.alpha || vs.alpha,
  };
}

/** One target per real server of every virtual server, in config order. */
export function targetsFromConfig(config: Config, opts: TargetOptions = {}): CheckTarget[] {
  const out: CheckTarget[] = [];
  for (const vs of config.virtualServers) {
    for (const rs of vs.realServers) {
      out.push({ key: realServerKey(vs, rs), checkers: rs.checkers.map((c) => checkerSpec(vs, rs, c, opts)) });
    }
  }
  return out;
}

export function scriptSpec(s: VrrpScript, opts: { resolveUser?: UserResolver; graceMs?: number } = {}): ScriptSpec {
  const ids = opts.resolveUser?.(s.script);
  const task: ScriptTask = {
    kind: 'script',
    argv: [...s.script.argv],
    timeoutMs: s.timeoutMs,
    ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}),
    ...(ids !== undefined ? { uid: ids.uid, gid: ids.gid } : {}),
  };
  return { name: s.name, task, intervalMs: s.intervalMs, fall: s.fall, rise: s.rise, initFail: s.initFail };
}
