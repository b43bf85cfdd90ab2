/** What the CLI hands the daemon. Parsed from keepalived-compatible flags in src/cli/. */
export interface DaemonOptions {
  /** -f/--use-file; default /etc/keepalived/keepalived.conf */
  readonly configFile: string;
  /** -i/--config-id; default: the short hostname */
  readonly configId: string;
  /** -P/--vrrp: run VRRP only; -C/--check: run checkers/LVS only. Both false: both run. */
  readonly vrrpOnly: boolean;
  readonly checkOnly: boolean;
  /** -p/--pid; default /run/keepalived.pid */
  readonly pidFile: string;
  /** --control-socket; default /run/vigil.sock */
  readonly controlSocket: string;
  /** --log-level (pino level); -D raises it to debug */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  readonly logFormat: 'json' | 'pretty';
  /** --metrics-listen HOST:PORT; off when undefined */
  readonly metricsListen?: string;
  /** -n/--dont-fork: vigil always stays in the foreground; kept for compatibility */
  readonly dontFork: boolean;
  /** -s/--namespace: the network namespace to run in (overrides global_defs net_namespace) */
  readonly namespace?: string;
}
