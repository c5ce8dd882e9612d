/**
 * The join rule (src/engine/boundary/suffixJoin.ts) on the real default
 * model: END where the model finds the suffix follows, also inside a word
 * in exact mode; the distribution with the rule stays normalised; the rule
 * stays out of the way near the end of the file and on hostile bytes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_JOIN_RULE, ExactStrategy, HealStrategy, NaiveStrategy, SuffixJoin, strategyFor, suffixProbeBytes, type BoundaryRequest } from '../../../src/engine/boundary/index';
import { withJoinEnd } from '../../../src/engine/boundary/suffixJoin';
import { CompletionCore } from '../../../src/engine/completion/core';
import { PLAIN_JOIN_LOOKAHEAD_BYTES } from '../../../src/engine/completion/joinWait';
import { isJoinEvalMode, joinModeStrategy, parseJoinMode } from '../../../src/engine/eval/joinModes';
import { pairedWins } from '../../../src/engine/eval/metrics';
import { silentLogger } from '../../../src/engine/log';
import { loadModel, type LoadedModel } from '../../../src/engine/model/load';

const root = join(__dirname, '..', '..', '..');
const enc = new TextEncoder();
const dec = new TextDecoder();
let loaded: LoadedModel;
let core: CompletionCore;

before(async () => {
  loaded = await loadModel(join(root, 'models', 'subword-code-fast'), { logger: silentLogger, skipChecksums: true });
  core = new CompletionCore(loaded, silentLogger);
});
after(async () => {
  await loaded.model.dispose();
});

/** A hole whose middle ends inside a word: the suffix starts with that word's rest. */
const CLASS = 'class Foo:\n    def __init__(self):\n        self.value = 0\n\n    def get_value(self):\n        return self.';
const CLASS_SUFFIX = 'ue\n\n    def set_value(self, v):\n        self.value = v\n';
const USER = 'def get_user_name(user_id):\n    user = db.lookup(user_id)\n    return user.';
const USER_SUFFIX = 'me\n\n\nprint(get_user_name(3))\n';

function request(prefix: string, suffix: string, maxTokens = 16): BoundaryRequest {
  const p = core.prompt({ prefix, suffix, maxTokens });
  return { model: loaded.model, tokenizer: loaded.tokenizer, headIds: p.headIds, streamBytes: p.streamBytes, stopIds: p.stopIds, maxTokens, temperature: 0, after: suffixProbeBytes(p.suffixText) };
}

const withRule = new ExactStrategy({ ...new ExactStrategy().options, join: DEFAULT_JOIN_RULE });
const withoutRule = new ExactStrategy({ ...new ExactStrategy().options, join: undefined });

test('exact with the join rule ends the middle inside a word where the suffix follows; without it the middle runs past', async () => {
  for (const [prefix, suffix, middle] of [
    [CLASS, CLASS_SUFFIX, 'val'],
    [USER, USER_SUFFIX, 'na'],
  ] as const) {
    const req = request(prefix, suffix);
    const on = await withRule.generate(req);
    assert.equal(dec.decode(on.bytes), middle);
    assert.equal(on.joinsSuffix, true, 'ended by the rule: post-processing keeps the text whole');
    const off = await withoutRule.generate(req);
    const text = dec.decode(off.bytes);
    assert.ok(text.startsWith(middle) && text.length > middle.length + 4, `without the rule: ${JSON.stringify(text)}`);
    assert.ok(!off.joinsSuffix);
  }
});

test('the rule makes the true middle cheaper where it ends at the join, in every mode that applies it', async () => {
  const req = request(CLASS, CLASS_SUFFIX);
  const truth = enc.encode('val');
  const rule = { join: DEFAULT_JOIN_RULE };
  for (const mode of ['naive', 'heal', 'exact'] as const) {
    const on = await strategyFor(mode, { [mode]: rule }).score(req, truth);
    const off = await strategyFor(mode, { [mode]: { join: undefined } }).score(req, truth);
    assert.ok(Number.isFinite(on) && on > off + 1, `${mode}: ${on} with the rule, ${off} without`);
  }
});

