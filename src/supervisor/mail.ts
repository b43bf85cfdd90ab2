/**
 * SMTP alerts (keepalived core/smtp.c) sent with nodemailer.
 *
 * `alert()` returns at once: messages wait in a bounded queue and go out one at a time, so
 * a dead or hanging mail server delays nothing but the mail queue itself. Every step of
 * the SMTP conversation has smtp_connect_timeout as its deadline (connect, greeting, each
 * reply), and a whole send has a hard deadline on top; a full queue drops the new alert.
 * Each outcome is logged (`mail.sent`, `mail.failed`, `mail.dropped`) and counted.
 *
 * Like keepalived: plain SMTP (no STARTTLS, no auth), mail only when notification_email and
 * smtp_server are both set, `[router_id] …` subjects, and defaults of router_id = hostname,
 * helo = hostname, from = user@hostname (global_data.c init_global_data).
 */
import { hostname, userInfo } from 'node:os';
import type { GlobalDefs } from '../config/model.ts';
import { LogEvent, type Logger } from './logger.ts';

/** Alerts waiting beyond this many are dropped (and counted): a mail storm must not grow memory. */
export const DEFAULT_MAX_QUEUE = 100;

export type MailResult = 'sent' | 'failed' | 'dropped';

export interface MailerOptions {
  readonly log?: Logger;
  readonly maxQueue?: number;
  /** each outcome, for metrics (`vigil_smtp_alerts_total{result}`) */
  readonly onResult?: (result: MailResult) => void;
}

export interface MailStats {
  sent: number;
  failed: number;
  dropped: number;
}

export interface Mailer {
  /** false when notification_email or smtp_server is missing: alert() then does nothing */
  readonly enabled: boolean;
  /** Queues one message; never blocks, never throws. */
  alert(subject: string, body: string): void;
  readonly stats: Readonly<MailStats>;
  /** Resolves when the queue is empty and nothing is being sent (tests, shutdown). */
  idle(): Promise<void>;
  /** Drops what is still queued (counted as dropped); the message in flight runs out its deadline. */
  close(): void;
}

export interface AlertText {
  readonly subject: string;
  readonly body: string;
}

/** keepalived's router_id default: the host name. */
export function effectiveRouterId(g: GlobalDefs): string {
  return g.routerId ?? hostname();
}

