/** HTTP_GET/SSL_GET `url { regex … }` against real HTTP(S) servers on loopback, from config text to verdict. */
import test from 'ava';
import { runAttempt } from '../../../src/check/registry.ts';
import { checkTask } from '../../../src/check/targets.ts';
import { parseConfigText } from '../../../src/config/load.ts';
import { httpServer, httpsServer, selfSigned } from './servers.ts';

/** The task the daemon would run for one HTTP_GET (or SSL_GET) with these url lines. */
function taskFor(port: number, urlBody: string, type = 'HTTP_GET'): Parameters<typeof runAttempt>[0] {
  const r = parseConfigText(`virtual_server 10.0.0.1 80 {\n real_server 127.0.0.1 ${port} {\n  ${type} {\n   connect_timeout 2\n   url {\n    path /\n${urlBody}\n   }\n  }\n }\n}\n`, 't.conf', {
    configId: 'n1',
    interfaceExists: () => true,
  });
  if (r.config === undefined) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  const vs = r.config.virtualServers[0]!;
  return checkTask(vs, vs.realServers[0]!, vs.realServers[0]!.checkers[0]!);
}

test('regex: the body must match; regex_no_match turns it round', async (t) => {
  let body = '<html><body>status: OK, db: up</body></html>';
  const port = await httpServer(t, (_req, res) => res.end(body));
  t.like(await runAttempt(taskFor(port, '    regex "db: (up|degraded)"')), { ok: true });
  t.like(await runAttempt(taskFor(port, '    regex "db: down"')), { ok: false, reason: 'regex mismatch' });
  t.like(await runAttempt(taskFor(port, '    regex "db: down"\n    regex_no_match')), { ok: true });
  body = 'status: OK, db: down';
  t.like(await runAttempt(taskFor(port, '    regex "db: down"\n    regex_no_match')), { ok: false, reason: 'regex matched' });
  // the status still counts first
  t.like(await runAttempt(taskFor(port, '    status_code 404\n    regex "db"')), { ok: false, reason: 'status 200' });
});

test('regex_options caseless, multiline, dotall, firstline; offsets in bytes', async (t) => {
  const port = await httpServer(t, (_req, res) => res.end('line one\nSTATUS=ready\n0123456789'));
  t.like(await runAttempt(taskFor(port, '    regex "status=ready"')), { ok: false });
  t.like(await runAttempt(taskFor(port, '    regex "status=ready"\n    regex_options caseless')), { ok: true });
  t.like(await runAttempt(taskFor(port, '    regex "^STATUS"')), { ok: false });
  t.like(await runAttempt(taskFor(port, '    regex "^STATUS"\n    regex_options multiline')), { ok: true });
  t.like(await runAttempt(taskFor(port, '    regex "one.STATUS"')), { ok: false });
  t.like(await runAttempt(taskFor(port, '    regex "one.STATUS"\n    regex_options dotall')), { ok: true });
  t.like(await runAttempt(taskFor(port, '    regex "STATUS"\n    regex_options firstline')), { ok: false });
  // "0123456789" starts at byte 22: a match may start at regex_max_offset, not after it
  t.like(await runAttempt(taskFor(port, '    regex "0123"\n    regex_max_offset 22')), { ok: true });
  t.like(await runAttempt(taskFor(port, '    regex "0123"\n    regex_max_offset 21')), { ok: false });
  t.like(await runAttempt(taskFor(port, '    regex "line"\n    regex_min_offset 1')), { ok: false });
  t.like(await runAttempt(taskFor(port, '    regex "ine"\n    regex_min_offset 1')), { ok: true });
});

test('bytes that are not UTF-8 are matched as bytes; with regex_options utf the body is UTF-8', async (t) => {
  const port = await httpServer(t, (_req, res) => res.end(Buffer.from([0x6f, 0x6b, 0xff, 0xc3, 0xa9])));
  t.like(await runAttempt(taskFor(port, '    regex "ok\\xff"')), { ok: true });
  t.like(await runAttempt(taskFor(port, '    regex "é$"\n    regex_options utf')), { ok: true });
});

test('SSL_GET: the decrypted body is what is matched', async (t) => {
  const cert = await selfSigned(t, 'rs.example');
  const port = await httpsServer(t, cert, (_req, res) => res.end('secure and healthy'));
  t.like(await runAttempt(taskFor(port, '    regex "healthy$"', 'SSL_GET')), { ok: true });
  t.like(await runAttempt(taskFor(port, '    regex "sick"', 'SSL_GET')), { ok: false, reason: 'regex mismatch' });
});
