import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { suite, test } from '../harness';
import { rawSetting, readSubwordLog, setSetting, subword, waitFor } from '../util';

suite('commands', () => {
  test('every command contributed in package.json is registered after activation', async () => {
    const { ext } = await subword();
    const contributed = (ext.packageJSON.contributes.commands as Array<{ command: string }>).map((c) => c.command);
    assert.ok(contributed.length >= 8, `only ${contributed.length} commands contributed`);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  test('subword.toggleColoredTokens flips the setting, returns the new value, and the typed config follows', async () => {
    const { api } = await subword();
    const id = 'subword.tokens.coloredTokens';
    try {
      const before = rawSetting<boolean>(id);
      assert.equal(typeof before, 'boolean');
      const first = await vscode.commands.executeCommand<boolean>('subword.toggleColoredTokens');
      assert.equal(first, !before, 'returns the new value');
      assert.equal(rawSetting(id), first, 'VS Code has the new value');
      await waitFor('ctx.config.tokens.coloredTokens to follow', () => api.ctx.config.tokens.coloredTokens === first);
      const second = await vscode.commands.executeCommand<boolean>('subword.toggleColoredTokens');
      assert.equal(second, before, 'a second toggle flips it back');
      await waitFor('ctx.config.tokens.coloredTokens to flip back', () => api.ctx.config.tokens.coloredTokens === second);
    } finally {
      await setSetting(id, undefined);
    }
  });

  test('subword.toggleTokenOverlays switches overlays off and back on', async () => {
    const { api } = await subword();
    try {
      assert.equal(api.ctx.config.tokens.overlays, 'lines');
      assert.equal(await vscode.commands.executeCommand('subword.toggleTokenOverlays'), 'off');
      await waitFor('overlays off', () => api.ctx.config.tokens.overlays === 'off');
      assert.equal(await vscode.commands.executeCommand('subword.toggleTokenOverlays'), 'both');
      await waitFor('overlays both', () => api.ctx.config.tokens.overlays === 'both');
    } finally {
      await setSetting('subword.tokens.overlays', undefined);
    }
  });

  test('subword.showLog runs without an error (the wrapper would log one)', async () => {
    const { api } = await subword();
    await vscode.commands.executeCommand('subword.showLog');
    // Command failures are caught, logged and shown, never thrown; so look at the log.
    await new Promise((r) => setTimeout(r, 300));
    assert.doesNotMatch(await readSubwordLog(api), /Command subword\.showLog failed/);
  });
});
