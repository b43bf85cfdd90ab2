import test from 'ava';
import { errnoName, kernelError, NetlinkError, wrapNetlinkError } from '../../../src/netlink/errors.ts';

test('the package string errors become typed errors, once', (t) => {
  const e = wrapNetlinkError(new Error('Request rejected: EEXIST'), 'add address', '10.0.0.1/24 dev eth0');
  t.true(e instanceof NetlinkError);
  t.is(e.code, 'VIGIL_NL_EEXIST');
  t.is(e.errno, 'EEXIST');
  t.is(e.message, 'add address 10.0.0.1/24 dev eth0: EEXIST (already exists)');
  t.is(wrapNetlinkError(e, 'other', 'thing'), e, 'an already wrapped error passes through unchanged');
  t.is(wrapNetlinkError(new Error('Request rejected: ENODEV'), 'op', 'o').code, 'VIGIL_NL_ENODEV');
  t.is(wrapNetlinkError(new Error('Request rejected: -95'), 'op', 'o').code, 'VIGIL_NL_EOPNOTSUPP');
  t.is(wrapNetlinkError(new Error('Request rejected: ENOTSUP'), 'op', 'o').code, 'VIGIL_NL_EOPNOTSUPP');
  t.is(wrapNetlinkError(new Error('Timeout has been reached'), 'op', 'o').code, 'VIGIL_NL_TIMEOUT');
  t.is(wrapNetlinkError(Object.assign(new Error('x'), { code: 'ENOBUFS' }), 'op', 'o').code, 'VIGIL_NL_SOCKET');
  t.is(wrapNetlinkError(new Error('Unexpected route message received'), 'op', 'o').code, 'VIGIL_NL_PROTOCOL');
  t.is(wrapNetlinkError('a string', 'op', 'o').code, 'VIGIL_NL_PROTOCOL');
});

test('kernel errnos (negative, as in NLMSG_ERROR) map to VIGIL_NL_<NAME>', (t) => {
  t.is(kernelError(-17, 'op', 'o').code, 'VIGIL_NL_EEXIST');
  t.is(kernelError(-19, 'op', 'o').code, 'VIGIL_NL_ENODEV');
  t.is(kernelError(-99, 'op', 'o').code, 'VIGIL_NL_EADDRNOTAVAIL');
  t.is(kernelError(-3, 'op', 'o').code, 'VIGIL_NL_ESRCH');
  t.is(kernelError(-1, 'add route', '10.0.0.0/8').message, 'add route 10.0.0.0/8: EPERM (operation not permitted (needs CAP_NET_ADMIN))');
  t.is(errnoName(22), 'EINVAL');
  t.is(errnoName(-4095), 'ERRNO_4095');
});
