/**
 * An LvsHost as the daemon builds it (real checks through runAttempt, real notifier and
 * mailer), without IPVS: what it would program is what status() reports. Stopped by the
 * test's teardown.
 */
import type { ExecutionContext } from 'ava';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { runAttempt } from '../../../src/check/registry.ts';
import { parseConfigText } from '../../../src/config/load.ts';
import type { Config } from '../../../src/config/model.ts';
import { LvsHost } from '../../../src/supervisor/lvs-host.ts';
import { createMailer } from '../../../src/supervisor/mail.ts';
import { createMetrics } from '../../../src/supervisor/metrics.ts';
import { createNotifier, createScriptPreparer } from '../../../src/supervisor/notify.ts';

export async function startLvsHost(t: ExecutionContext, text: string): Promise<{ host: LvsHost; config: Config }> {
  const loaded = parseConfigText(text, 'lvs.conf', { configId: 'n1', interfaceExists: () => true });
  // lb_algo, lb_kind and protocol left to keepalived's defaults are warned (parser tests cover it)
  const defaulted = new Set(['default-scheduler', 'default-lb-kind', 'default-protocol']);
  t.deepEqual(
    loaded.diagnostics.filter((d) => !defaulted.has(d.code)).map((d) => d.message),
    [],
  );
  const config = loaded.config!;
  const log = pino({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() }));
  const mailer = createMailer(config.globalDefs, { log });
  const notifier = createNotifier({ globals: config.globalDefs, prepare: createScriptPreparer(config.globalDefs, log), log });
  const host = new LvsHost({
    log,
    notifier: () => notifier,
    mailer: () => mailer,
    metrics: createMetrics(),
    runCheck: runAttempt,
    resolveUser: () => undefined,
    openIpvs: () => Promise.reject(new Error('no IPVS in this test')),
  });
  t.teardown(async () => {
    await host.stop();
    await mailer.idle();
    mailer.close();
    notifier.close();
  });
  await host.start(config);
  return { host, config };
}
