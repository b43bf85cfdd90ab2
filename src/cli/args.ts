/**
 * keepalived-compatible command line, parsed without side effects: argv in, a plan out.
 *
 * Flags follow keepalived(8) 2.2 (short `-f FILE`, `-fFILE`, long `--use-file FILE`,
 * `--use-file=FILE`). keepalived flags whose behaviour vigil does not have are accepted
 * with a notice that says what vigil does instead; they are never silently ignored.
 * Unknown flags are an error (keepalived exits on them too).
 */
import type { DaemonOptions } from '../supervisor/options.ts';

export const DEFAULT_CONFIG_FILE = '/etc/keepalived/keepalived.conf';
export const DEFAULT_PID_FILE = '/run/keepalived.pid';
export const DEFAULT_CONTROL_SOCKET = '/run/vigil.sock';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

export type CliPlan =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'error'; readonly message: string }
  /** `-t` and/or `--dump-conf`: read the configuration and report; never start anything */
  | { readonly kind: 'check'; readonly configFile: string; readonly configId: string; readonly test: boolean; readonly dump: boolean }
  | { readonly kind: 'genhash'; readonly argv: string[] }
  | { readonly kind: 'control'; readonly command: 'status' | 'reload' | 'drain' | 'undrain'; readonly socketPath: string; readonly json: boolean }
  | { readonly kind: 'daemon'; readonly options: DaemonOptions };

export interface ParsedCli {
  readonly plan: CliPlan;
  /** one line each, for stderr: flags accepted for compatibility whose behaviour differs */
  readonly notices: readonly string[];
}

interface FlagSpec {
  readonly short?: string;
  readonly long: string;
  /** 'required': takes a value; 'optional': `--long=VALUE` only (keepalived's optional args) */
  readonly value?: 'required' | 'optional';
  /** accepted for compatibility; the notice printed when used */
  readonly notice?: string;
}

const FLAGS: readonly FlagSpec[] = [
  { short: 'f', long: 'use-file', value: 'required' },
  { short: 't', long: 'config-test', value: 'optional' },
  { long: 'dump-conf' },
  { short: 'i', long: 'config-id', value: 'required' },
  { short: 'n', long: 'dont-fork' },
  { short: 'l', long: 'log-console' },
  { short: 'D', long: 'log-detail' },
  { short: 'P', long: 'vrrp' },
  { short: 'C', long: 'check' },
  { short: 'p', long: 'pid', value: 'required' },
  { short: 'v', long: 'version' },
  { short: 'h', long: 'help' },
  { long: 'log-level', value: 'required' },
  { long: 'log-format', value: 'required' },
  { long: 'control-socket', value: 'required' },
  { long: 'metrics-listen', value: 'required' },
  // keepalived flags vigil accepts but does not act on.
  { short: 'G', long: 'no-syslog', notice: 'vigil never logs to syslog; it writes JSON logs to stdout' },
  { short: 'S', long: 'log-facility', value: 'required', notice: 'vigil does not log to syslog, so there is no facility to set; ignored' },
  { short: 'g', long: 'log-file', value: 'optional', notice: 'vigil logs to stdout only (redirect it, or let systemd collect it); ignored' },
  { long: 'flush-log-file', notice: 'vigil logs to stdout only; ignored' },
  { short: 'r', long: 'vrrp_pid', value: 'required', notice: 'vigil runs as one process and writes only the -p/--pid file; ignored' },
  { short: 'c', long: 'checkers_pid', value: 'required', notice: 'vigil runs as one process and writes only the -p/--pid file; ignored' },
  { short: 'b', long: 'bfd_pid', value: 'required', notice: 'vigil has no BFD process; ignored' },
  { short: 'B', long: 'no_bfd', notice: 'vigil has no BFD support, so it never runs BFD; ignored' },
  { short: 'X', long: 'release-vips', notice: 'not implemented yet in vigil; ignored' },
  { short: 'V', long: 'dont-release-vrrp', notice: 'not implemented yet in vigil (VIPs are always released on stop); ignored' },
  { short: 'I', long: 'dont-release-ipvs', notice: 'not implemented yet in vigil (IPVS services are always removed on stop); ignored' },
  { short: 'R', long: 'dont-respawn', notice: 'vigil has no child processes to respawn (its workers are threads); ignored' },
  { short: 'a', long: 'address-monitoring', notice: 'not implemented yet in vigil; ignored' },
  { short: 'm', long: 'core-dump', notice: 'not implemented in vigil (use systemd LimitCORE=); ignored' },
  { short: 'M', long: 'core-dump-pattern', value: 'optional', notice: 'not implemented in vigil; ignored' },
  { short: 'x', long: 'snmp', notice: 'vigil has no SNMP agent (use --metrics-listen for Prometheus); ignored' },
  { short: 'A', long: 'snmp-agent-socket', value: 'required', notice: 'vigil has no SNMP agent; ignored' },
  { short: 'u', long: 'umask', value: 'required', notice: 'not implemented yet in vigil; ignored' },
  { short: 's', long: 'namespace', value: 'required' },
  { short: 'e', long: 'all-port-delete', notice: 'not implemented yet in vigil; ignored' },
  { long: 'signum', value: 'required', notice: 'not implemented in vigil; ignored' },
];

