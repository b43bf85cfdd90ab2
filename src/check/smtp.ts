/**
 * SMTP_CHECK: one attempt is one short SMTP dialogue (keepalived check_smtp.c):
 *   connect → `220` greeting → `HELO <helo_name>` → `250` → `QUIT` → `221`.
 * Any other code, a closed connection or connect_timeout passing while connecting or
 * waiting for a reply fails the attempt (keepalived re-arms connect_timeout for each read
 * and write; so does this). Replies may be multi-line (`250-…` lines up to `250 …`, RFC 5321
 * §4.2.1); the code of the last line counts.
 */
import net from 'node:net';
import { connectOptions, type Endpoint } from './endpoint.ts';
import { afterIo, errorMessage, fail, pass, socketReason, type AttemptResult } from './result.ts';

export interface SmtpTask extends Endpoint {
  readonly kind: 'smtp';
  /** default smtpchecker.keepalived.org, as keepalived */
  readonly heloName: string;
}

/** bytes: a reply longer than this is not an SMTP server talking (keepalived SMTP_BUFF_MAX is 512) */
const MAX_REPLY_BYTES = 4096;

/** The code of a complete reply in `buf`, or undefined while more lines are to come. */
export function completeReply(buf: string): { code: number; text: string } | 'bad' | undefined {
  let start = 0;
  for (;;) {
    const end = buf.indexOf('\n', start);
    if (end < 0) return undefined;
    const line = buf.slice(start, end).replace(/\r$/, '');
    if (!/^[2-5][0-9][0-9]([ -]|$)/.test(line)) return 'bad';
    if (line[3] !== '-') return { code: Number(line.slice(0, 3)), text: line };
    start = end + 1;
  }
}

const STEPS: ReadonlyArray<{ readonly want: number; readonly send?: (t: SmtpTask) => string; readonly what: string }> = [
  { want: 220, send: (t) => `HELO ${t.heloName}\r\n`, what: 'greeting' },
  { want: 250, send: () => 'QUIT\r\n', what: 'HELO' },
  { want: 221, what: 'QUIT' },
];

export function smtpAttempt(task: SmtpTask): Promise<AttemptResult> {
  const started = performance.now();
  return new Promise<AttemptResult>((resolve) => {
    let done = false;
    let socket: net.Socket | undefined;
    let cancel: () => void = () => undefined;
    const finish = (r: AttemptResult): void => {
      if (done) return;
      done = true;
      cancel();
      socket?.destroy();
      resolve(r);
    };
    const arm = (what: string): void => {
      cancel();
      cancel = afterIo(task.connectTimeoutMs, () =>
        finish(fail(started, what === 'connect' ? 'connect-timeout' : 'timeout', `no ${what} within ${task.connectTimeoutMs} ms`)),
      );
    };
    arm('connect');
    let step = 0;
    let buf = '';
    try {
      socket = net.connect(connectOptions(task));
    } catch (err) {
      finish(fail(started, 'bad-address', errorMessage(err)));
      return;
    }
    const s = socket;
    s.setEncoding('latin1');
    s.once('connect', () => arm(STEPS[0]!.what));
    s.on('error', (err) => finish(fail(started, socketReason(err), errorMessage(err))));
    s.on('end', () => finish(fail(started, 'closed', `server closed the connection before the ${STEPS[step]?.what ?? 'end'} reply`)));
    s.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REPLY_BYTES) return finish(fail(started, 'bad-reply', `reply longer than ${MAX_REPLY_BYTES} bytes`));
      for (;;) {
        const cur = STEPS[step];
        if (cur === undefined) return;
        const r = completeReply(buf);
        if (r === undefined) return;
        if (r === 'bad') return finish(fail(started, 'bad-reply', `${cur.what}: not an SMTP reply: ${JSON.stringify(buf.slice(0, 80))}`));
        if (r.code !== cur.want) return finish(fail(started, `smtp ${r.code}`, `${cur.what}: ${r.text.slice(0, 200)}`));
        buf = '';
        step++;
        const next = STEPS[step];
        if (next === undefined) return finish(pass(started));
        arm(next.what);
        s.write(cur.send!(task));
      }
    });
  });
}
