/**
 * The context window: loadModel caps the model's context at
 * DEFAULT_CONTEXT_WINDOW unless told otherwise (0 = the model's own), and
 * the editor setting's default is the same number.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SETTING_SECTIONS } from '../../../src/extension/settings';
import { silentLogger } from '../../../src/engine/log';
import { DEFAULT_CONTEXT_WINDOW, loadModel } from '../../../src/engine/model/load';
import { declaredContextLength, locateModelFolder } from '../../../src/engine/model/manifest';
import { BUNDLED_MODEL_NAME } from '../../../src/engine/models';
import { fixture, ROOT } from './helpers';

test('context window: default, explicit, 0 for the full context, never above the model', async () => {
  assert.equal(SETTING_SECTIONS.model.settings['subword.model.contextWindow'].default, DEFAULT_CONTEXT_WINDOW);
  // The fixture's own context is 128 tokens: every cap above it gives 128.
  for (const [opt, want] of [[undefined, Math.min(128, DEFAULT_CONTEXT_WINDOW)], [0, 128], [64, 64], [100000, 128]] as const) {
    const { model } = await loadModel(fixture('plain'), { logger: silentLogger, contextLength: opt });
    try {
      assert.equal(model.contextLength, want, `contextLength ${opt}`);
      await assert.rejects(model.nextTokenLogProbs(new Array(want + 1).fill(1)), /exceeds the model's context/);
    } finally {
      await model.dispose();
    }
  }
});

const bundled = join(ROOT, 'models', BUNDLED_MODEL_NAME);
test('context window: the bundled model runs at the default window, or its full context with 0', { skip: !existsSync(bundled) && 'bundled model missing' }, async () => {
  const own = declaredContextLength(locateModelFolder(bundled))!;
  for (const [opt, want] of [[undefined, Math.min(DEFAULT_CONTEXT_WINDOW, own)], [0, own]] as const) {
    const { model } = await loadModel(bundled, { logger: silentLogger, skipChecksums: true, contextLength: opt });
    try {
      assert.equal(model.contextLength, want);
    } finally {
      await model.dispose();
    }
  }
});
