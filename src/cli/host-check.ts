/**
 * The part of `-t` that asks the machine, not the file (keepalived's -t does the same after
 * parsing): do the scripts exist and may they run (lib/notify.c check_script_secure), is there
 * a user to run them as, and would keepalived call the result a SECURITY VIOLATION
 * (vrrp.c check_vrrp_script_security, check_data.c check_check_script_security).
 *
 * Interfaces are asked of the kernel over rtnetlink in this process's own network namespace
 * (listInterfaceNames), as the daemon asks: /sys/class/net shows the host's interfaces inside
 * a namespace made with `unshare -n`.
 *
 * Each finding is a warning at the line of the block it concerns, in keepalived's terms: what
 * keepalived disables is disabled by the daemon too (services.ts checks the same way at start).
 */
import { DiagnosticSink } from '../config/diagnostics.ts';
import type { Config, Diagnostic, ScriptCommand, SourceLoc } from '../config/model.ts';
import { openNetControl } from '../netlink/net-control.ts';
import { checkScript, defaultScriptUser, resolveUser, ScriptUserError, type ScriptUser } from '../supervisor/script-security.ts';

/**
 * Whether keepalived would stop before checking script files: a keyword missing its value
 * ("*** Configuration line … is missing a parameter", exit 2). Other errors, unbalanced
 * braces included, drop a block and keepalived carries on to its checks; so does `-t`.
 */
export function stopsBeforeHostChecks(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === 'error' && (d.code === 'missing-value' || d.code === 'internal'));
}

/** The names of the network interfaces in this process's namespace, from the kernel. */
export async function listInterfaceNames(): Promise<Set<string>> {
  const nc = await openNetControl();
  try {
    return new Set((await nc.listLinks()).map((l) => l.ifname));
  } finally {
    await nc.close();
  }
}

interface Script {
  readonly cmd: ScriptCommand;
  readonly loc: SourceLoc;
  /** set for a vrrp_script: keepalived disables it (and says so) when it cannot run */
  readonly trackName?: string;
  /** where keepalived resolves the script's user (a vrrp_script's `}`), if not at `loc` */
  readonly userLoc?: SourceLoc;
}

function scriptsOf(config: Config): Script[] {
  const out: Script[] = [];
  for (const s of config.vrrpScripts) out.push({ cmd: s.script, loc: s.loc, trackName: s.name, ...(s.endLoc !== undefined ? { userLoc: s.endLoc } : {}) });
  const notify = (o: { notifyMaster?: ScriptCommand; notifyBackup?: ScriptCommand; notifyFault?: ScriptCommand; notifyStop?: ScriptCommand; notify?: ScriptCommand }): void => {
    for (const c of [o.notifyMaster, o.notifyBackup, o.notifyFault, o.notifyStop, o.notify]) if (c !== undefined) out.push({ cmd: c, loc: c.loc });
  };
  for (const i of config.vrrpInstances) notify(i);
  for (const g of config.vrrpSyncGroups) notify(g);
  for (const vs of config.virtualServers) {
    for (const c of [vs.quorumUp, vs.quorumDown]) if (c !== undefined) out.push({ cmd: c, loc: c.loc });
    for (const rs of vs.realServers) {
      for (const c of [rs.notifyUp, rs.notifyDown]) if (c !== undefined) out.push({ cmd: c, loc: c.loc });
      for (const ch of rs.checkers) if (ch.type === 'MISC_CHECK') out.push({ cmd: ch.miscPath, loc: ch.miscPath.loc });
    }
  }
  return out;
}

/**
 * Script findings for `-t`, as warnings (keepalived carries on without the script). With
 * `loads` false (the config has errors) only the user check runs: keepalived resolves a
 * script's user as it reads the block, but checks the files only once the config loads.
 */
export async function checkConfigScripts(config: Config, loads = true, refusedInstances = 0): Promise<Diagnostic[]> {
  const sink = new DiagnosticSink();
  const g = config.globalDefs;
  const scripts = scriptsOf(config);
  if (scripts.length === 0) return sink.list;

  let fallback: ScriptUser | undefined;
  let noDefault: string | undefined;
  try {
    const d = await defaultScriptUser(g);
    fallback = d.user;
  } catch (e) {
    if (!(e instanceof ScriptUserError)) throw e;
    noDefault = e.message;
  }
  const users = new Map<string, ScriptUser | string>();
  const userFor = async (c: ScriptCommand): Promise<ScriptUser | string> => {
    if (c.user === undefined) return fallback ?? noDefault ?? 'no user to run scripts as';
    const key = `${c.user}:${c.group ?? ''}`;
    let u = users.get(key);
    if (u === undefined) {
      try {
        u = await resolveUser(c.user, c.group);
      } catch (e) {
        if (!(e instanceof ScriptUserError)) throw e;
        u = e.message;
      }
      users.set(key, u);
    }
    return u;
  };

  const removed = new Set<string>();
  let found: SourceLoc | undefined;
  // keepalived checks the VRRP scripts only when there is a VRRP instance to run them for
  // (check_vrrp_script_security returns at once otherwise); an instance it later drops for
  // its errors still counts (`refusedInstances`), as keepalived checks before dropping.
  const vrrpScripts = config.vrrpInstances.length + refusedInstances > 0;
  for (const s of scripts) {
    const u = await userFor(s.cmd);
    const what = s.trackName !== undefined ? `vrrp_script ${s.trackName}` : `script \`${s.cmd.raw}\``;
    if (typeof u === 'string') {
      // keepalived: "(Line N) Unable to set default user for vrrp script X - removing", N the
      // line of the block's `}`, where it resolves the user
      sink.warn(s.cmd.user === undefined ? (s.userLoc ?? s.loc) : s.loc, 'script-user', `${what}: ${u}; removed, as keepalived does`);
      if (s.trackName !== undefined) removed.add(s.trackName);
      continue;
    }
    const argv0 = s.cmd.argv[0];
    if (argv0 === undefined || !loads || (s.trackName !== undefined && !vrrpScripts)) continue;
    const c = checkScript(argv0, u, g.enableScriptSecurity);
    if (c.status !== 'not-found') found ??= s.loc;
    if (s.trackName === undefined) continue;
    // keepalived reports only track scripts it disables ("Disabling track script X since
    // not found/accessible" / "due to insecure"); notify scripts are dropped quietly.
    if (c.status === 'not-found' || c.status === 'not-executable' || c.status === 'refused') {
      sink.warn(s.loc, 'script-disabled', `${what}: ${c.message ?? c.status}, not tracked, as keepalived does`);
    }
  }
  if (removed.size > 0) {
    const owners = [...config.vrrpInstances.map((i) => ({ owner: i.name, refs: i.trackScripts })), ...config.vrrpSyncGroups.map((s) => ({ owner: `vrrp_sync_group ${s.name}`, refs: s.trackScripts }))];
    for (const { owner, refs } of owners) {
      for (const r of refs) if (removed.has(r.name)) sink.warn(r.loc, 'unknown-reference', `${owner}: track_script ${r.name} was removed (no user to run it as); ignored, as keepalived does`);
    }
  }
  if (found !== undefined && !g.enableScriptSecurity) {
    sink.warn(
      found,
      'script-security',
      'scripts are run but enable_script_security is not set in global_defs (keepalived: "SECURITY VIOLATION - scripts are being executed but script_security not enabled")',
    );
  }
  return sink.list;
}
