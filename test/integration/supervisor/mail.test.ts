import test from 'ava';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import type { GlobalDefs } from '../../../src/config/model.ts';
import { createMailer, vrrpInstanceAlert } from '../../../src/supervisor/mail.ts';

function globals(over: Partial<GlobalDefs>): GlobalDefs {
  return {
    notificationEmail: [],
    smtpConnectTimeoutMs: 30_000,
    vrrpVersion: 2,
    vrrpMcastGroup4: '224.0.0.18',
    vrrpMcastGroup6: 'ff02::12',
    vrrpGarpMasterDelayMs: 5000,
    vrrpGarpMasterRepeat: 5,
    vrrpGarpMasterRefreshMs: 0,
    vrrpGarpMasterRefreshRepeat: 1,
    vrrpGarpIntervalMs: 0,
    vrrpGnaIntervalMs: 0,
    vrrpStrict: false,
    vrrpSkipCheckAdvAddr: false,
    enableScriptSecurity: false,
    ...over,
  };
}

function logSink(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({}, stream), lines };
}

interface Received {
  from: string;
  to: string[];
  helo: string;
  data: string;
}

async function startSmtp(): Promise<{ port: number; mails: Received[]; next(): Promise<Received>; close(): Promise<void> }> {
  const mails: Received[] = [];
  const waiters: ((m: Received) => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    onData(stream, session, cb) {
      let data = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (data += d));
      stream.on('end', () => {
        const m: Received = {
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          helo: session.hostNameAppearsAs,
          data,
        };
        mails.push(m);
        waiters.shift()?.(m);
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    mails,
    next: () => (mails.length > 0 ? Promise.resolve(mails.shift() as Received) : new Promise((r) => waiters.push(r))),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

test('a transition alert reaches a real SMTP server: from, every recipient, helo, subject, body', async (t) => {
  const smtp = await startSmtp();
  t.teardown(() => smtp.close());
  const { log, lines } = logSink();
  const results: string[] = [];
  const mailer = createMailer(
    globals({
      routerId: 'lb1',
      notificationEmail: ['ops@example.com', 'oncall@example.com'],
      notificationEmailFrom: 'vigil@lb1.example.com',
      smtpServer: { host: '127.0.0.1', port: smtp.port },
      smtpHeloName: 'lb1.example.com',
      smtpConnectTimeoutMs: 5000,
    }),
    { log, onResult: (r) => results.push(r) },
  );
  t.true(mailer.enabled);
  const a = vrrpInstanceAlert('lb1', 'VI_1', 'MASTER');
  mailer.alert(a.subject, a.body);
  const m = await smtp.next();
  await mailer.idle();
  t.is(m.from, 'vigil@lb1.example.com');
  t.deepEqual(m.to, ['ops@example.com', 'oncall@example.com']);
  t.is(m.helo, 'lb1.example.com');
  t.regex(m.data, /^Subject: \[lb1\] VRRP Instance VI_1 - Entering MASTER state\r$/m);
  t.regex(m.data, /^From: vigil@lb1\.example\.com\r$/m);
  t.regex(m.data, /^To: ops@example\.com, oncall@example\.com\r$/m);
  t.regex(m.data, /=> VRRP Instance is now owning VRRP VIPs <=/);
  t.deepEqual(mailer.stats, { sent: 1, failed: 0, dropped: 0 });
  t.deepEqual(results, ['sent']);
  t.true(lines.some((l) => l['event'] === 'mail.sent'));
});

test('a dead server (closed port): failure logged and counted, alert() never waits', async (t) => {
  const probe = createNetServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  const { log, lines } = logSink();
  const mailer = createMailer(
    globals({ notificationEmail: ['ops@example.com'], smtpServer: { host: '127.0.0.1', port }, smtpConnectTimeoutMs: 2000 }),
    { log },
  );
  mailer.alert('s', 'b');
  t.deepEqual(mailer.stats, { sent: 0, failed: 0, dropped: 0 }, 'alert() returned before any I/O');
  await mailer.idle();
  t.deepEqual(mailer.stats, { sent: 0, failed: 1, dropped: 0 });
  const f = lines.find((l) => l['event'] === 'mail.failed');
  t.is(f?.['code'], 'ESOCKET');
  t.regex(String(f?.['err']), /ECONNREFUSED/);
});

test('a hanging server (accepts, never greets): each alert fails at the timeout; a full queue drops and counts', async (t) => {
  const sockets = new Set<Socket>();
  const hang: Server = createNetServer((s) => (sockets.add(s), s.on('error', () => {})));
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    hang.close();
  });
  const port = (hang.address() as { port: number }).port;
  const { log, lines } = logSink();
  const mailer = createMailer(
    globals({ notificationEmail: ['ops@example.com'], smtpServer: { host: '127.0.0.1', port }, smtpConnectTimeoutMs: 400 }),
    { log, maxQueue: 2 },
  );
  for (let i = 0; i < 5; i++) mailer.alert(`s${i}`, 'b');
  // one in flight, two queued, two dropped at once
  t.is(mailer.stats.dropped, 2);
  // the event loop is free while the server hangs
  let ticks = 0;
  const iv = setInterval(() => ticks++, 10);
  await mailer.idle();
  clearInterval(iv);
  t.true(ticks > 5);
  t.deepEqual(mailer.stats, { sent: 0, failed: 3, dropped: 2 });
  const failed = lines.filter((l) => l['event'] === 'mail.failed');
  t.is(failed.length, 3);
  t.is(failed[0]?.['code'], 'ETIMEDOUT');
  // shutdown: what waits is dropped and counted, the one in flight runs out its deadline
  for (let i = 0; i < 3; i++) mailer.alert(`late${i}`, 'b');
  mailer.close();
  mailer.alert('after close', 'b');
  await mailer.idle();
  t.deepEqual(mailer.stats, { sent: 0, failed: 4, dropped: 4 });
});

test('no smtp_server or no recipients: disabled, alert() does nothing', async (t) => {
  const m1 = createMailer(globals({ notificationEmail: ['a@b'] }));
  t.false(m1.enabled);
  m1.alert('s', 'b');
  await m1.idle();
  t.deepEqual(m1.stats, { sent: 0, failed: 0, dropped: 0 });
  t.false(createMailer(globals({ smtpServer: { host: '127.0.0.1', port: 25 } })).enabled);
});
