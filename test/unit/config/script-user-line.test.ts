/**
 * keepalived resolves a vrrp_script's default user when it reads the block's `}` and names
 * that line ("(Line N) Unable to set default user for vrrp script X - removing"); `vigil -t`
 * names the same line, and where the block is never closed, where the input ends.
 */
import test from 'ava';
import { checkConfigScripts } from '../../../src/cli/host-check.ts';
import { parse } from './helpers.ts';

const NO_USER = 'vigil_test_no_such_user';
const head = `global_defs {\n script_user ${NO_USER}\n}\n`;
const script = 'vrrp_script chk {\n script /bin/true\n interval 2\n}\n';

async function userWarnings(text: string): Promise<Array<[number, number]>> {
  const r = parse(text);
  const d = await checkConfigScripts(r.parsed, false, r.refusedInstances?.length ?? 0);
  return d.filter((x) => x.code === 'script-user').map((x) => [x.loc.line, x.loc.col]);
}

test("a vrrp_script without a user to run as is named at its block's `}`", async (t) => {
  t.deepEqual(await userWarnings(head + script), [[7, 1]]);
  // `}` sharing a line with the last keyword: that line, at the brace
  t.deepEqual(await userWarnings(head + 'vrrp_script chk {\n script /bin/true }\n'), [[5, 19]]);
});

test('a vrrp_script block never closed: named where the input ends', async (t) => {
  // the last token read: `2`
  t.deepEqual(await userWarnings(head + 'vrrp_script chk {\n script /bin/true\n interval 2\n\n'), [[6, 11]]);
});

test('a script with its own user is not moved to the `}`', async (t) => {
  const d = await userWarnings(head + `vrrp_script chk {\n script /bin/true\n user ${NO_USER}\n}\n`);
  t.deepEqual(d, [[4, 13]]);
});
