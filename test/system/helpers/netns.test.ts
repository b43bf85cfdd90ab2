import test from 'ava';
import { execFileSync } from 'node:child_process';
import { NetnsLab, nsExec, requireRoot } from '../../helpers/netns.ts';

test('a segment of two namespaces passes traffic and is removed afterwards', (t) => {
  if (!requireRoot(t)) return;
  const lab = new NetnsLab('thl');
  try {
    const a = lab.addNs('a');
    const b = lab.addNs('b');
    lab.segment('sw', [
      { ns: a, ifname: 'eth0' },
      { ns: b, ifname: 'eth0' },
    ]);
    nsExec(a, ['ip', 'addr', 'add', '10.250.0.1/24', 'dev', 'eth0']);
    nsExec(b, ['ip', 'addr', 'add', '10.250.0.2/24', 'dev', 'eth0']);
    t.regex(nsExec(a, ['ping', '-c', '1', '-W', '2', '10.250.0.2']), /1 received/);
  } finally {
    lab.removeAll();
  }
  t.false(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(lab.tag));
});
