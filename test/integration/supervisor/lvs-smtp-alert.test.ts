/**
 * Per-server smtp_alert, as keepalived check_data.c resolves it: a real server mails its
 * up/down unless it says `smtp_alert no` (default yes when global_defs says nothing); a
 * virtual server mails its quorum changes only with `smtp_alert` (default no). Real checks
 * against loopback, real mail to an smtp-server; no IPVS needed (the host runs without it).
 */
import test from 'ava';
import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { startLvsHost } from './lvs-host-harness.ts';

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

test('smtp_alert per real server and per virtual server decides which transitions mail', async (t) => {
  const subjects: string[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, _session, cb) {
      let data = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (data += d));
      stream.on('end', () => {
        // headers may be folded (RFC 5322 §2.2.3)
        subjects.push(/^Subject: (.*)\r$/m.exec(data.replace(/\r\n[ \t]+/g, ' '))?.[1] ?? '?');
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => smtp.close(() => r())));
  const smtpPort = (smtp.server.address() as net.AddressInfo).port;
  const dead = await closedPort();
  const check = `TCP_CHECK {\n   connect_port ${dead}\n   connect_timeout 1\n   retry 0\n   delay_loop 60\n   warmup 0\n  }`;
  const text = `global_defs {
 router_id lb1
 notification_email {
  ops@example.com
 }
 notification_email_from vigil@example.com
 smtp_server 127.0.0.1 ${smtpPort}
}
virtual_server 10.0.0.1 80 {
 protocol TCP
 quorum 1
 smtp_alert
 real_server 127.0.0.2 80 {
  smtp_alert no
  ${check}
 }
 real_server 127.0.0.3 80 {
  ${check}
 }
}
virtual_server 10.0.0.2 80 {
 protocol TCP
 real_server 127.0.0.4 80 {
  ${check}
 }
}
`;
  await startLvsHost(t, text);
  const want = [
    '[lb1] Realserver [127.0.0.3]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN',
    '[lb1] Realserver [127.0.0.4]:tcp:80 of virtual server [10.0.0.2]:tcp:80 - DOWN',
    '[lb1] Virtualserver [10.0.0.1]:tcp:80 - DOWN',
  ];
  const end = Date.now() + 10_000;
  while (subjects.length < want.length && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300)); // and nothing more comes
  t.deepEqual([...subjects].sort(), want);
});
