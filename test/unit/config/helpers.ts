/** Shared by the config unit tests: parse text with every interface existing. */
import { parseConfigTextFull, type FullLoadResult } from '../../../src/config/load.ts';
import type { Config, Diagnostic } from '../../../src/config/model.ts';

export function parse(text: string, opts: { configId?: string; interfaces?: readonly string[] } = {}): FullLoadResult {
  const ifs = opts.interfaces;
  return parseConfigTextFull(text, 't.conf', {
    configId: opts.configId ?? 'n1',
    interfaceExists: ifs === undefined ? () => true : (n) => ifs.includes(n),
  });
}

/** Parse text that must be free of diagnostics; returns the config. */
export function ok(text: string): Config {
  const r = parse(text);
  if (r.diagnostics.length > 0 || r.config === undefined) {
    throw new Error(`unexpected diagnostics:\n${r.diagnostics.map((d) => `${d.loc.line}:${d.loc.col} ${d.severity} ${d.code} ${d.message}`).join('\n')}`);
  }
  return r.config;
}

/** [code, severity, line, col] of each diagnostic, for compact assertions. */
export function diags(text: string, opts: { configId?: string; interfaces?: readonly string[] } = {}): Array<[string, string, number, number]> {
  return parse(text, opts).diagnostics.map((d: Diagnostic) => [d.code, d.severity, d.loc.line, d.loc.col]);
}

/** A minimal valid instance body with a VIP, for tests that vary one thing. */
export function instance(name: string, body: string, vip = '10.0.0.1/24'): string {
  return `vrrp_instance ${name} {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  ${vip}\n }\n${body}\n}\n`;
}
