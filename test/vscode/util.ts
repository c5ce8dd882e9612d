/** Helpers shared by the in-VS-Code suites. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { SubwordApi } from '../../src/extension/extension';

export const EXTENSION_ID = 'subword.subword';

/** Activates Subword (if VS Code has not already) and returns its API. */
export async function subword(): Promise<{ ext: vscode.Extension<SubwordApi | undefined>; api: SubwordApi }> {
  const ext = vscode.extensions.getExtension<SubwordApi | undefined>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed in this VS Code`);
  const api = await ext.activate();
  assert.ok(api, 'activate() returned no API (activation failed; see the Subword log)');
  return { ext, api };
}

/** Polls until `check` returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The text of the "Subword" log output channel, read from the file VS Code
 * writes it to (a LogOutputChannel lives in the extension's log folder).
 */
export async function readSubwordLog(api: SubwordApi): Promise<string> {
  const folder = api.ctx.extensionContext.logUri;
  let entries: [string, vscode.FileType][];
  try {
    entries = await vscode.workspace.fs.readDirectory(folder);
  } catch {
    return '';
  }
  const texts: string[] = [];
  for (const [name, type] of entries) {
    if (type === vscode.FileType.File && name.endsWith('.log') && name.includes('Subword')) {
      texts.push(new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder, name))));
    }
  }
  return texts.join('\n');
}

/** Waits until the Subword log contains `pattern` (log files are written asynchronously). */
export async function waitForLog(api: SubwordApi, pattern: RegExp, timeoutMs = 5000): Promise<string> {
  let text = '';
  await waitFor(`the Subword log to match ${pattern} (log so far:\n${text.slice(-2000)})`, async () => {
    text = await readSubwordLog(api);
    return pattern.test(text);
  }, timeoutMs).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\nlog so far:\n${text.slice(-2000)}`);
  });
  return text;
}

/** Sets a user-level setting; `undefined` removes it. */
export async function setSetting(id: string, value: unknown): Promise<void> {
  const dot = id.lastIndexOf('.');
  await vscode.workspace.getConfiguration(id.slice(0, dot)).update(id.slice(dot + 1), value, vscode.ConfigurationTarget.Global);
}

/** The raw value VS Code resolves for a setting (before Subword's validation). */
export function rawSetting<T>(id: string): T | undefined {
  return vscode.workspace.getConfiguration().get<T>(id);
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