export function createMailer(globals: GlobalDefs, opts: MailerOptions = {}): Mailer {
  const stats: MailStats = { sent: 0, failed: 0, dropped: 0 };
  const maxQueue = opts.maxQueue ?? DEFAULT_MAX_QUEUE;
  const log = opts.log;
  const server = globals.smtpServer;
  const to = [...globals.notificationEmail];
  const enabled = server !== undefined && to.length > 0;
  const queue: AlertText[] = [];
  let sending = false;
  let closed = false;
  let idleWaiters: (() => void)[] = [];

  const from = globals.notificationEmailFrom ?? `${safeUser()}@${hostname()}`;
  const timeoutMs = globals.smtpConnectTimeoutMs;
  /** ms: connect + greeting + HELO + MAIL + RCPT×n + DATA + QUIT, each bounded by timeoutMs */
  const hardDeadlineMs = timeoutMs * (6 + to.length);
  // nodemailer (~10 MB of heap, 50 ms to load) is loaded with the first alert, never by a
  // daemon that sends none.
  const makeTransport = async (smtp: NonNullable<typeof server>) => {
    const { default: nodemailer } = await import('nodemailer');
    return nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      // keepalived speaks plain SMTP to a local relay; opportunistic STARTTLS would fail
      // on the self-signed certificates such relays often have.
      ignoreTLS: true,
      name: globals.smtpHeloName ?? hostname(),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      dnsTimeout: timeoutMs,
    });
  };
  let transport: ReturnType<typeof makeTransport> | undefined;

  const result = (r: MailResult): void => {
    stats[r]++;
    try {
      opts.onResult?.(r);
    } catch {
      // a metrics callback must not stop the queue
    }
  };

  const settleIdle = (): void => {
    if (sending || queue.length > 0) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  };

  const pump = (): void => {
    if (sending || closed || !server) return settleIdle();
    const msg = queue.shift();
    if (msg === undefined) return settleIdle();
    sending = true;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${hardDeadlineMs} ms`), { code: 'ETIMEDOUT' })), hardDeadlineMs);
    });
    Promise.race([
      (transport ??= makeTransport(server)).then((t) => t.sendMail({ from, to, subject: msg.subject, text: msg.body, headers: { 'X-Mailer': 'vigil' } })),
      deadline,
    ]).then(
      () => {
        result('sent');
        log?.info({ event: LogEvent.mailSent, subject: msg.subject, ms: Math.round(performance.now() - started) }, 'SMTP alert sent');
      },
      (err: unknown) => {
        result('failed');
        const e = err as { code?: unknown; message?: unknown };
        log?.warn(
          { event: LogEvent.mailFailed, subject: msg.subject, code: typeof e.code === 'string' ? e.code : undefined, err: String(e.message ?? err), server: `${server?.host}:${server?.port}` },
          'SMTP alert failed',
        );
      },
    ).finally(() => {
      clearTimeout(timer);
      sending = false;
      pump();
    });
  };

  return {
    enabled,
    stats,
    alert(subject, body) {
      if (!enabled || closed) return;
      if (queue.length >= maxQueue) {
        result('dropped');
        log?.warn({ event: LogEvent.mailDropped, subject, queued: queue.length }, 'SMTP alert queue full; alert dropped');
        return;
      }
      queue.push({ subject: oneLine(subject), body });
      pump();
    },
    idle() {
      if (!sending && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    close() {
      closed = true;
      for (const m of queue.splice(0)) {
        result('dropped');
        log?.warn({ event: LogEvent.mailDropped, subject: m.subject }, 'SMTP alert dropped at shutdown');
      }
      settleIdle();
    },
  };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

// ---- keepalived's messages (vrrp_notify.c vrrp_smtp_notifier, smtp.c smtp_alert) ----------

export type VrrpAlertState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'DELETED';

const INSTANCE_TEXT: Record<VrrpAlertState, readonly [string, string]> = {
  MASTER: ['Entering MASTER state', '=> VRRP Instance is now owning VRRP VIPs <='],
  BACKUP: ['Entering BACKUP state', '=> VRRP Instance is no longer owning VRRP VIPs <='],
  FAULT: ['Entering FAULT state', '=> VRRP Instance is no longer owning VRRP VIPs <='],
  STOP: ['Stopping', '=> VRRP Instance stopping <='],
  DELETED: ['Deleted', '=> VRRP Deleted at reload <='],
};

const GROUP_TEXT: Record<Exclude<VrrpAlertState, 'DELETED'>, readonly [string, string]> = {
  MASTER: ['Entering MASTER state', '=> All VRRP group instances are now in MASTER state <='],
  BACKUP: ['Entering BACKUP state', '=> All VRRP group instances are now in BACKUP state <='],
  FAULT: ['Entering FAULT state', '=> All VRRP group instances are now in FAULT state <='],
  STOP: ['Stopping', '=> All VRRP group instances are now stopping <='],
};

/** `[lb1] VRRP Instance VI_1 - Entering MASTER state` */
export function vrrpInstanceAlert(routerId: string, instance: string, state: VrrpAlertState): AlertText {
  const [what, body] = INSTANCE_TEXT[state];
  return { subject: `[${routerId}] VRRP Instance ${instance} - ${what}`, body };
}

/** `[lb1] VRRP Group G1 - Entering MASTER state` */
export function vrrpGroupAlert(routerId: string, group: string, state: Exclude<VrrpAlertState, 'DELETED'>): AlertText {
  const [what, body] = GROUP_TEXT[state];
  return { subject: `[${routerId}] VRRP Group ${group} - ${what}`, body };
}

/** Checker types as keepalived words their alert bodies (check_tcp.c, check_http.c, check_misc.c, check_dns.c, check_udp.c). */
export type CheckerKind = 'TCP_CHECK' | 'HTTP_GET' | 'SSL_GET' | 'MISC_CHECK' | 'DNS_CHECK' | 'UDP_CHECK' | 'PING_CHECK' | 'SMTP_CHECK';

export function checkerAlertBody(kind: CheckerKind, up: boolean): string {
  switch (kind) {
    case 'TCP_CHECK':
      return up ? '=> TCP CHECK succeed on service <=' : '=> TCP CHECK failed on service <=';
    case 'HTTP_GET':
    case 'SSL_GET':
      return up ? '=> CHECK succeed on service <=' : '=> CHECK failed on service : HTTP/SSL request failed <=';
    case 'MISC_CHECK':
      // check_misc.c words a timeout `=> MISC CHECK timed out on service <=`: see miscAlertBody
      return up ? '=> MISC CHECK succeeded on service <=' : '=> MISC CHECK failed on service <=';
    case 'DNS_CHECK':
      return up ? '=> DNS_CHECK: succeed on service <=' : '=> DNS_CHECK: failed on service <=';
    case 'UDP_CHECK':
      return up ? '=> UDP CHECK succeed on service <=' : '=> UDP CHECK failed on service <=';
    case 'SMTP_CHECK':
      return up ? '=> CHECK succeed on service <=' : '=> CHECK failed on service <=';
    case 'PING_CHECK':
      return up ? '=> ICMP CHECK succeed on service <=' : '=> ICMP CHECK failed on service <=';
  }
}

/** MISC_CHECK's body with keepalived's three outcomes. */
export function miscAlertBody(outcome: 'succeeded' | 'failed' | 'timed out'): string {
  return `=> MISC CHECK ${outcome} on service <=`;
}

/**
 * `[lb1] Realserver [10.0.1.1]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - UP`
 * (SMTP_MSG_RS; `rs` and `vs` already in keepalived's FMT_RS / FMT_VS form).
 */
export function realServerAlert(routerId: string, rs: string, vs: string, up: boolean, body: string): AlertText {
  return { subject: `[${routerId}] Realserver ${rs} of virtual server ${vs} - ${up ? 'UP' : 'DOWN'}`, body };
}

/** A real server removed at reload or shutdown (SMTP_MSG_RS_SHUT). */
export function realServerRemovedAlert(routerId: string, rs: string, vs: string, shuttingDown: boolean): AlertText {
  return {
    subject: `[${routerId}] Realserver ${rs} of virtual server ${vs} - DOWN`,
    body: shuttingDown ? '=> Shutting down <=' : '=> Removing <=',
  };
}

/**
 * Quorum gained or lost (ipwrapper.c do_vs_notifies):
 * `=> Gained quorum 1+0=1 <= 2 <=` with quorum, hysteresis, threshold and the weight sum.
 */
export function virtualServerQuorumAlert(
  routerId: string,
  vs: string,
  q: { up: boolean; init: boolean; quorum: number; hysteresis: number; threshold: number; weightSum: number; stopping?: boolean },
): AlertText {
  const what = q.up ? (q.init ? 'Starting with quorum up' : 'Gained quorum') : q.init ? 'Starting with quorum down' : 'Lost quorum';
  const body = q.stopping ? '=> Shutting down <=' : `=> ${what} ${q.quorum}+${q.hysteresis}=${q.threshold} <= ${q.weightSum} <=`;
  return { subject: `[${routerId}] Virtualserver ${vs} - ${q.up ? 'UP' : 'DOWN'}`, body };
}
