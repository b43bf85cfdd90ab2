/**
 * Tracking for VRRP instances: vrrp_script results (started through posix_spawn by the
 * ScriptTracker, with fall/rise), link state (track_interface, and the instance's own
 * interface), the numbers in track_file files (FileTracker, inotify) and the process
 * quorums of vrrp_track_process (ProcessTracker, process connector) become each
 * instance's effective priority and fault, sent to the VRRP worker.
 *
 * The verdict per instance is computed here with the pure TrackState; only changes are sent.
 */
import type { Config, TrackFile, TrackProcess } from '../config/model.ts';
import type { ScriptTracker, ScriptTransition } from '../check/vrrp-script.ts';
import { scriptSpec, type UserResolver } from '../check/targets.ts';
import type { NetControl, LinkInfo } from '../netlink/net-control.ts';
import { TrackState } from '../vrrp/track.ts';
import type { Logger } from './logger.ts';
import { FileTracker } from './track-files.ts';
import { ProcessTracker } from './track-processes.ts';

export interface TrackSink {
  setTrack(instance: string, priority: number, fault: boolean, reason: string): void;
}

export class Tracking {
  private states = new Map<string, TrackState>();
  private links = new Map<string, boolean>();
  private unwatch?: () => void;
  private started = false;

  constructor(
    private readonly tracker: ScriptTracker,
    private readonly net: NetControl,
    private readonly sink: TrackSink,
    private readonly log: Logger,
    private readonly resolveUser: UserResolver,
    private readonly files: FileTracker = new FileTracker(),
    private readonly procs: ProcessTracker = new ProcessTracker(),
  ) {
    tracker.on('transition', (ev) => this.onScript(ev));
    files.on('value', (name, value, path) => this.onFile(name, value, path));
    files.on('problem', (name, message) => this.log.warn({ event: 'track.file-problem', trackFile: name }, `track_file ${name}: ${message}`));
    procs.on('status', (name, up, count) => this.onProcess(name, up, count));
    procs.on('problem', (message) => this.log.warn({ event: 'track.process-problem' }, `track_process: ${message}`));
    procs.on('live', (source) => this.log.info({ event: 'track.process-live', source }, `track_process: process events from ${source === 'connector' ? 'the kernel' : '/proc polling'}`));
  }

  /** Reads link state, subscribes to link events, schedules the scripts, and sends every instance's verdict. */
  async start(config: Config): Promise<void> {
    for (const l of await this.net.listLinks()) this.links.set(l.ifname, linkUp(l));
    this.unwatch = this.net.watchLinks((l, kind) => this.onLink(l, kind));
    this.apply(config);
  }

  /** Reload: unchanged scripts keep their state (the tracker diffs by name and spec). */
  apply(config: Config): void {
    const used = new Set(config.vrrpInstances.flatMap((i) => i.trackScripts.map((t) => t.name)));
    for (const g of config.vrrpSyncGroups) for (const t of g.trackScripts) used.add(t.name);
    const scripts = config.vrrpScripts.filter((s) => used.has(s.name));
    this.tracker.setScripts(scripts.map((s) => scriptSpec(s, { resolveUser: this.resolveUser })));
    // keepalived reads (and init_file creates) only the files something tracks
    const usedFiles = new Set([...config.vrrpInstances, ...config.vrrpSyncGroups].flatMap((o) => (o.trackFiles ?? []).map((t) => t.name)));
    const files: TrackFile[] = (config.trackFiles ?? []).filter((f) => usedFiles.has(f.name));
    this.files.setFiles(files, this.started);
    this.started = true;
    const usedProcs = new Set([...config.vrrpInstances, ...config.vrrpSyncGroups].flatMap((o) => (o.trackProcesses ?? []).map((t) => t.name)));
    const procs: TrackProcess[] = (config.trackProcesses ?? []).filter((p) => usedProcs.has(p.name));
    this.procs.setProcesses(procs);
    this.states = new Map();
    for (const inst of config.vrrpInstances) {
      const group = config.vrrpSyncGroups.find((g) => g.name === inst.syncGroup);
      const st = TrackState.forInstance(inst, config.vrrpScripts, group, files, procs);
      // results carry over: scripts the tracker kept, and every link; files are read now
      for (const item of st.items) {
        if (item.kind === 'interface') {
          const up = this.links.get(item.name);
          if (up !== undefined) st.setInterface(item.name, up);
        } else if (item.kind === 'file') {
          const v = this.files.value(item.name);
          if (v !== undefined) st.setFile(item.name, v);
        } else if (item.kind === 'process') {
          const p = this.procs.status(item.name);
          if (p !== undefined) st.setProcess(item.name, p.up);
        } else {
          const s = this.tracker.states().find((x) => x.name === item.name);
          if (s && s.state !== 'init') st.setScript(item.name, s.state === 'ok');
        }
      }
      this.states.set(inst.name, st);
      this.send(inst.name, st);
    }
  }

  stop(): void {
    this.unwatch?.();
    this.tracker.stop();
    this.files.stop();
    this.procs.stop();
  }

  private send(instance: string, st: TrackState): void {
    const f = st.fault;
    this.sink.setTrack(instance, st.effectivePriority, f.fault, f.reason);
  }

  private onScript(ev: ScriptTransition): void {
    this.log.info(
      { event: 'script.result', script: ev.name, from: ev.from, to: ev.to, reason: ev.reason },
      `vrrp_script ${ev.name} ${ev.to === 'ok' ? 'succeeded' : 'failed'} (${ev.reason})`,
    );
    for (const [name, st] of this.states) {
      if (st.setScript(ev.name, ev.to === 'ok').length > 0) this.send(name, st);
    }
  }

  private onProcess(name: string, up: boolean, count: number): void {
    for (const [inst, st] of this.states) {
      if (st.setProcess(name, up).length > 0) this.send(inst, st);
    }
    // after the verdicts: the log line must not delay the VRRP worker hearing of it
    this.log.info({ event: 'track.process', trackProcess: name, up, count }, `track_process ${name} ${up ? 'has its quorum' : 'lost its quorum'} (${count} running)`);
  }

  private onFile(name: string, value: number, path: string): void {
    this.log.info({ event: 'track.file', trackFile: name, path, value }, `track_file ${name} now ${value}`);
    for (const [inst, st] of this.states) {
      if (st.setFile(name, value).length > 0) this.send(inst, st);
    }
  }

  private onLink(l: LinkInfo, kind: 'new' | 'del'): void {
    const up = kind === 'new' && linkUp(l);
    if (this.links.get(l.ifname) === up) return;
    this.links.set(l.ifname, up);
    this.log.info({ event: 'track.interface', interface: l.ifname, up }, `interface ${l.ifname} ${up ? 'up' : 'down'}`);
    for (const [name, st] of this.states) {
      if (st.setInterface(l.ifname, up).length > 0) this.send(name, st);
    }
  }
}

/** keepalived treats an interface as up when it is administratively up and running (carrier). */
function linkUp(l: LinkInfo): boolean {
  return l.up && l.running;
}
