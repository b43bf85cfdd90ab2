/**
 * TCP_CHECK: one attempt is one TCP connect within connect_timeout (keepalived check_tcp.c:
 * the connection is closed as soon as it is established).
 */
import net from 'node:net';
import { connectOptions, type Endpoint } from './endpoint.ts';
import { afterIo, errorMessage, fail, pass, socketReason, type AttemptResult } from './result.ts';

export interface TcpTask extends Endpoint {
  readonly kind: 'tcp';
}

export function tcpAttempt(task: TcpTask): Promise<AttemptResult> {
  const started = performance.now();
  return new Promise<AttemptResult>((resolve) => {
    let done = false;
    let socket: net.Socket;
    const finish = (r: AttemptResult): void => {
      if (done) return;
      done = true;
      cancel();
      socket.destroy();
      resolve(r);
    };
    const cancel = afterIo(task.connectTimeoutMs, () =>
      finish(fail(started, 'connect-timeout', `no connection within ${task.connectTimeoutMs} ms`)),
    );
    try {
      socket = net.connect(connectOptions(task));
    } catch (err) {
      // invalid address or port: a config error that reached us anyway
      cancel();
      done = true;
      resolve(fail(started, 'bad-address', errorMessage(err)));
      return;
    }
    socket.once('connect', () => finish(pass(started)));
    socket.once('error', (err) => finish(fail(started, socketReason(err), errorMessage(err))));
  });
}
