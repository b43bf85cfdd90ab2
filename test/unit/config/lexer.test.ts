import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lexFile, lexText, TokKind, type Token } from '../../../src/config/lexer.ts';

const ID = { configId: 'n1' };

function words(toks: readonly Token[]): string[] {
  return toks.map((t) => (t.kind === TokKind.Word ? t.text : t.kind === TokKind.Open ? '{' : '}'));
}

function tmpdir(t: { teardown(fn: () => void): void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-lex-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

test('words, braces and positions', (t) => {
  const r = lexText('vrrp_instance VI_1 {\n  state MASTER\n}\n', 'a.conf', ID);
  t.deepEqual(words(r.tokens), ['vrrp_instance', 'VI_1', '{', 'state', 'MASTER', '}']);
  const state = r.tokens[3]!;
  t.deepEqual([state.file, state.line, state.col, state.nl], ['a.conf', 2, 3, true]);
  t.deepEqual([r.tokens[4]!.col, r.tokens[4]!.nl], [9, false]);
  t.deepEqual(r.diagnostics, []);
  t.deepEqual(r.files, ['a.conf']);
});

test('braces are tokens of their own even against a word', (t) => {
  const r = lexText('track_script{\nchk}\n', 'a.conf', ID);
  t.deepEqual(words(r.tokens), ['track_script', '{', 'chk', '}']);
  t.is(r.tokens[1]!.col, 13);
  t.is(r.tokens[3]!.col, 4);
});

test('# and ! comments anywhere outside quotes; CRLF line ends', (t) => {
  const r = lexText('a 1 # c\r\n! whole line\r\nb "x # y" !z\r\nc "it\'s" # q\n', 'a.conf', ID);
  t.deepEqual(words(r.tokens), ['a', '1', 'b', 'x # y', 'c', "it's"]);
  t.true(r.tokens[3]!.quoted);
  t.false(r.tokens[2]!.quoted);
});

test('keepalived quoting: quotes join parts, whitespace inside is kept, escapes resolved', (t) => {
  const r = lexText('k abcd" efg h jkl "mnop \'a b\' "t\\tx\\"y" "\\101\\x41"\n', 'a.conf', ID);
  t.deepEqual(words(r.tokens), ['k', 'abcd efg h jkl mnop', 'a b', 't\tx"y', 'AA']);
});

test('unterminated quote is an error at the quote, not a throw', (t) => {
  const r = lexText('script "abc\nnext 1\n', 'a.conf', ID);
  t.deepEqual(words(r.tokens), ['script', 'abc', 'next', '1']);
  t.is(r.diagnostics.length, 1);
  t.like(r.diagnostics[0], { code: 'unterminated-quote', severity: 'error', loc: { file: 'a.conf', line: 1, col: 8 } });
});

test('line continuation joins lines; tokens keep their physical positions', (t) => {
  const r = lexText('notify_master \\\n  "/bin/x a" \\\n  root\nnext\n', 'a.conf', ID);
  t.deepEqual(words(r.tokens), ['notify_master', '/bin/x a', 'root', 'next']);
  t.deepEqual([r.tokens[1]!.line, r.tokens[1]!.col, r.tokens[1]!.nl], [2, 3, false]);
  t.deepEqual([r.tokens[2]!.line, r.tokens[2]!.col], [3, 3]);
  t.deepEqual([r.tokens[3]!.line, r.tokens[3]!.nl], [4, true]);
});

test('@id lines apply only to that config id; @^id only to the others', (t) => {
  const text = '@n1 priority 150\n@n2 priority 100\n@^n1 state BACKUP\n@^n2 state MASTER\n';
  t.deepEqual(words(lexText(text, 'a', { configId: 'n1' }).tokens), ['priority', '150', 'state', 'MASTER']);
  t.deepEqual(words(lexText(text, 'a', { configId: 'n2' }).tokens), ['priority', '100', 'state', 'BACKUP']);
  const r = lexText('@n1 priority 150\n', 'a', { configId: 'n1' });
  t.is(r.tokens[0]!.col, 5);
  const bad = lexText('@ x\n', 'a', ID);
  t.is(bad.diagnostics[0]!.code, 'bad-conditional');
});

test('$NAME=value defines, $NAME and ${NAME} expand, positions point at the $', (t) => {
  const text = '$IF=eth0\n$VIP=10.0.0.1/24 dev ${IF}\ninterface $IF\nvip ${VIP}x\nkeep $UNDEF $1 "$IF"\n';
  const r = lexText(text, 'a.conf', ID);
  t.deepEqual(words(r.tokens), ['interface', 'eth0', 'vip', '10.0.0.1/24', 'dev', 'eth0x', 'keep', '$UNDEF', '$1', 'eth0']);
  t.deepEqual([r.tokens[1]!.line, r.tokens[1]!.col], [3, 11]);
  // All words of a substituted value sit at the `$` that produced them.
  t.deepEqual([r.tokens[4]!.line, r.tokens[4]!.col], [4, 5]);
  t.deepEqual([r.tokens[6]!.line, r.tokens[6]!.col], [5, 1]);
  t.deepEqual([r.tokens[7]!.col, r.tokens[8]!.col], [6, 13]);
  t.is(r.diagnostics.length, 1);
  t.like(r.diagnostics[0], { code: 'undefined-parameter', severity: 'warning', loc: { line: 5, col: 6 } });
});

test('a conditional define only defines for its config id', (t) => {
  const text = '@n1 $P=150\n@n2 $P=100\npriority $P\n';
  t.deepEqual(words(lexText(text, 'a', { configId: 'n2' }).tokens), ['priority', '100']);
});

test('include with globs relative to the including file, in sorted order', (t) => {
  const d = tmpdir(t);
  fs.mkdirSync(path.join(d, 'conf.d'));
  fs.writeFileSync(path.join(d, 'conf.d', 'b.conf'), 'b 2\n');
  fs.writeFileSync(path.join(d, 'conf.d', 'a.conf'), 'a 1\ninclude ../leaf.inc\n');
  fs.writeFileSync(path.join(d, 'conf.d', 'skip.txt'), 'nope\n');
  fs.writeFileSync(path.join(d, 'leaf.inc'), 'leaf {\n}\n');
  fs.writeFileSync(path.join(d, 'main.conf'), 'top {\ninclude conf.d/*.conf\n}\n');
  const r = lexFile(path.join(d, 'main.conf'), ID);
  t.deepEqual(r.diagnostics, []);
  t.deepEqual(words(r.tokens), ['top', '{', 'a', '1', 'leaf', '{', '}', 'b', '2', '}']);
  t.deepEqual(r.files, ['main.conf', 'conf.d/a.conf', 'leaf.inc', 'conf.d/b.conf'].map((f) => path.join(d, f)));
  const leaf = r.tokens[4]!;
  t.deepEqual([leaf.file, leaf.line, leaf.col], [path.join(d, 'leaf.inc'), 1, 1]);
});

test('include loops are a diagnostic, not a hang', (t) => {
  const d = tmpdir(t);
  fs.writeFileSync(path.join(d, 'a.conf'), 'x 1\ninclude b.conf\n');
  fs.writeFileSync(path.join(d, 'b.conf'), 'y 2\n  include a.conf\n');
  const r = lexFile(path.join(d, 'a.conf'), ID);
  t.deepEqual(words(r.tokens), ['x', '1', 'y', '2']);
  t.is(r.diagnostics.length, 1);
  t.like(r.diagnostics[0], { code: 'include-loop', severity: 'error', loc: { file: path.join(d, 'b.conf'), line: 2, col: 11 } });
  const self = lexFile(path.join(d, 'self.conf'), ID);
  t.is(self.diagnostics[0]!.code, 'unreadable-file');
});

test('missing include: a literal path is an error, a glob matching nothing a warning (an error for includea)', (t) => {
  const d = tmpdir(t);
  fs.writeFileSync(path.join(d, 'm.conf'), 'include nope.conf\ninclude none/*.conf\nincludea gone.conf\ninclude\nincludea none/*.conf\nincluder gone/x.conf\n');
  const r = lexFile(path.join(d, 'm.conf'), ID);
  t.deepEqual(
    r.diagnostics.map((x) => [x.code, x.severity, x.loc.line, x.loc.col]),
    [
      ['include-missing', 'error', 1, 9],
      ['include-missing', 'warning', 2, 9],
      ['include-missing', 'error', 3, 10],
      ['missing-value', 'error', 4, 1],
      ['include-missing', 'error', 5, 10],
      ['include-missing', 'error', 6, 10],
    ],
  );
  t.is(r.diagnostics[0]!.message, 'include: cannot read nope.conf: ENOENT');
  const missing = lexFile(path.join(d, 'absent.conf'), ID);
  t.like(missing.diagnostics[0], { code: 'unreadable-file', severity: 'error', loc: { line: 1, col: 1 } });
  t.regex(missing.diagnostics[0]!.message, /ENOENT/);
});

test('a directory is not a readable config file', (t) => {
  const d = tmpdir(t);
  const r = lexFile(d, ID);
  t.is(r.diagnostics[0]!.code, 'unreadable-file');
});

test('deep include chains stop at the depth limit', (t) => {
  const d = tmpdir(t);
  for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(d, `f${i}.conf`), `w${i}\ninclude f${i + 1}.conf\n`);
  fs.writeFileSync(path.join(d, 'f40.conf'), 'end\n');
  const r = lexFile(path.join(d, 'f0.conf'), { configId: 'x', maxIncludeDepth: 8 });
  t.is(r.diagnostics.length, 1);
  t.is(r.diagnostics[0]!.code, 'include-depth');
  t.is(r.tokens.length, 8);
});

test('a multi-line $ definition expands into separate lines, as keepalived does', (t) => {
  const text = '$VIPS=10.0.0.1 \\\n      10.0.0.2/24 dev eth0\nvirtual_ipaddress {\n  $VIPS\n}\n';
  const r = lexText(text, 'a.conf', ID);
  t.deepEqual(words(r.tokens), ['virtual_ipaddress', '{', '10.0.0.1', '10.0.0.2/24', 'dev', 'eth0', '}']);
  t.deepEqual(r.tokens.map((x) => x.nl), [true, false, true, true, false, false, true]);
  t.deepEqual([r.tokens[3]!.line, r.tokens[3]!.col], [4, 3]);
});

test('a multi-line parameter may hold include lines', (t) => {
  const d = tmpdir(t);
  fs.writeFileSync(path.join(d, 'inc.conf'), 'inner 1\n');
  fs.writeFileSync(path.join(d, 'm.conf'), '$P=a 1 \\\ninclude inc.conf\n$P\nz\n');
  const r = lexFile(path.join(d, 'm.conf'), ID);
  t.deepEqual(r.diagnostics, []);
  t.deepEqual(words(r.tokens), ['a', '1', 'inner', '1', 'z']);
});

test('\\# and \\! are literal outside quotes', (t) => {
  const r = lexText('auth_pass ab\\#c\\!d # comment\n', 'a.conf', ID);
  t.deepEqual(words(r.tokens), ['auth_pass', 'ab#c!d']);
});

test('a substitution that would make a line explode is an error, not an out-of-memory', (t) => {
  const r = lexText('$A=xx\n' + '$A=$A$A\n'.repeat(40) + 'k $A\n', 'a.conf', ID);
  t.true(r.diagnostics.some((d) => d.code === 'line-too-long' && d.severity === 'error'));
  t.true(r.tokens.every((x) => x.text.length <= 65536));
});

test('standard parameters ${_INSTANCE} and ${_PWD}; a definition overrides them', (t) => {
  const r = lexText('router_id ${_INSTANCE}-x\nscript $_PWD/chk.sh\n$_INSTANCE=other\nk $_INSTANCE\n', '/etc/keepalived/k.conf', { configId: 'lb7' });
  t.deepEqual(words(r.tokens), ['router_id', 'lb7-x', 'script', '/etc/keepalived/chk.sh', 'k', 'other']);
  t.deepEqual(r.diagnostics, []);
});
