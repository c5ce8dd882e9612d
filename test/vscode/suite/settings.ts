import * as assert from 'node:assert/strict';
import { suite, test } from '../harness';
import { rawSetting, readSubwordLog, setSetting, subword, waitFor, waitForLog } from '../util';

suite('settings', () => {
  test('changing subword.completion.boundary through the configuration API reaches the typed config', async () => {
    const { api } = await subword();
    try {
      assert.equal(api.ctx.config.completion.boundary, 'exact');
      for (const mode of ['heal', 'naive', 'exact'] as const) {
        await setSetting('subword.completion.boundary', mode);
        await waitFor(`boundary ${mode}`, () => api.ctx.config.completion.boundary === mode);
      }
    } finally {
      await setSetting('subword.completion.boundary', undefined);
    }
  });

  test('subword.completion.maxTokens -5 falls back to the default and is reported once, by name', async () => {
    const { api } = await subword();
    try {
      // A valid value first, so the fallback below is not just "never reads it".
      await setSetting('subword.completion.maxTokens', 32);
      await waitFor('maxTokens 32', () => api.ctx.config.completion.maxTokens === 32);
      await setSetting('subword.completion.maxTokens', -5);
      assert.equal(rawSetting('subword.completion.maxTokens'), -5);
      await waitForLog(api, /Setting subword\.completion\.maxTokens has an invalid value -5: must be at least 1/);
      assert.equal(api.ctx.config.completion.maxTokens, 64);
      // Another settings change re-reads everything; the same bad value is not reported again.
      await setSetting('subword.completion.boundary', 'heal');
      await waitFor('boundary heal', () => api.ctx.config.completion.boundary === 'heal');
      assert.equal(api.ctx.config.completion.maxTokens, 64);
      await new Promise((r) => setTimeout(r, 200));
      const log = await readSubwordLog(api);
      assert.equal(log.match(/Setting subword\.completion\.maxTokens has an invalid value -5/g)?.length, 1);
    } finally {
      await setSetting('subword.completion.maxTokens', undefined);
      await setSetting('subword.completion.boundary', undefined);
    }
    await waitFor('maxTokens back to default', () => api.ctx.config.completion.maxTokens === 64 && api.ctx.config.completion.boundary === 'exact');
  });

  test('an unknown enum value for subword.completion.boundary falls back to the default "exact" with a warning', async () => {
    const { api } = await subword();
    try {
      await setSetting('subword.completion.boundary', 'naive');
      await waitFor('boundary naive', () => api.ctx.config.completion.boundary === 'naive');
      await setSetting('subword.completion.boundary', 'sideways');
      await waitForLog(api, /Setting subword\.completion\.boundary has an invalid value "sideways"/);
      assert.equal(api.ctx.config.completion.boundary, 'exact');
    } finally {
      await setSetting('subword.completion.boundary', undefined);
    }
  });
});