test('with the rule the next-symbol distribution stays normalised, END holding the gate probability', async () => {
  const req = request(USER, USER_SUFFIX);
  for (const generated of ['n', 'na', 'nam']) {
    const d = await withRule.distributionAfter(req, enc.encode(generated));
    let sum = 0;
    for (const v of d.bytes) sum += v;
    for (const v of d.stops.values()) sum += v;
    assert.ok(Math.abs(sum - 1) < 1e-9, `sum ${sum} after ${generated}`);
    const plain = await withoutRule.distributionAfter(req, enc.encode(generated));
    // The bytes keep the model's proportions.
    const ratio = (x: { bytes: Float64Array }) => x.bytes[0x6d]! / x.bytes[0x65]!;
    assert.ok(Math.abs(ratio(d) / ratio(plain) - 1) < 1e-9);
  }
  // "na" is where the suffix "me..." follows: END is the likeliest symbol there; after "n" it is not.
  const atJoin = await withRule.distributionAfter(req, enc.encode('na'));
  assert.ok(atJoin.stops.get(req.stopIds[0]!)! > 0.5);
  const early = await withRule.distributionAfter(req, enc.encode('n'));
  assert.ok(early.stops.get(req.stopIds[0]!)! < 0.1);
  // The first symbol of the middle keeps the model's END (never an empty middle by the rule).
  assert.deepEqual(await withRule.distributionAfter(req, new Uint8Array(0)), await withoutRule.distributionAfter(req, new Uint8Array(0)));
  const w = withJoinEnd({ bytes: Float64Array.from({ length: 256 }, (_, i) => (i === 7 ? 0.3 : i === 9 ? 0.5 : 0)), stops: new Map([[1, 0.2]]) }, 0.6, 1);
  assert.ok(Math.abs(w.bytes[7]! - 0.15) < 1e-12 && Math.abs(w.bytes[9]! - 0.25) < 1e-12 && w.stops.get(1) === 0.6);
});

test('an END the rule decides without the suffix reading as what follows is not a join: the editor still merges it into the suffix', async () => {
  // The cursor inside "Item", whose rest is the suffix: the true middle is empty.
  const prefix = 'package store\n\ntype Item struct {\n\tSKU      string\n\tQuantity int\n}\n\ntype Store struct {\n\titems map[string]*Item\n}\n\nfunc (s *Store) Add(item *I';
  const suffix = 'tem) {\n\tif existing, ok := s.items[item.SKU]; ok {\n\t\texisting.Quantity += item.Quantity\n\t\treturn\n\t}\n\ts.items[item.SKU] = item\n}\n';
  const r = await new NaiveStrategy({ join: DEFAULT_JOIN_RULE }).generate(request(prefix, suffix, 8));
  // The token-level gate ends after "tem" (the model's END and an uncertain next token), but "tem) {" does not read as following "Item".
  assert.equal(dec.decode(r.bytes), 'tem');
  assert.equal(r.stoppedBy, 'stop-token');
  assert.equal(r.joinsSuffix, false);
  const shown = await core.complete({ prefix, suffix, languageId: 'go', boundary: 'naive', maxTokens: 8, temperature: 0 });
  assert.ok(!shown.text.endsWith('tem'), `ghost text ${JSON.stringify(shown.text)} repeats the suffix`);
});

test('greedy decoding asks the look-ahead only where END could win', async () => {
  const req = request(USER, USER_SUFFIX);
  const rule = SuffixJoin.create(req, DEFAULT_JOIN_RULE)!;
  const at = { anchor: [...req.headIds, ...loaded.tokenizer.encodeBytes(req.streamBytes)], tail: new Uint8Array(0), tailIds: [], coverShare: 0 };
  // The suffix's first byte is improbable: the bound without the look-ahead is low, no call.
  const low = await rule.pEnd(rule.rule.byteLevel, at, 1e-9, 1e-6, 0.4);
  assert.ok(low <= 0.4);
  assert.equal(rule.calls, 0);
  // Asked for the value itself, the rule reads the suffix: one batched call.
  await rule.pEnd(rule.rule.byteLevel, at, 1e-9, 0.9);
  assert.equal(rule.calls, 1);
});

