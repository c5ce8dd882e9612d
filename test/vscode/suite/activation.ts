import * as assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { suite, test } from '../harness';
import { EXTENSION_ID, readSubwordLog, subword, waitForLog } from '../util';

suite('activation', () => {
  test('Subword is loaded from the development path and activate() returns its API', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not among ${vscode.extensions.all.length} extensions`);
    assert.equal(ext.packageJSON.name, 'subword');
    const { api } = await subword();
    assert.ok(ext.isActive);
    // The API is live: its config is the typed view, not a placeholder.
    assert.ok(['naive', 'heal', 'exact'].includes(api.ctx.config.completion.boundary));
    assert.equal(api.ctx.extensionPath, ext.extensionPath);
  });

  test('the extension host is Node and loads the native onnxruntime-node addon', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    assert.equal(typeof process.versions.node, 'string');
    // In the browser workbench the extension must run on the remote (Node) side, never in a web worker.
    if (vscode.env.remoteName) assert.equal(ext.extensionKind, vscode.ExtensionKind.Workspace);
    const ort = createRequire(join(ext.extensionPath, 'package.json'))('onnxruntime-node') as { InferenceSession?: { create?: unknown } };
    assert.equal(typeof ort.InferenceSession?.create, 'function');
  });

  test('activation is logged to the "Subword" log with the version and its time', async () => {
    const { ext, api } = await subword();
    const version = String(ext.packageJSON.version);
    await waitForLog(api, new RegExp(`Subword ${version.replace(/\./g, '\\.')} \\(engine [^)]+\\) activated in [0-9.]+ ms`));
  });

  test('an invalid setting present at startup is reported once by name and the default is used', async () => {
    // test/vscode/startup-settings.json sets subword.model.threads to 0 before VS Code starts.
    const { api } = await subword();
    assert.equal(vscode.workspace.getConfiguration().get('subword.model.threads'), 0, 'the seeded invalid value is in effect');
    assert.equal(api.ctx.config.model.threads, 1, 'the default is used instead');
    const log = await waitForLog(api, /Setting subword\.model\.threads has an invalid value 0/);
    assert.equal(log.match(/Setting subword\.model\.threads has an invalid value/g)?.length, 1, 'reported exactly once');
    assert.doesNotMatch(await readSubwordLog(api), /Activation failed/);
  });
});
