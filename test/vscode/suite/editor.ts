/**
 * The editor experience in a real VS Code: status-bar counts and Switch
 * Tokenizer, overlays and coloured tokens, the hover, Count Tokens, inline
 * completions from a real model, and a broken model path.
 */
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadTokenizerFile } from '../../../src/engine/model/tokenizerFile';
import type { BpeTokenizer } from '../../../src/engine/tokenizers/bpe';
import { DocumentTokenCounter } from '../../../src/engine/tokenizers/incremental';
import type { Tokenizer } from '../../../src/engine/tokenizers/types';
import { engineRegistry } from '../../../src/extension/registryBinding';
import type { SubwordApi } from '../../../src/extension/extension';
import { groupDigits } from '../../../src/extension/format';
import { bundledModelDir } from '../../../src/extension/session';
import type { CountResult } from '../../../src/extension/tokenCommands';
import { suite, test } from '../harness';
import { readSubwordLog, setSetting, subword, waitFor } from '../util';

/** The engine's own tokenizer, loaded in the test independently of the extension's instance. */
const engineTokenizers = new Map<string, Promise<Tokenizer>>();
function engineTokenizer(api: SubwordApi, id: string): Promise<Tokenizer> {
  let p = engineTokenizers.get(id);
  if (!p) {
    p = Promise.resolve(engineRegistry(api.ctx.extensionPath).get(id));
    engineTokenizers.set(id, p);
  }
  return p;
}

/** waitFor for checks that return a value or undefined/false. */
async function waitForValue<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  return (await waitFor(what, check, timeoutMs)) as T;
}

async function openWorkspaceFile(name: string): Promise<vscode.TextEditor> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test workspace is open');
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, name));
  return vscode.window.showTextDocument(doc);
}

async function openUntitled(content: string, language: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument({ content, language });
  return vscode.window.showTextDocument(doc);
}

async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/**
 * Network watch: from the moment this suite loads, every outgoing socket
 * connection in the extension host is recorded with its stack, so the last
 * test can check that none came from Subword's code (VS Code's own attempts
 * to reach its gallery are not Subword's traffic).
 */
const connections: string[] = [];
const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  connections.push(`${JSON.stringify(args[0])}\n${new Error('connect').stack ?? ''}`);
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;

