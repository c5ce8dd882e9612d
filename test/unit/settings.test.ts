import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completionEnabledFor, readSettings } from '../../src/extension/settings';

test('invalid values fall back to the default and are reported with the setting name', () => {
  const raw: Record<string, unknown> = {
    'subword.completion.maxTokens': -5,
    'subword.completion.boundary': 'psychic',
    'subword.completion.temperature': 'hot',
    'subword.tokens.compareWith': [1, 2],
    'subword.completion.languages': { python: 'yes' },
    'subword.model.threads': 2.5,
  };
  const { config, problems } = readSettings((id) => raw[id]);
  assert.equal(config.completion.maxTokens, 64);
  assert.equal(config.completion.boundary, 'exact');
  assert.equal(config.completion.temperature, 0);
  assert.deepEqual(config.tokens.compareWith, ['o200k_base', 'cl100k_base', 'llama3', 'qwen3']);
  assert.equal(config.model.threads, 1);
  assert.deepEqual(problems.map((p) => p.id).sort(), Object.keys(raw).sort());
  const boundary = problems.find((p) => p.id === 'subword.completion.boundary');
  assert.match(boundary!.reason, /"naive", "heal", "exact"/);
});

test('valid values are taken as they are', () => {
  const raw: Record<string, unknown> = { 'subword.completion.boundary': 'heal', 'subword.completion.maxLines': 1, 'subword.tokens.overlays': 'off' };
  const { config, problems } = readSettings((id) => raw[id]);
  assert.deepEqual(problems, []);
  assert.equal(config.completion.boundary, 'heal');
  assert.equal(config.completion.maxLines, 1);
  assert.equal(config.tokens.overlays, 'off');
});

test('per-language switch: explicit entries win, "*" is the fallback, the master switch overrides', () => {
  const { config } = readSettings((id) => (id === 'subword.completion.languages' ? { '*': false, python: true } : undefined));
  assert.equal(completionEnabledFor(config, 'python'), true);
  assert.equal(completionEnabledFor(config, 'rust'), false);
  const off = readSettings((id) => (id === 'subword.completion.enabled' ? false : undefined)).config;
  assert.equal(completionEnabledFor(off, 'python'), false);
  const defaults = readSettings(() => undefined).config;
  assert.equal(completionEnabledFor(defaults, 'typescript'), true);
  assert.equal(completionEnabledFor(defaults, 'plaintext'), false);
});
