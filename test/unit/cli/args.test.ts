/**
 * The one flag parser (src/cli/args.ts) and the commands on it: complete and
 * eval keep their strict form (no positionals), the tokenizer commands and
 * `syntax` keep their FILE argument, short alias and error messages.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseFlags } from '../../../src/cli/args';
import { main } from '../../../src/cli/main';
import type { CliIo } from '../../../src/cli/subcommands';

const ROOT = join(__dirname, '..', '..', '..');

async function run(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), readStdin: async () => Buffer.from(stdin, 'utf8'), packageRoot: ROOT };
  return { code: await main(args, io), out, err };
}

test('parseFlags: values, =values, switches, -h; positionals are an error unless allowed', () => {
  const p = parseFlags(['--a', '1', '--b=x=y', '--json', '-h', '--c', '--d'], new Set(['json']));
  assert.deepEqual([...p.flags], [['a', '1'], ['b', 'x=y'], ['c', '--d']]);
  assert.deepEqual([...p.switches].sort(), ['help', 'json']);
  assert.deepEqual(p.positionals, []);
  assert.throws(() => parseFlags(['file.py'], new Set()), /^Error: unexpected argument "file.py"$/);
  assert.throws(() => parseFlags(['-x'], new Set()), /unexpected argument "-x"/);
  assert.throws(() => parseFlags(['--a'], new Set()), /^Error: --a needs a value$/);
  assert.throws(() => parseFlags(['--a'], new Set(), { missingValue: (n) => `no ${n}` }), /^Error: no a$/);
});

test('parseFlags: known options, aliases and positionals (- is standard input)', () => {
  const opts = { known: new Set(['tokenizer']), aliases: { t: 'tokenizer' }, positionals: true };
  const p = parseFlags(['-t', 'llama3', 'a.py', '-', '--json'], new Set(['json']), opts);
  assert.equal(p.flags.get('tokenizer'), 'llama3');
  assert.deepEqual(p.positionals, ['a.py', '-']);
  assert.equal(parseFlags(['--tokenizer=qwen3'], new Set(), opts).flags.get('tokenizer'), 'qwen3');
  assert.throws(() => parseFlags(['--frobnicate', '1'], new Set(), opts), /^Error: unknown option --frobnicate$/);
  assert.throws(() => parseFlags(['--frob=1'], new Set(), opts), /^Error: unknown option --frob=1$/);
  assert.throws(() => parseFlags(['-q'], new Set(), opts), /^Error: unknown option -q$/);
});

test('tokenizer commands: usage on --help/-h, exit 2 with the usage on bad options', async () => {
  for (const h of ['--help', '-h']) {
    const r = await run(['count', h]);
    assert.equal(r.code, 0);
    assert.match(r.out, /^Usage: subword count/);
  }
  const missing = await run(['tokenize', '-t']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /^--tokenizer needs an id\n\nUsage: subword tokenize/);
  const two = await run(['count', 'a.py', 'b.py']);
  assert.equal(two.code, 2);
  assert.match(two.err, /^only one FILE may be given\n\nUsage: subword count/);
  const unknown = await run(['tokenizers', '--frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /^unknown option --frobnicate\n\nUsage: subword tokenizers/);
  const eq = await run(['count', '--tokenizer=cl100k_base', '-'], 'hello world');
  assert.equal(eq.code, 0, eq.err);
  assert.equal(eq.out, '2\n');
});

test('syntax command: usage, missing values, unknown options, one FILE', async () => {
  const help = await run(['syntax', '-h']);
  assert.equal(help.code, 0);
  assert.match(help.out, /^Usage: subword syntax FILE/);
  const missing = await run(['syntax', 'x.py', '--at']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /^missing value for --at\nUsage: subword syntax/);
  const unknown = await run(['syntax', 'x.py', '--frobnicate', '3']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /^unknown option --frobnicate\n/);
  const none = await run(['syntax']);
  assert.equal(none.code, 2);
  assert.match(none.err, /^Usage: subword syntax/);
  const gone = await run(['syntax', join(ROOT, 'no-such-file.py'), '--at=1:1']);
  assert.equal(gone.code, 1);
  assert.match(gone.err, /^cannot read .*no-such-file\.py/);
});

test('complete keeps its strict options: a positional argument is an error', async () => {
  const r = await run(['complete', 'file.py']);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /unexpected argument "file.py"/);
});
