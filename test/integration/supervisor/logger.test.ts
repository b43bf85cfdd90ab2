import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/log-lines.ts', import.meta.url));

interface Run {
  readonly stdout: string;
  readonly code: number | null;
}

/** Runs the fixture with stdout on a pipe (as under systemd/journald or a shipper). */
function run(mode: string, format: string, n: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import=tsx', fixture, mode, format, String(n)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (mode === 'sigterm' && d.includes('ready')) p.kill('SIGTERM');
    });
    p.on('error', reject);
    p.on('close', (code) => resolve({ stdout, code }));
  });
}

const N = 20000;

for (const mode of ['exit', 'sigterm', 'throw'] as const) {
  test(`json: no line lost when the process ends by ${mode}`, async (t) => {
    const r = await run(mode, 'json', N);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    const seqs = lines.map((l) => JSON.parse(l) as { seq: number; component: string; instance: string; vrid: number; event: string; level: string });
    const expected = mode === 'sigterm' ? N + 1 : N;
    t.is(seqs.length, expected);
    seqs.forEach((o, i) => t.is(o.seq, i));
    t.like(seqs[0], { component: 'vrrp', instance: 'VI_1', vrid: 51, event: 'test.line', level: 'info' });
    if (mode === 'sigterm') t.is(seqs.at(-1)?.event, 'daemon.stop');
    t.is(r.code, mode === 'throw' ? 1 : 0);
  });
}

test('pretty: one human line per event, none lost at exit', async (t) => {
  const r = await run('exit', 'pretty', 5000);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  t.is(lines.length, 5000);
  t.regex(lines[0] ?? '', /^\d{4}-\d\d-\d\dT\S+Z INFO  vrrp test\.line VI_1 line vrid=51 seq=0$/);
  t.regex(lines.at(-1) ?? '', /seq=4999$/);
});

test('a file destination gets JSON or pretty lines appended, synchronously', async (t) => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { createLogger, child } = await import('../../../src/supervisor/logger.ts');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'sub', 'vigil.log');
  const log = child(createLogger({ level: 'debug', format: 'json', destination: file }), 'check', { instance: 'VS_1' });
  log.debug({ event: 'check.down', real_server: '[10.0.1.1]:tcp:80' }, 'down');
  const line = JSON.parse(readFileSync(file, 'utf8').trim()) as Record<string, unknown>;
  t.like(line, { level: 'debug', component: 'check', instance: 'VS_1', event: 'check.down', real_server: '[10.0.1.1]:tcp:80', msg: 'down' });
  const pfile = join(dir, 'pretty.log');
  createLogger({ level: 'info', format: 'pretty', destination: pfile }).info({ event: 'daemon.start' }, 'hello');
  createLogger({ level: 'info', format: 'pretty', destination: pfile }).debug({ event: 'x' }, 'filtered');
  t.regex(readFileSync(pfile, 'utf8'), /^\S+ INFO  daemon\.start hello\n$/);
});