test('near the end of the file (no whole probe), without a suffix, and on hostile bytes the rule keeps the model END or does not throw', async () => {
  // A suffix shorter than the probe: the rule does not apply, decoding is exactly the model's.
  const short = request(USER, 'me');
  assert.equal(SuffixJoin.create(short, DEFAULT_JOIN_RULE), undefined);
  assert.deepEqual((await withRule.generate(short)).bytes, (await withoutRule.generate(short)).bytes);
  const none = { ...request(USER, USER_SUFFIX), after: undefined };
  assert.deepEqual((await withRule.generate(none)).bytes, (await withoutRule.generate(none)).bytes);
  const hostile = [
    enc.encode('\ud800\u0000\r\n\t\tx = 1\r\n'),
    Uint8Array.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0, 0, 1, 2, 3, 4, 5, 6, 7]),
    enc.encode(' '.repeat(200) + 'end'),
    suffixProbeBytes('y'.repeat(1 << 20)),
  ];
  for (const bytes of hostile) {
    const req = { ...request(USER, USER_SUFFIX, 6), after: bytes };
    for (const s of [withRule, new HealStrategy({ maxBackup: 4, join: DEFAULT_JOIN_RULE }), new NaiveStrategy({ join: DEFAULT_JOIN_RULE })]) {
      const r = await s.generate(req);
      assert.ok(r.bytes.length > 0);
      assert.ok(Number.isFinite(await s.score(req, enc.encode('name'))));
    }
  }
});

test('eval join modes: MODE+join / MODE-join force the rule on / off; paired wins count the cases only one mode got', () => {
  assert.deepEqual(parseJoinMode('exact+join'), { mode: 'exact', join: true });
  assert.deepEqual(parseJoinMode('heal-join'), { mode: 'heal', join: false });
  assert.equal(parseJoinMode('exact+cache'), undefined);
  assert.ok(isJoinEvalMode('naive+join') && !isJoinEvalMode('bogus+join'));
  assert.equal((joinModeStrategy('exact+join') as ExactStrategy).options.join, DEFAULT_JOIN_RULE);
  assert.equal((joinModeStrategy('heal-join') as HealStrategy).options.join, undefined);
  assert.deepEqual(pairedWins([{ matched: [0, 2, 5] }, { matched: [2, 3] }]), [
    [0, 2],
    [1, 0],
  ]);
});

test('editor path: with plainJoinLookahead the syntax stop rules let exact run on to the join (a held-out hole it then completes exactly)', async () => {
  // heldout-spans.jsonl, mongoose/lib/cast/objectid.js, hole 536-555: the word rule stops at "bjectId"; the middle goes on.
  const cases = readFileSync(join(root, 'test', 'fixtures', 'eval', 'heldout-spans.jsonl'), 'utf8').split('\n').filter(Boolean);
  const c = cases.map((l) => JSON.parse(l) as { task_id: string; prompt: string; suffix: string; canonical_solution: string }).find((x) => x.task_id.endsWith('mongoose/lib/cast/objectid.js@536-555'))!;
  const req = { prefix: c.prompt, suffix: c.suffix, languageId: 'javascript', maxTokens: 40, boundary: 'exact' as const };
  const wait = core.plainJoinLookahead;
  try {
    core.plainJoinLookahead = 0;
    const stopped = await core.complete(req);
    core.plainJoinLookahead = 32;
    const joined = await core.complete(req);
    assert.equal(stopped.text, 'bjectId');
    assert.equal(joined.text, c.canonical_solution);
    // The request's joinWait (the setting subword.completion.joinWait) overrides the core's.
    assert.equal((await core.complete({ ...req, joinWait: 0 })).text, 'bjectId');
    assert.equal((await core.complete({ ...req, joinWait: 32 })).text, c.canonical_solution);
  } finally {
    core.plainJoinLookahead = wait;
  }
  // On by default: the default wait (16 bytes) reaches this join too.
  assert.equal(wait, PLAIN_JOIN_LOOKAHEAD_BYTES);
  assert.equal((await core.complete(req)).text, c.canonical_solution);
});
