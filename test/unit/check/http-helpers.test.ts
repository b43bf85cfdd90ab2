import test from 'ava';
import { defaultHostHeader, httpReason, statusMatches } from '../../../src/check/http.ts';
import { hexDump } from '../../../src/check/genhash.ts';
import { CheckError, socketReason } from '../../../src/check/result.ts';

test('statusMatches: 200-299 by default, else any of the ranges', (t) => {
  t.true(statusMatches(200, []));
  t.true(statusMatches(299, []));
  t.false(statusMatches(300, []));
  t.false(statusMatches(199, []));
  t.true(statusMatches(404, [{ from: 200, to: 200 }, { from: 400, to: 499 }]));
  t.false(statusMatches(200, [{ from: 301, to: 302 }]));
});

test('defaultHostHeader: ip:port, IPv6 in brackets (keepalived request_template_ipv6)', (t) => {
  t.is(defaultHostHeader('10.0.0.1', 8080), '10.0.0.1:8080');
  t.is(defaultHostHeader('2001:db8::1', 80), '[2001:db8::1]:80');
});

test('reasons are stable labels from error codes', (t) => {
  t.is(httpReason(new CheckError('VIGIL_CONNECT_TIMEOUT', 'x')), 'connect-timeout');
  t.is(httpReason(new CheckError('VIGIL_RESPONSE_TIMEOUT', 'x')), 'response-timeout');
  t.is(httpReason(new CheckError('VIGIL_READ_TIMEOUT', 'x')), 'read-timeout');
  t.is(httpReason(new CheckError('UND_ERR_SOCKET', 'other side closed')), 'reset');
  t.is(socketReason(Object.assign(new Error('x'), { code: 'ECONNRESET' })), 'reset');
  t.is(socketReason(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })), 'tls');
  t.is(socketReason(Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })), 'tls');
  t.is(socketReason(new Error('no code')), 'error');
});

test('hexDump: keepalived dump_buffer layout', (t) => {
  t.is(
    hexDump(Buffer.from('hello world\n')),
    '0000  68 65 6c 6c 6f 20 77 6f - 72 6c 64 0a               hello world.    \n',
  );
});
