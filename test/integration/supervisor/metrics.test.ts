import test from 'ava';
import { request } from 'undici';
import { createMetrics, MetricsListenError, parseListen, startMetricsServer } from '../../../src/supervisor/metrics.ts';

test('scraped over loopback: states, priorities, transitions, adverts, drops, checks, scripts, reloads', async (t) => {
  const m = createMetrics();
  const srv = await startMetricsServer('127.0.0.1:0', m.registry);
  t.teardown(() => srv.close());
  m.setState('VI_1', 'MASTER');
  m.vrrpPriority.set({ instance: 'VI_1' }, 150);
  m.vrrpEffectivePriority.set({ instance: 'VI_1' }, 140);
  m.vrrpTransitions.inc({ instance: 'VI_1', from: 'BACKUP', to: 'MASTER' });
  m.advertsSent.inc({ instance: 'VI_1' }, 7);
  m.advertsReceived.inc({ instance: 'VI_1' }, 3);
  m.droppedPackets.inc({ reason: 'ttl' });
  m.checks.inc({ checker: 'HTTP_GET', result: 'success' });
  m.realServerUp.set({ virtual_server: '[10.0.0.1]:tcp:80', real_server: '[10.0.0.2]:tcp:80' }, 1);
  m.scriptResults.inc({ script: 'chk_nginx', result: 'timeout' });
  m.reloads.inc({ result: 'refused' });

  const res = await request(`http://127.0.0.1:${srv.address.port}/metrics`);
  t.is(res.statusCode, 200);
  t.regex(String(res.headers['content-type']), /^text\/plain/);
  const body = await res.body.text();
  for (const line of [
    'vigil_vrrp_state{instance="VI_1"} 2',
    'vigil_vrrp_priority{instance="VI_1"} 150',
    'vigil_vrrp_effective_priority{instance="VI_1"} 140',
    'vigil_vrrp_transitions_total{instance="VI_1",from="BACKUP",to="MASTER"} 1',
    'vigil_vrrp_adverts_sent_total{instance="VI_1"} 7',
    'vigil_vrrp_adverts_received_total{instance="VI_1"} 3',
    'vigil_vrrp_dropped_packets_total{reason="ttl"} 1',
    'vigil_checks_total{checker="HTTP_GET",result="success"} 1',
    'vigil_real_server_up{virtual_server="[10.0.0.1]:tcp:80",real_server="[10.0.0.2]:tcp:80"} 1',
    'vigil_script_results_total{script="chk_nginx",result="timeout"} 1',
    'vigil_reloads_total{result="refused"} 1',
  ]) {
    t.true(body.split('\n').includes(line), line);
  }
  t.regex(body, /^vigil_process_cpu_user_seconds_total /m);

  m.removeInstance('VI_1');
  const after = await (await request(`http://127.0.0.1:${srv.address.port}/metrics`)).body.text();
  t.false(after.includes('vigil_vrrp_state{instance="VI_1"}'));

  const nf = await request(`http://127.0.0.1:${srv.address.port}/other`);
  t.is(nf.statusCode, 404);
  await nf.body.dump();
  const post = await request(`http://127.0.0.1:${srv.address.port}/metrics`, { method: 'POST' });
  t.is(post.statusCode, 405);
  await post.body.dump();
});

test('two registries never collide (a reload or a second test can create its own)', (t) => {
  t.notThrows(() => (createMetrics(), createMetrics()));
});

test('listen address forms', async (t) => {
  t.deepEqual(parseListen('127.0.0.1:9650'), { host: '127.0.0.1', port: 9650 });
  t.deepEqual(parseListen('[::1]:9650'), { host: '::1', port: 9650 });
  t.deepEqual(parseListen(':9650'), { host: undefined, port: 9650 });
  t.throws(() => parseListen('9650'), { instanceOf: MetricsListenError });
  t.throws(() => parseListen('h:70000'), { instanceOf: MetricsListenError });
  const m = createMetrics({ defaultMetrics: false });
  const srv = await startMetricsServer('[::1]:0', m.registry);
  t.teardown(() => srv.close());
  const res = await request(`http://[::1]:${srv.address.port}/metrics`);
  t.is(res.statusCode, 200);
  await res.body.dump();
});
