#!/usr/bin/env node
/**
 * The `vigil` command. `-t` and `--dump-conf` only read the configuration (they never load
 * the daemon, the checkers or the control client: those are imported dynamically, on the
 * paths that need them). The daemon path loads nothing before it raises its priority, not
 * even the config reader (see `daemon` below). The exit status is set through
 * process.exitCode so pending output is flushed: 0 success, 1 configuration unusable or bad
 * usage (permanent, not retried).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { parseArgs, shortHostname, USAGE, type CliPlan } from './args.ts';

function readVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(fs.readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'vigil' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      /* try the next layout (sources vs dist/) */
    }
  }
  return 'unknown';
}

/**
 * `-t`: the file, then what keepalived's -t also asks the machine: the interfaces in this
 * network namespace (rtnetlink), and whether the scripts exist and may run.
 */
async function checkConfig(plan: Extract<CliPlan, { kind: 'check' }>): Promise<number> {
  const [host, { formatDiagnostic, hasErrors }, { loadConfigFull, sortDiagnostics }] = await Promise.all([
    import('./host-check.ts'),
    import('../config/diagnostics.ts'),
    import('../config/load.ts'),
  ]);
  let names: Set<string> | undefined;
  try {
    names = await host.listInterfaceNames();
  } catch {
    // No rtnetlink (a sandbox without it): the loader falls back to /sys/class/net.
  }
  const r = loadConfigFull(plan.configFile, names !== undefined ? { configId: plan.configId, interfaceExists: (n) => names.has(n) } : { configId: plan.configId });
  // As keepalived: script users as the blocks are read; script files unless it stopped at a
  // fatal parse error before checking them.
  const hostDiags = await host.checkConfigScripts(r.parsed, !host.stopsBeforeHostChecks(r.diagnostics), r.refusedInstances?.length ?? 0);
  const diagnostics = sortDiagnostics([...r.diagnostics, ...hostDiags], r.parsed.files);
  const lines = diagnostics.map(formatDiagnostic);
  if (lines.length > 0) process.stderr.write(lines.join('\n') + '\n');
  const ok = !hasErrors(diagnostics) && r.config !== undefined;
  if (plan.dump && ok) process.stdout.write(JSON.stringify(r.config, null, 2) + '\n');
  return ok ? 0 : 1;
}

export async function main(argv: readonly string[]): Promise<number> {
  const { plan, notices } = parseArgs(argv, { hostname: shortHostname(os.hostname()) });
  for (const n of notices) process.stderr.write(n + '\n');
  switch (plan.kind) {
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case 'version':
      process.stdout.write(`vigil ${readVersion()} (keepalived 2.2 configuration compatible)\n`);
      return 0;
    case 'error':
      process.stderr.write(`vigil: ${plan.message}\n${USAGE}`);
      return 1;
    case 'check':
      return checkConfig(plan);
    case 'genhash': {
      const { runGenhash } = await import('../check/genhash.ts');
      return runGenhash(plan.argv);
    }
    case 'control': {
      const { runControlCommand } = await import('../supervisor/control-client.ts');
      return runControlCommand(plan.command, plan.socketPath, { json: plan.json });
    }
    case 'daemon': {
      // From exec until the VRRP worker has its instances, this process is on the path to the
      // first advert: it runs at the VRRP threads' default realtime priority (threads it
      // creates start normal), so that a busy host cannot stretch the start-up past a peer's
      // master-down interval; runDaemon puts it back (test/system/vrrp/joint-start).
      // vigil.service starts it there already, for Node's own start before this line.
      const { normalScheduling, realtimeUntil, startupRealtimePriority } = await import('../io/thread-priority.ts');
      const rt = startupRealtimePriority();
      if (rt === undefined) normalScheduling();
      const normalPriority = rt === undefined ? () => undefined : realtimeUntil(rt);
      const { runDaemon } = await import('../supervisor/daemon.ts');
      const code = await runDaemon(plan.options, normalPriority);
      // The daemon has stopped everything it started; a handle some library left open must
      // not hold the exit (systemd would wait for it). Unref'd: a clean loop exits sooner.
      setTimeout(() => process.exit(code), 500).unref();
      return code;
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`vigil: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
