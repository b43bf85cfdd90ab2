/**
 * ipvsadm as the independent witness of what is in the kernel: its own netlink code
 * (libipvs) reads the table, and these parsers turn `ipvsadm -S -n` and
 * `ipvsadm -Ln --thresholds` into the same shapes our client returns, for comparison.
 */
import { execFileSync } from 'node:child_process';
import type { IpvsDest, IpvsService } from '../../src/netlink/ipvs/types.ts';

export function ipvsadm(args: readonly string[]): string {
  return execFileSync('ipvsadm', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface Rule {
  readonly service: IpvsService;
  readonly dests: IpvsDest[];
}

function splitHostPort(s: string): { address: string; port: number } {
  const m = /^\[(.+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) throw new Error(`ipvsadm: cannot split ${s}`);
  return { address: m[1]!, port: Number(m[2]) };
}

const PROTO: Record<string, 'TCP' | 'UDP' | 'SCTP'> = { '-t': 'TCP', '-u': 'UDP', '--sctp-service': 'SCTP' };

/** `ipvsadm -S -n` → services with their dests (thresholds come from `thresholds()`). */
export function saved(): Rule[] {
  const rules: Rule[] = [];
  const byId = new Map<string, Rule>();
  const svcId = (tok: string[]): { id: string; family: 4 | 6; ident: Partial<IpvsService> } => {
    const f = tok.indexOf('-f');
    if (f !== -1) {
      const family = tok.includes('-6') ? 6 : 4;
      return { id: `fwm ${tok[f + 1]} ${family}`, family, ident: { protocol: 'TCP', fwmark: Number(tok[f + 1]) } };
    }
    for (const flag of Object.keys(PROTO)) {
      const i = tok.indexOf(flag);
      if (i !== -1) {
        const hp = splitHostPort(tok[i + 1]!);
        const family = hp.address.includes(':') ? 6 : 4;
        return { id: `${flag} ${tok[i + 1]}`, family, ident: { protocol: PROTO[flag]!, address: hp.address, port: hp.port } };
      }
    }
    throw new Error(`ipvsadm: no service in ${tok.join(' ')}`);
  };
  const opt = (tok: string[], o: string): string | undefined => {
    const i = tok.indexOf(o);
    return i === -1 ? undefined : tok[i + 1];
  };
  for (const line of ipvsadm(['-S', '-n']).split('\n')) {
    const tok = line.trim().split(/\s+/).filter(Boolean);
    if (tok.length === 0) continue;
    const { id, family, ident } = svcId(tok);
    if (tok[0] === '-A') {
      const p = opt(tok, '-p');
      const flags = [...(opt(tok, '-b')?.split(',') ?? []), ...(tok.includes('-o') ? ['one-packet'] : [])].sort();
      const netmask = opt(tok, '-M') ?? (family === 6 ? '128' : '255.255.255.255');
      const service: IpvsService = {
        family,
        ...(ident as Pick<IpvsService, 'protocol'>),
        scheduler: opt(tok, '-s')!,
        ...(p !== undefined ? { persistent: { timeoutS: Number(p), netmask } } : {}),
        ...(flags.length > 0 ? { flags } : {}),
      };
      const rule = { service, dests: [] };
      rules.push(rule);
      byId.set(id, rule);
    } else if (tok[0] === '-a') {
      const rule = byId.get(id);
      if (!rule) throw new Error(`ipvsadm: dest before its service: ${line}`);
      const hp = splitHostPort(opt(tok, '-r')!);
      const forward = tok.includes('-m') ? 'NAT' : tok.includes('-g') ? 'DR' : tok.includes('-i') ? 'TUN' : 'UNKNOWN';
      rule.dests.push({ address: hp.address, family: hp.address.includes(':') ? 6 : 4, port: hp.port, forward: forward as IpvsDest['forward'], weight: Number(opt(tok, '-w')) });
    }
  }
  return rules;
}

/** `ipvsadm -Ln --thresholds`: `<service header>|<dest>` → [upper, lower] */
export function thresholds(): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  let header = '';
  for (const line of ipvsadm(['-Ln', '--thresholds']).split('\n')) {
    const svc = /^(TCP|UDP|SCTP|FWM)\s+(\S+)/.exec(line);
    if (svc) {
      header = `${svc[1]} ${svc[2]}`;
      continue;
    }
    const d = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)/.exec(line);
    if (d && header) out.set(`${header}|${d[1]}`, [Number(d[2]), Number(d[3])]);
  }
  return out;
}

/** The table as ipvsadm sees it, thresholds merged in, in canonical order. */
export function table(): Rule[] {
  const th = thresholds();
  return sortRules(
    saved().map((r) => {
      const s = r.service;
      const header = s.fwmark !== undefined ? `FWM ${s.fwmark}` : `${s.protocol} ${s.family === 6 ? `[${s.address}]` : s.address}:${s.port}`;
      return {
        service: s,
        dests: r.dests.map((d) => {
          const [u, l] = th.get(`${header}|${d.family === 6 ? `[${d.address}]` : d.address}:${d.port}`) ?? [0, 0];
          return { ...d, ...(u ? { upperThreshold: u } : {}), ...(l ? { lowerThreshold: l } : {}) };
        }),
      };
    }),
  );
}

const svcSortKey = (s: IpvsService): string => `${s.fwmark ?? ''}|${s.family}|${s.protocol}|${s.address ?? ''}|${s.port ?? ''}`;

export function sortRules(rules: readonly Rule[]): Rule[] {
  return [...rules]
    .map((r) => ({ service: r.service, dests: [...r.dests].sort((a, b) => `${a.address}|${a.port}`.localeCompare(`${b.address}|${b.port}`)) }))
    .sort((a, b) => svcSortKey(a.service).localeCompare(svcSortKey(b.service)));
}