const BY_SHORT = new Map(FLAGS.filter((f) => f.short !== undefined).map((f) => [f.short as string, f]));
const BY_LONG = new Map(FLAGS.map((f) => [f.long, f]));

export const USAGE = `Usage: vigil [OPTION...]
       vigil genhash [OPTION...]      compute the digest of a URL for HTTP_GET/SSL_GET
       vigil status|reload [--json] [--control-socket PATH]
       vigil drain|undrain [--json] [--control-socket PATH]   withdraw / restore announce_route routes

vigil is a keepalived-compatible high-availability daemon (VRRP, health checks, IPVS).

  -f, --use-file=FILE          configuration file (default ${DEFAULT_CONFIG_FILE})
  -t, --config-test            check the configuration, print diagnostics, exit 0 if it can run, 1 if not
      --dump-conf              print the resolved configuration as JSON and exit
  -i, --config-id=ID           id matched by @ID conditional lines (default: short host name)
  -P, --vrrp                   run only VRRP
  -C, --check                  run only health checks and IPVS
  -p, --pid=FILE               pid file (default ${DEFAULT_PID_FILE})
  -n, --dont-fork              stay in the foreground (vigil always does)
  -l, --log-console            log to the console (vigil always does, on stdout)
  -D, --log-detail             detailed logging (same as --log-level debug)
      --log-level=LEVEL        fatal|error|warn|info|debug|trace (default info)
      --log-format=FORMAT      json|pretty (default json)
      --control-socket=PATH    control socket for vigil status/reload (default ${DEFAULT_CONTROL_SOCKET})
      --metrics-listen=HOST:PORT  serve Prometheus metrics
  -v, --version                print the version and exit
  -h, --help                   print this help and exit

Other keepalived options (-G -S -g -r -c -b -B -X -V -I -R -a -m -M -x -A -u -e) are
accepted for compatibility; vigil prints what it does instead when one is used.
`;

export interface ParseEnv {
  /** the short host name, default for --config-id */
  readonly hostname: string;
}

