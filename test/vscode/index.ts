/**
 * Entry point of the in-VS-Code test suite (bundled by `node tools/build.mjs
 * --tests` to out/test/vscode/index.js). VS Code loads it as the
 * extensionTestsPath and calls run(); a rejection marks the run as failed.
 *
 * To add a suite: create test/vscode/suite/<name>.ts that calls suite()/test()
 * from ../harness, and add one import line below (explicit imports, so that
 * esbuild bundles them; order is run order).
 *
 * Run just these tests: `node tools/test.mjs --no-static --only vscode.test`
 * (SUBWORD_VSCODE_VERBOSE=1 echoes VS Code's own log). Settings in
 * ./startup-settings.json are in place before activation.
 */
import * as vscode from 'vscode';
import { runRegistered } from './harness';

import './suite/activation';
import './suite/commands';
import './suite/settings';
import './suite/editor';

export async function run(): Promise<void> {
  // Stack traces of failures then point into test/vscode/*.ts, not the bundle.
  process.setSourceMapsEnabled(true);
  const failed = await runRegistered({ vscode: vscode.version, uiKind: vscode.UIKind[vscode.env.uiKind] ?? String(vscode.env.uiKind) });
  if (failed > 0) throw new Error(`${failed} in-VS-Code test(s) failed`);
}
