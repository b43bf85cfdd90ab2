/** SMTP_CHECK against a real SMTP server (the smtp-server package) and scripted ones on loopback. */
import test, { type ExecutionContext } from 'ava';
import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { runAttempt } from '../../../src/check/registry.ts';
import { completeReply, type SmtpTask } from '../../../src/check/smtp.ts';
import { listen, rawServer } from './servers.ts';

async function smtpServer(t: ExecutionContext, o: { reject?: boolean } = {}): Promise<{ port: number; helos: string[] }> {
  const helos: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(_session, cb) {
      cb(o.reject ? Object.assign(new Error('too busy'), { responseCode: 421 }) : undefined);
    },
    onClose(session) {
      if (session.hostNameAppearsAs) helos.push(session.hostNameAppearsAs);
    },
  });
  const port = await listen(t, server.server);
  return { port, helos };
}

const task = (port: number, o: Partial<SmtpTask> = {}): SmtpTask => ({ kind: 'smtp', address: '127.0.0.1', port, connectTimeoutMs: 1000, heloName: 'foo.bar.com', ...o });

/** A TCP server that answers each line from the client with the next of `replies` (the first on connect). */
async function scripted(t: ExecutionContext, replies: string[]): Promise<{ port: number; got: string[] }> {
  const got: string[] = [];
  const port = await rawServer(t, (s) => {
    let i = 0;
    const next = (): void => {
      const r = replies[i++];
      if (r !== undefined) s.write(r);
    };
    next();
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        got.push(buf.slice(0, nl + 1));
        buf = buf.slice(nl + 1);
        next();
      }
    });
  });
  return { port, got };
}

test('a real SMTP server passes; it saw our helo_name', async (t) => {
  const srv = await smtpServer(t);
  t.like(await runAttempt(task(srv.port)), { ok: true });
  await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(srv.helos, ['foo.bar.com']);
});

test('a server that turns us away at the greeting fails with its code', async (t) => {
  const srv = await smtpServer(t, { reject: true });
  const r = await runAttempt(task(srv.port));
  t.like(r, { ok: false, reason: 'smtp 421' });
});

test('the dialogue keepalived holds: multi-line replies, HELO then QUIT; a wrong code at any step fails', async (t) => {
  const good = await scripted(t, ['220-mx.example ESMTP\r\n220 welcome\r\n', '250 hello\r\n', '221 bye\r\n']);
  t.like(await runAttempt(task(good.port)), { ok: true });
  t.deepEqual(good.got, ['HELO foo.bar.com\r\n', 'QUIT\r\n']);
  const badHelo = await scripted(t, ['220 hi\r\n', '501 no\r\n']);
  t.like(await runAttempt(task(badHelo.port)), { ok: false, reason: 'smtp 501' });
  const badQuit = await scripted(t, ['220 hi\r\n', '250 ok\r\n', '250 what\r\n']);
  t.like(await runAttempt(task(badQuit.port)), { ok: false, reason: 'smtp 250' });
  const notSmtp = await scripted(t, ['HTTP/1.1 400 Bad Request\r\n']);
  t.like(await runAttempt(task(notSmtp.port)), { ok: false, reason: 'bad-reply' });
  const hangsUp = await scripted(t, ['220 hi\r\n']);
  // answers nothing to HELO: times out after connect_timeout, re-armed after the greeting
  const r = await runAttempt(task(hangsUp.port, { connectTimeoutMs: 300 }));
  t.like(r, { ok: false, reason: 'timeout' });
  t.true(r.durationMs >= 290 && r.durationMs < 1500, `took ${r.durationMs} ms`);
});

test('a silent server times out on its greeting; a closed port is refused at once', async (t) => {
  const silent = await rawServer(t);
  t.like(await runAttempt(task(silent, { connectTimeoutMs: 300 })), { ok: false, reason: 'timeout' });
  const closed = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  t.like(await runAttempt(task(closed)), { ok: false, reason: 'connect-refused' });
});

test('completeReply waits for the last line of a multi-line reply', (t) => {
  t.is(completeReply('250-a\r\n'), undefined);
  t.deepEqual(completeReply('250-a\r\n250 b\r\n'), { code: 250, text: '250 b' });
  t.deepEqual(completeReply('220\r\n'), { code: 220, text: '220' });
  t.is(completeReply('hello\r\n'), 'bad');
});