suite('editor', () => {
  test('Switch Tokenizer with an id changes the status bar to that tokenizer\'s exact file count', async () => {
    const { api } = await subword();
    const editor = await openWorkspaceFile('greeter.ts');
    const text = editor.document.getText();
    // For the benchmark notes: activate()'s own time in this real VS Code.
    console.log(`subword: activate() took ${api.activationMs.toFixed(1)} ms in VS Code ${vscode.version}`);
    try {
      const seen = new Map<string, number>();
      for (const id of ['cl100k_base', 'o200k_base']) {
        const returned = await vscode.commands.executeCommand<string>('subword.switchTokenizer', id);
        assert.equal(returned, id);
        const expected = (await engineTokenizer(api, id)).encode(text).length;
        seen.set(id, expected);
        const snap = await waitForValue(
          `status bar to show ${expected} tokens under ${id} (now ${JSON.stringify(api.status?.snapshot)})`,
          () => {
            const s = api.status!.snapshot;
            return s.tokenizer === id && s.fileTokens === expected ? s : undefined;
          },
          20_000,
        );
        assert.match(snap.text, new RegExp(`${id}.*${groupDigits(expected)} tokens`));
        assert.equal(api.ctx.config.tokens.tokenizer, id, 'the choice persists in subword.tokens.tokenizer');
      }
      // greeter.ts has Japanese text: the two encodings differ on it, so the test sees a real switch.
      assert.notEqual(seen.get('cl100k_base'), seen.get('o200k_base'));
      // A selection adds its own count.
      editor.selection = new vscode.Selection(0, 0, 0, editor.document.lineAt(0).text.length);
      const selExpected = (await engineTokenizer(api, 'o200k_base')).encode(editor.document.lineAt(0).text).length;
      await waitFor('selection count', () => api.status!.snapshot.selectionTokens === selExpected, 5000);
    } finally {
      await setSetting('subword.tokens.tokenizer', undefined);
      await closeAll();
    }
  }, { timeoutMs: 60_000 });

  test('Switch Tokenizer takes a user\'s tokenizer.json by path', async () => {
    const { api } = await subword();
    const file = join(api.ctx.extensionPath, 'test', 'fixtures', 'models', 'plain', 'tokenizer.json');
    const editor = await openWorkspaceFile('utils.js');
    try {
      assert.equal(await vscode.commands.executeCommand('subword.switchTokenizer', file), file);
      const expected = (await loadTokenizerFile(file, 'user')).encode(editor.document.getText()).length;
      await waitFor(`status bar to count ${expected} tokens with ${file}`, () => api.status!.snapshot.tokenizer === file && api.status!.snapshot.fileTokens === expected, 20_000);
      assert.match(api.status!.snapshot.text, /plain\/tokenizer\.json/);
    } finally {
      await setSetting('subword.tokens.tokenizer', undefined);
      await closeAll();
    }
  }, { timeoutMs: 60_000 });

  test('an unknown tokenizer id is refused with an error and changes nothing', async () => {
    const { api } = await subword();
    const before = api.ctx.config.tokens.tokenizer;
    const r = await vscode.commands.executeCommand('subword.switchTokenizer', 'no-such-tokenizer');
    assert.equal(r, undefined);
    assert.equal(api.ctx.config.tokens.tokenizer, before);
    assert.match(await readSubwordLog(api), /unknown tokenizer "no-such-tokenizer"/);
  });

  test('line and block overlays appear and follow an edit', async () => {
    const { api } = await subword();
    await vscode.commands.executeCommand('subword.switchTokenizer', 'o200k_base');
    await setSetting('subword.tokens.overlays', 'both');
    const tok = await engineTokenizer(api, 'o200k_base');
    const editor = await openUntitled('function alpha(x) {\n  return x * 2;\n}\n\nclass Beta {\n  go() {\n    return alpha(3);\n  }\n}\n', 'javascript');
    const uri = editor.document.uri;
    try {
      // Each label is the tokens of the pieces starting on its line (the engine's
      // incremental counter, built here from scratch), and together they add up
      // to the tokenizer's count of the whole text.
      const expectLine = (line: number) => String(new DocumentTokenCounter(tok as BpeTokenizer, editor.document.getText()).lineCount(line));
      await waitFor('line overlays', () => {
        const s = api.overlays!.snapshot(uri);
        return s && s.lines.length >= 7 && s.lines.find((l) => l.line === 1)?.text === expectLine(1);
      }, 20_000);
      const labels = api.overlays!.snapshot(uri)!.lines;
      for (const l of labels) assert.equal(l.text, expectLine(l.line), `line ${l.line}`);
      assert.equal(labels.reduce((n, l) => n + Number(l.text), 0), tok.encode(editor.document.getText()).length, 'labels add up to the exact total');
      assert.ok(!labels.some((l) => l.line === 3), 'a blank line gets no label');

      // Block totals above the function and the class (CodeLens from tree-sitter's spans).
      const lenses = await waitForValue('block lenses', async () => {
        const ls = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
        return ls?.some((l) => /in function alpha/.test(l.command?.title ?? '')) ? ls : undefined;
      }, 20_000);
      const alpha = lenses.find((l) => /in function alpha/.test(l.command?.title ?? ''))!;
      const alphaText = editor.document.getText(new vscode.Range(0, 0, 2, 1));
      assert.equal(alpha.command!.title, `${tok.encode(alphaText).length} tokens in function alpha`);
      assert.ok(lenses.some((l) => /tokens in class Beta/.test(l.command?.title ?? '')), lenses.map((l) => l.command?.title).join('; '));

      // An edit on line 1 updates its label.
      await editor.edit((b) => b.insert(new vscode.Position(1, 14), ' + someLongIdentifierName'));
      const after = expectLine(1);
      await waitFor(`line 1 label to become ${after}`, () => api.overlays!.snapshot(uri)!.lines.find((l) => l.line === 1)?.text === after, 5000);
      // And a line break shifts the labels below it.
      await editor.edit((b) => b.insert(new vscode.Position(0, 0), '// header comment\n'));
      await waitFor('labels shifted by the new line', () => api.overlays!.snapshot(uri)!.lines.find((l) => l.line === 2)?.text === after, 5000);

      // Overlays off: no labels.
      await setSetting('subword.tokens.overlays', 'off');
      await waitFor('labels gone', () => api.overlays!.snapshot(uri)!.lines.length === 0, 5000);
    } finally {
      await setSetting('subword.tokens.overlays', undefined);
      await setSetting('subword.tokens.tokenizer', undefined);
      await closeAll();
    }
  }, { timeoutMs: 60_000 });

  test('coloured tokens paint every token with alternating colours and never split a character', async () => {
    const { api } = await subword();
    await vscode.commands.executeCommand('subword.switchTokenizer', 'cl100k_base');
    const text = 'const greeting = "こんにちは 😀👍🏽";\nlet x = greeting.length;\n';
    const editor = await openUntitled(text, 'typescript');
    const uri = editor.document.uri;
    try {
      await setSetting('subword.tokens.coloredTokens', true);
      const snap = await waitForValue('coloured segments', () => {
        const s = api.overlays!.snapshot(uri);
        return s && s.colouredSegments > 0 ? s : undefined;
      }, 20_000);
      const colours = new Set(snap.colouredRanges.map((r) => r.colour));
      assert.ok(colours.size >= 3, `only ${colours.size} colours`);
      // Segments tile the text and neighbours differ in colour.
      const ranges = snap.colouredRanges;
      assert.equal(ranges[0]!.start, 0);
      assert.equal(ranges[ranges.length - 1]!.end, text.length);
      for (let i = 1; i < ranges.length; i++) {
        assert.equal(ranges[i]!.start, ranges[i - 1]!.end);
        assert.notEqual(ranges[i]!.colour, ranges[i - 1]!.colour);
        const c = text.charCodeAt(ranges[i]!.start);
        assert.ok(!(c >= 0xdc00 && c <= 0xdfff), `segment ${i} starts inside a surrogate pair`);
      }
      // cl100k splits emoji bytes across tokens: fewer segments than tokens.
      const tok = await engineTokenizer(api, 'cl100k_base');
      assert.ok(ranges.length < tok.encode(text).length, 'tokens that split a character were merged for display');
    } finally {
      await setSetting('subword.tokens.coloredTokens', undefined);
      await setSetting('subword.tokens.tokenizer', undefined);
      await closeAll();
    }
  }, { timeoutMs: 60_000 });

  test('the hover shows the token under the mouse, the identifier\'s pieces and a comparison table', async () => {
    const { api } = await subword();
    await vscode.commands.executeCommand('subword.switchTokenizer', 'o200k_base');
    const editor = await openWorkspaceFile('greeter.ts');
    try {
      const doc = editor.document;
      const line = doc.getText().split('\n').findIndex((l) => l.includes('increment(step'));
      assert.ok(line >= 0);
      const col = doc.lineAt(line).text.indexOf('increment') + 3;
      const tok = await engineTokenizer(api, 'o200k_base');
      await api.tokens!.whenActive();
      // Load one compared tokenizer so the table has a second row.
      await api.tokens!.catalog.get('cl100k_base');
      const hovers = await waitForValue('a Subword hover', async () => {
        const hs = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(line, col));
        return hs?.find((h) => h.contents.some((c) => (typeof c === 'string' ? c : c.value).includes('**Token**'))) ? hs : undefined;
      }, 20_000);
      const md = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
      const info = api.hover!.last!;
      assert.equal(info.tokenizer, 'o200k_base');
      assert.equal(info.identifier?.text, 'increment');
      assert.equal(info.identifier?.count, tok.encode('increment').length);
      assert.deepEqual(info.identifier?.pieces, tok.encode('increment').map((id) => new TextDecoder().decode(tok.tokenBytes(id))));
      const under = info.tokens[0]!;
      assert.ok('increment'.includes(under.text.trim()) && under.text.trim().length > 0, `token under the mouse: ${JSON.stringify(under.text)}`);
      assert.match(md, new RegExp(`id ${under.id}`));
      assert.match(md, /\| Tokenizer \|/);
      assert.ok(info.compare.some((c) => c.id === 'cl100k_base'), 'cl100k_base row');
      assert.equal(info.lineTokens, tok.encode(doc.lineAt(line).text).length);
    } finally {
      await setSetting('subword.tokens.tokenizer', undefined);
      await closeAll();
    }
  }, { timeoutMs: 60_000 });

  test('Count Tokens counts the selection under the active and the compared tokenizers', async () => {
    const { api } = await subword();
    await vscode.commands.executeCommand('subword.switchTokenizer', 'o200k_base');
    const editor = await openUntitled('def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\n', 'python');
    try {
      editor.selection = new vscode.Selection(1, 4, 1, 30);
      const selected = editor.document.getText(editor.selection);
      const r = await vscode.commands.executeCommand<CountResult>('subword.countTokens', { quiet: true });
      assert.equal(r.target, 'selection');
      assert.equal(r.rows[0]!.id, 'o200k_base');
      for (const row of r.rows) {
        if (row.id === 'model' || row.error) continue;
        assert.equal(row.tokens, (await engineTokenizer(api, row.id)).encode(selected).length, row.id);
      }
      assert.ok(r.rows.some((row) => row.id === 'cl100k_base' && row.tokens !== undefined));
    } finally {
      await setSetting('subword.tokens.tokenizer', undefined);
      await closeAll();
    }
  }, { timeoutMs: 90_000 });

  test('typing mid-identifier yields an inline completion from the real model, inserted at the cursor', async () => {
    const { api } = await subword();
    const bundled = bundledModelDir(api.ctx.extensionPath);
    // The bundled model when it is in the tree; otherwise a real (tiny, random) ONNX model folder.
    const useFixture = !existsSync(join(bundled, 'model.onnx'));
    if (useFixture) await setSetting('subword.model.path', join(api.ctx.extensionPath, 'test', 'fixtures', 'models', 'plain'));
    const editor = await openUntitled('function greet(name) {\n  const message = "Hello, " + name;\n  return mes', 'javascript');
    try {
      await waitFor('the model to load', () => api.session!.status.kind === 'ready' || api.session!.status.kind === 'error', 60_000);
      assert.equal(api.session!.status.kind, 'ready', JSON.stringify(api.session!.status));
      const doc = editor.document;
      const pos = doc.lineAt(2).range.end;
      editor.selection = new vscode.Selection(pos, pos);
      const cts = new vscode.CancellationTokenSource();
      const before = api.inline!.stats.requests;
      const items = await api.inline!.provideInlineCompletionItems(doc, pos, { triggerKind: vscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined }, cts.token);
      assert.equal(api.inline!.stats.requests, before + 1);
      assert.ok(items && items.length === 1, `no item (stats ${JSON.stringify(api.inline!.stats)})`);
      const item = items[0]!;
      assert.ok(item.range?.isEmpty && item.range.start.isEqual(pos), 'an insertion at the cursor');
      const insert = typeof item.insertText === 'string' ? item.insertText : item.insertText.value;
      assert.ok(insert.trim().length > 0, 'never whitespace-only');
      const st = api.inline!.stats;
      console.log(`subword: first completion ${JSON.stringify(insert)}: engine ${st.lastEngineMs?.toFixed(1)} ms (${st.lastEngineWallMs?.toFixed(1)} ms seen from the provider, with the worker hop), provider's own work ${st.lastOverheadMs?.toFixed(2)} ms`);
      // Asking again for the same place is served from the engine's cache.
      const again = await api.inline!.provideInlineCompletionItems(doc, pos, { triggerKind: vscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined }, cts.token);
      assert.equal(typeof again?.[0]?.insertText === 'string' ? again[0].insertText : undefined, insert);
      // A cancelled request returns nothing.
      const cancelled = new vscode.CancellationTokenSource();
      cancelled.cancel();
      assert.equal(await api.inline!.provideInlineCompletionItems(doc, pos, { triggerKind: vscode.InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined }, cancelled.token), undefined);
      // Typing the first character of the ghost text is served from the engine without a model call.
      const first = insert.match(/^[A-Za-z0-9_]/)?.[0];
      if (first) {
        const engine = api.session!.engine!;
        const before = { ...engine.counters };
        await editor.edit((b) => b.insert(pos, first));
        const next = pos.translate(0, 1);
        const through = await api.inline!.provideInlineCompletionItems(doc, next, { triggerKind: vscode.InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined }, cts.token);
        const rest = through?.[0]?.insertText;
        assert.equal(rest, insert.slice(1), 'the rest of the same completion');
        assert.equal(engine.counters.typedThrough, before.typedThrough + 1, 'answered by the typed-through shortcut');
        assert.equal(api.inline!.stats.lastDelayMs, 0, 'no debounce for a type-through');
      }
      // A second, uncached completion (warm worker) elsewhere, for the timings.
      const other = new vscode.Position(1, doc.lineAt(1).text.indexOf('message') + 3);
      const warm = await api.inline!.provideInlineCompletionItems(doc, other, { triggerKind: vscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined }, cts.token);
      console.log(`subword: warm completion (${warm?.length ? 'shown' : 'empty'}): engine ${st.lastEngineMs?.toFixed(1)} ms (${st.lastEngineWallMs?.toFixed(1)} ms seen from the provider)`);
      // Completions off for this language: the provider does not ask the engine.
      await setSetting('subword.completion.languages', { '*': true, javascript: false });
      try {
        await waitFor('the language switch', () => api.ctx.config.completion.languages.javascript === false, 5000);
        const requests = api.inline!.stats.requests;
        assert.equal(await api.inline!.provideInlineCompletionItems(doc, pos, { triggerKind: vscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined }, cts.token), undefined);
        assert.equal(api.inline!.stats.requests, requests);
      } finally {
        await setSetting('subword.completion.languages', undefined);
      }
    } finally {
      if (useFixture) await setSetting('subword.model.path', undefined);
      await closeAll();
    }
  }, { timeoutMs: 120_000 });

  test('a broken model path shows the error, and token counts still work', async () => {
    const { api } = await subword();
    const editor = await openWorkspaceFile('greeter.ts');
    try {
      await setSetting('subword.model.path', '/nonexistent/subword-model');
      await waitFor('the model error', () => api.session!.status.kind === 'error', 20_000);
      await waitFor('the status bar to show the error', () => api.status!.snapshot.model === 'error' && /error/.test(api.status!.snapshot.tooltip), 5000);
      assert.match(await readSubwordLog(api), /\/nonexistent\/subword-model/);
      // Counts go on (the model tokenizer falls back to the bundled model's, or to o200k_base).
      await waitFor('a file count despite the broken model', () => api.status!.snapshot.fileTokens !== undefined && api.status!.snapshot.fileTokens > 0, 20_000);
      const r = await vscode.commands.executeCommand<CountResult>('subword.countTokens', { quiet: true });
      assert.ok(r.rows[0]!.tokens! > 0);
      assert.ok(editor.document.getText().length > 0);
    } finally {
      await setSetting('subword.model.path', undefined);
      await closeAll();
    }
    if (existsSync(join(bundledModelDir(api.ctx.extensionPath), 'model.onnx'))) {
      await waitFor('the model to come back after the path is cleared', () => api.session!.status.kind !== 'error', 20_000);
    }
  }, { timeoutMs: 60_000 });
  test('a file over subword.tokens.maxFileSizeKB shows the file total only', async () => {
    const { api } = await subword();
    await vscode.commands.executeCommand('subword.switchTokenizer', 'o200k_base');
    const text = 'const value = compute(1, 2, 3);\n'.repeat(100); // about 3 KB
    const editor = await openUntitled(text, 'javascript');
    const uri = editor.document.uri;
    try {
      await setSetting('subword.tokens.overlays', 'both');
      await setSetting('subword.tokens.maxFileSizeKB', 1);
      const tok = await engineTokenizer(api, 'o200k_base');
      await waitFor('the exact total in the status bar', () => api.status!.snapshot.fileTokens === tok.encode(text).length, 20_000);
      await waitFor('no line labels', () => api.overlays!.snapshot(uri)?.lines.length === 0, 5000);
      assert.match(api.status!.snapshot.tooltip, /total only/);
      await setSetting('subword.tokens.maxFileSizeKB', undefined);
      await waitFor('line labels back under the default cap', () => (api.overlays!.snapshot(uri)?.lines.length ?? 0) > 50, 20_000);
    } finally {
      await setSetting('subword.tokens.maxFileSizeKB', undefined);
      await setSetting('subword.tokens.overlays', undefined);
      await setSetting('subword.tokens.tokenizer', undefined);
      await closeAll();
    }
  }, { timeoutMs: 60_000 });

  test('hostile text (NUL, lone surrogates, tabs, a 150,000-character line) never throws or hangs', async () => {
    const { api } = await subword();
    await vscode.commands.executeCommand('subword.switchTokenizer', 'o200k_base');
    const content = 'a\u0000b\ud800c\tx \udc00\n' + 'x'.repeat(150_000) + '\nconst ok = 1; // 😀\n';
    const logBefore = (await readSubwordLog(api)).length;
    const editor = await openUntitled(content, 'javascript');
    const doc = editor.document;
    try {
      await setSetting('subword.tokens.overlays', 'both');
      await setSetting('subword.tokens.coloredTokens', true);
      const tok = await engineTokenizer(api, 'o200k_base');
      await waitFor('the exact total', () => api.status!.snapshot.fileTokens === tok.encode(doc.getText()).length, 30_000);
      assert.match(api.status!.snapshot.tooltip, /total only/, 'a 150K-character line makes it a total-only document');
      const t0 = performance.now();
      for (const pos of [new vscode.Position(0, 1), new vscode.Position(0, 3), new vscode.Position(1, 75_000), new vscode.Position(2, 16)]) {
        await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos);
      }
      const hoverMs = performance.now() - t0;
      assert.ok(hoverMs < 5000, `four hovers took ${hoverMs.toFixed(0)} ms`);
      await editor.edit((b) => b.insert(new vscode.Position(1, 70_000), 'y\u0000'));
      await waitFor('the total after an edit', () => api.status!.snapshot.fileTokens === tok.encode(doc.getText()).length, 30_000);
      assert.doesNotMatch((await readSubwordLog(api)).slice(logBefore), /failed|TypeError|RangeError|\[error\]/);
    } finally {
      await setSetting('subword.tokens.coloredTokens', undefined);
      await setSetting('subword.tokens.overlays', undefined);
      await setSetting('subword.tokens.tokenizer', undefined);
      await closeAll();
    }
  }, { timeoutMs: 90_000 });

  test('Select Model refuses a folder that is not a model, with a clear error, and accepts a real one', async () => {
    const { api } = await subword();
    const bad = join(api.ctx.extensionPath, 'test', 'fixtures', 'workspace');
    const r = await vscode.commands.executeCommand('subword.selectModel', bad);
    assert.equal(r, undefined);
    assert.equal(api.ctx.config.model.path, '', 'the setting is unchanged');
    assert.match(await readSubwordLog(api), /workspace is not a usable model folder: .*model\.onnx/);
    const good = join(api.ctx.extensionPath, 'test', 'fixtures', 'models', 'plain');
    try {
      assert.equal(await vscode.commands.executeCommand('subword.selectModel', good), good);
      await waitFor('the new model to load', () => api.session!.modelDir === good && api.session!.status.kind === 'ready', 60_000);
    } finally {
      await setSetting('subword.model.path', undefined);
    }
  }, { timeoutMs: 90_000 });

  test('subword.model.bundled switches between the bundled models and the engine follows', async () => {
    const { api } = await subword();
    assert.equal(api.session!.modelDir, bundledModelDir(api.ctx.extensionPath), 'the default bundled model');
    const small = bundledModelDir(api.ctx.extensionPath, 'subword-code-small');
    try {
      await setSetting('subword.model.bundled', 'subword-code-small');
      await waitFor('subword-code-small to load', () => api.session!.modelDir === small && api.session!.status.kind !== 'loading', 60_000);
      assert.equal(api.session!.status.kind, 'ready', JSON.stringify(api.session!.status));
      // A name that is not a bundled model is reported and the default is used.
      await setSetting('subword.model.bundled', 'no-such-model');
      await waitFor('the default model again', () => api.session!.modelDir === bundledModelDir(api.ctx.extensionPath), 60_000);
      assert.match(await readSubwordLog(api), /subword\.model\.bundled/);
    } finally {
      await setSetting('subword.model.bundled', undefined);
    }
  }, { timeoutMs: 120_000 });

  test('ghost text shows mid-word in the editor and accepting the next word inserts part of it', async () => {
    const { api } = await subword();
    const bundled = bundledModelDir(api.ctx.extensionPath);
    const useFixture = !existsSync(join(bundled, 'model.onnx'));
    if (useFixture) await setSetting('subword.model.path', join(api.ctx.extensionPath, 'test', 'fixtures', 'models', 'plain'));
    const start = 'def total(items):\n    result = 0\n    for item in items:\n        result += ite';
    const editor = await openUntitled(start, 'python');
    try {
      await waitFor('the model to load', () => api.session!.status.kind === 'ready', 60_000);
      const end = editor.document.lineAt(3).range.end;
      editor.selection = new vscode.Selection(end, end);
      const shownBefore = api.inline!.stats.shown;
      // VS Code asks the provider itself when suggestions are triggered; the item it shows is ours.
      await waitFor('VS Code to request and receive an inline item', async () => {
        await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
        await new Promise((r) => setTimeout(r, 300));
        return api.inline!.stats.shown > shownBefore;
      }, 30_000);
      await new Promise((r) => setTimeout(r, 300));
      await vscode.commands.executeCommand('editor.action.inlineSuggest.acceptNextWord');
      const text = await waitForValue('part of the suggestion to be inserted', () => {
        const t = editor.document.getText();
        return t.length > start.length ? t : undefined;
      }, 5000);
      assert.ok(text.startsWith(start), 'what was typed stays');
      const inserted = text.slice(start.length);
      assert.ok(inserted.trim().length > 0, `inserted ${JSON.stringify(inserted)}`);
    } finally {
      if (useFixture) await setSetting('subword.model.path', undefined);
      await closeAll();
    }
  }, { timeoutMs: 120_000 });

  test('Subword opened no network connection during these tests', () => {
    const { extensionPath } = vscode.extensions.getExtension('subword.subword')!;
    const ours = connections.filter((c) => c.includes(join(extensionPath, 'dist')) || c.includes(join(extensionPath, 'src')));
    assert.deepEqual(ours, [], `connections from Subword's code:\n${ours.join('\n\n')}`);
  });
});
