import test from 'ava';
import { formatPrettyLine } from '../../../src/supervisor/logger.ts';

test('pretty line: time level component event instance msg then k=v', (t) => {
  const line = JSON.stringify({
    level: 'warn', time: '2026-01-01T00:00:00.000Z', pid: 1, hostname: 'h', component: 'vrrp',
    event: 'vrrp.transition', instance: 'VI_1', vrid: 51, from: 'BACKUP', to: 'MASTER', reason: 'master down timer', msg: 'entering MASTER',
  });
  t.is(formatPrettyLine(line), '2026-01-01T00:00:00.000Z WARN  vrrp vrrp.transition VI_1 entering MASTER vrid=51 from=BACKUP to=MASTER reason="master down timer"');
});

test('pretty line: nested values as JSON, multi-line messages folded, junk passed through', (t) => {
  t.is(
    formatPrettyLine(JSON.stringify({ level: 'error', time: 't', msg: 'a\n  b', err: { code: 'X' } })),
    't ERROR a b err={"code":"X"}',
  );
  t.is(formatPrettyLine('not json\n'), 'not json');
});