/** Parse `argv` (without node and the script path). */
export function parseArgs(argv: readonly string[], env: ParseEnv): ParsedCli {
  const notices: string[] = [];
  const first = argv[0];
  if (first === 'genhash') return { plan: { kind: 'genhash', argv: argv.slice(1) }, notices };
  if (first === 'status' || first === 'reload' || first === 'drain' || first === 'undrain') {
    let socketPath = DEFAULT_CONTROL_SOCKET;
    let json = false;
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i] as string;
      if (a === '--json') json = true;
      else if (a === '--control-socket' && argv[i + 1] !== undefined) socketPath = argv[++i] as string;
      else if (a.startsWith('--control-socket=')) socketPath = a.slice('--control-socket='.length);
      else return { plan: { kind: 'error', message: `${first}: unexpected argument \`${a}\`` }, notices };
    }
    return { plan: { kind: 'control', command: first, socketPath, json }, notices };
  }

  const seen = new Map<string, string | true>();
  const fail = (message: string): ParsedCli => ({ plan: { kind: 'error', message }, notices });
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    let spec: FlagSpec | undefined;
    let value: string | undefined;
    let shown = a;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      spec = BY_LONG.get(name);
      if (spec === undefined) return fail(`unknown option \`${a}\``);
      shown = `--${name}`;
      if (eq >= 0) {
        if (spec.value === undefined) return fail(`option \`--${name}\` takes no value`);
        value = a.slice(eq + 1);
      }
    } else if (a.startsWith('-') && a.length > 1) {
      // Bundled short flags: -nlD, -fFILE.
      for (let j = 1; j < a.length; j++) {
        const s = BY_SHORT.get(a[j] as string);
        if (s === undefined) return fail(`unknown option \`-${a[j]}\``);
        if (s.value === 'required') {
          const rest = a.slice(j + 1);
          let v = rest;
          if (rest === '') {
            const next = argv[i + 1];
            if (next === undefined) return fail(`option \`-${s.short}\` needs a value`);
            v = next;
            i++;
          }
          const r = record(s, v, `-${s.short}`, seen, notices);
          if (r !== undefined) return fail(r);
          break;
        }
        const r = record(s, undefined, `-${s.short}`, seen, notices);
        if (r !== undefined) return fail(r);
      }
      continue;
    } else {
      return fail(`unexpected argument \`${a}\``);
    }
    if (spec.value === 'required' && value === undefined) {
      const next = argv[i + 1];
      if (next === undefined) return fail(`option \`${shown}\` needs a value`);
      value = next;
      i++;
    }
    const r = record(spec, value, shown, seen, notices);
    if (r !== undefined) return fail(r);
  }

  if (seen.has('help')) return { plan: { kind: 'help' }, notices };
  if (seen.has('version')) return { plan: { kind: 'version' }, notices };
  const str = (k: string, d: string): string => {
    const v = seen.get(k);
    return typeof v === 'string' ? v : d;
  };
  const configFile = str('use-file', DEFAULT_CONFIG_FILE);
  const configId = str('config-id', env.hostname);
  if (configFile === '') return fail('option `-f` needs a file name');
  const test = seen.has('config-test');
  const dump = seen.has('dump-conf');
  if (test || dump) return { plan: { kind: 'check', configFile, configId, test, dump }, notices };

  let logLevel: LogLevel = seen.has('log-detail') ? 'debug' : 'info';
  const lv = seen.get('log-level');
  if (typeof lv === 'string') {
    const l = LOG_LEVELS.find((x) => x === lv.toLowerCase());
    if (l === undefined) return fail(`--log-level: \`${lv}\` is not one of ${LOG_LEVELS.join('|')}`);
    logLevel = l;
  }
  const lf = str('log-format', 'json').toLowerCase();
  if (lf !== 'json' && lf !== 'pretty') return fail(`--log-format: \`${lf}\` is not json|pretty`);
  const vrrpOnly = seen.has('vrrp');
  const checkOnly = seen.has('check');
  if (vrrpOnly && checkOnly) return fail('-P/--vrrp and -C/--check exclude each other (give neither to run both)');
  const metrics = seen.get('metrics-listen');
  if (typeof metrics === 'string' && !validHostPort(metrics)) return fail(`--metrics-listen: \`${metrics}\` is not HOST:PORT`);
  const options: DaemonOptions = {
    configFile,
    configId,
    vrrpOnly,
    checkOnly,
    pidFile: str('pid', DEFAULT_PID_FILE),
    controlSocket: str('control-socket', DEFAULT_CONTROL_SOCKET),
    logLevel,
    logFormat: lf,
    dontFork: seen.has('dont-fork'),
    ...(typeof metrics === 'string' ? { metricsListen: metrics } : {}),
    ...(typeof seen.get('namespace') === 'string' ? { namespace: seen.get('namespace') as string } : {}),
  };
  return { plan: { kind: 'daemon', options }, notices };
}

function record(spec: FlagSpec, value: string | undefined, shown: string, seen: Map<string, string | true>, notices: string[]): string | undefined {
  if (spec.value === 'required' && (value === undefined || value === '')) return `option \`${shown}\` needs a value`;
  seen.set(spec.long, value ?? true);
  if (spec.notice !== undefined) {
    const name = spec.short !== undefined ? `-${spec.short}/--${spec.long}` : `--${spec.long}`;
    const line = `vigil: ${name}: ${spec.notice}`;
    if (!notices.includes(line)) notices.push(line);
  }
  return undefined;
}

/** `HOST:PORT` or `[V6]:PORT`, port 0..65535 (0: pick one). */
export function validHostPort(s: string): boolean {
  let host: string;
  let port: string;
  if (s.startsWith('[')) {
    const e = s.indexOf(']:');
    if (e < 0) return false;
    host = s.slice(1, e);
    port = s.slice(e + 2);
  } else {
    const c = s.lastIndexOf(':');
    if (c < 0) return false;
    host = s.slice(0, c);
    port = s.slice(c + 1);
  }
  if (host === '' || !/^[0-9]{1,5}$/.test(port)) return false;
  return Number(port) <= 65535;
}

/** keepalived's default config id: the host name up to the first dot. */
export function shortHostname(full: string): string {
  const d = full.indexOf('.');
  return d < 0 ? full : full.slice(0, d);
}
