/**
 * Switch Tokenizer, Select Model and Count Tokens: the commands that work
 * with tokenizers and model folders.
 */
import * as vscode from 'vscode';
import { describeError } from '../engine/log';
import { BUNDLED_MODELS } from '../engine/models';
import { locateModelFolder } from '../engine/model/manifest';
import { utf8Length } from '../engine/syntax/offsets';
import { updateSetting } from './commands';
import type { Ctx } from './ctx';
import { groupDigits } from './format';
import type { TokenService } from './tokens';

/** Subword: Switch Tokenizer. With an id argument (tests, keybindings) no picker is shown. */
export async function switchTokenizer(ctx: Ctx, tokens: TokenService, arg?: unknown): Promise<string | undefined> {
  let id = typeof arg === 'string' ? arg : undefined;
  if (id === undefined) {
    const current = tokens.activeId;
    const items = tokens.catalog.list().map((t) => ({
      label: `${t.id === current ? '$(check) ' : ''}${t.displayName}`,
      description: `${t.id}${t.vocabSize ? ` · ${groupDigits(t.vocabSize)} ids` : ''}`,
      detail: `${t.exact ? 'exact' : 'approximate'} · ${t.source}`,
      id: t.id,
    }));
    const fileItem = { label: '$(file) Choose a tokenizer.json file…', description: 'any Hugging Face BPE tokenizer', detail: undefined as string | undefined, id: '' };
    const pick = await vscode.window.showQuickPick([...items, fileItem], {
      title: 'Subword: Switch Tokenizer',
      placeHolder: 'Tokenizer for token counts, overlays and the hover',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (!pick) return undefined;
    id = pick.id;
    if (pick === fileItem) {
      const file = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectMany: false, filters: { 'tokenizer.json': ['json'] }, openLabel: 'Use this tokenizer' });
      if (!file?.[0]) return undefined;
      id = file[0].fsPath;
    }
  }
  if (!tokens.catalog.has(id)) throw new Error(`unknown tokenizer "${id}"; known: ${tokens.catalog.list().map((t) => t.id).join(', ')}`);
  await persistTokenizer(id);
  // Do not wait for the settings event: switch now so the caller sees the new counts.
  if (tokens.activeId !== id) await tokens.reset(id);
  else await tokens.whenActive();
  ctx.log.info(`Tokenizer switched to ${id}`);
  return id;
}

/**
 * Saves the choice where it takes effect: at the user level, unless the
 * workspace (folder) sets the tokenizer itself, which would override it.
 */
async function persistTokenizer(id: string): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('subword.tokens');
  const where = cfg.inspect<string>('tokenizer');
  if (where?.workspaceFolderValue !== undefined && vscode.window.activeTextEditor) {
    const scoped = vscode.workspace.getConfiguration('subword.tokens', vscode.window.activeTextEditor.document.uri);
    await scoped.update('tokenizer', id, vscode.ConfigurationTarget.WorkspaceFolder);
  } else if (where?.workspaceValue !== undefined) {
    await cfg.update('tokenizer', id, vscode.ConfigurationTarget.Workspace);
  } else {
    await updateSetting('subword.tokens.tokenizer', id);
  }
}

/** Checks a model folder; returns a message saying what is wrong, or undefined when it looks usable. */
export function validateModelFolder(dir: string): string | undefined {
  try {
    locateModelFolder(dir);
    return undefined;
  } catch (err) {
    return describeError(err);
  }
}

/**
 * Subword: Select Model. A folder argument (string path or Uri) skips the
 * pickers; an empty string goes back to the bundled model.
 */
export async function selectModel(ctx: Ctx, arg?: unknown): Promise<string | undefined> {
  let dir: string | undefined = typeof arg === 'string' ? arg : arg instanceof vscode.Uri ? arg.fsPath : undefined;
  if (dir === undefined) {
    const choice = await vscode.window.showQuickPick(
      [
        { label: '$(folder-opened) Choose a model folder…', id: 'pick' },
        ...BUNDLED_MODELS.map((name) => ({ label: `$(package) Use the bundled model ${name}`, id: 'bundled', name })),
      ],
      { title: 'Subword: Select Model', placeHolder: ctx.config.model.path ? `Now: ${ctx.config.model.path}` : `Now: the bundled model ${ctx.config.model.bundled}` },
    );
    if (!choice) return undefined;
    if (choice.id === 'bundled') {
      dir = '';
      if ('name' in choice && choice.name !== ctx.config.model.bundled) await updateSetting('subword.model.bundled', choice.name);
    } else {
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        openLabel: 'Use this model',
        title: 'A folder with model.onnx and tokenizer.json',
      });
      if (!picked?.[0]) return undefined;
      dir = picked[0].fsPath;
    }
  }
  if (dir) {
    const problem = validateModelFolder(dir);
    if (problem) {
      const message = `${dir} is not a usable model folder: ${problem}`;
      ctx.log.error(message);
      void vscode.window.showErrorMessage(`Subword: ${message}`);
      return undefined;
    }
  }
  await updateSetting('subword.model.path', dir);
  ctx.log.info(dir ? `Model folder set to ${dir}` : 'Using the bundled model');
  return dir;
}

export interface CountRow {
  readonly id: string;
  readonly name: string;
  readonly tokens?: number;
  readonly error?: string;
}

export interface CountResult {
  readonly target: 'selection' | 'file' | 'range';
  readonly chars: number;
  readonly bytes: number;
  /** The active tokenizer first, then the model's, then subword.tokens.compareWith. */
  readonly rows: readonly CountRow[];
}

/**
 * Subword: Count Tokens in Selection or File, under the active tokenizer and
 * the model's own and each one in subword.tokens.compareWith. Arguments (uri, range) count a
 * range (the block overlays pass them); `{ quiet: true }` skips the picker.
 */
export async function countTokens(ctx: Ctx, tokens: TokenService, ...args: unknown[]): Promise<CountResult | undefined> {
  const quiet = args.some((a) => typeof a === 'object' && a !== null && (a as { quiet?: unknown }).quiet === true);
  let doc = vscode.window.activeTextEditor?.document;
  let text: string;
  let target: CountResult['target'];
  const [uriArg, rangeArg] = args;
  if (uriArg instanceof vscode.Uri) doc = await vscode.workspace.openTextDocument(uriArg);
  if (!doc) throw new Error('no open editor to count');
  if (rangeArg instanceof vscode.Range) {
    text = doc.getText(rangeArg);
    target = 'range';
  } else {
    const editor = vscode.window.activeTextEditor;
    const sel = editor && editor.document === doc ? editor.selections.filter((s) => !s.isEmpty) : [];
    text = sel.length ? sel.map((s) => doc.getText(s)).join('') : doc.getText();
    target = sel.length ? 'selection' : 'file';
  }
  const ids = tokens.comparisonIds();
  const rows = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Subword: counting tokens' }, async () => {
    const out: CountRow[] = [];
    for (const id of ids) {
      const name = tokens.catalog.info(id)?.displayName ?? id;
      try {
        const tok = await tokens.catalog.get(id);
        out.push({ id, name, tokens: tok.encode(text).length });
      } catch (err) {
        out.push({ id, name, error: describeError(err) });
      }
    }
    return out;
  });
  const result: CountResult = { target, chars: text.length, bytes: utf8Length(text), rows };
  const first = rows[0];
  ctx.log.info(`Count (${target}, ${result.chars} chars): ${rows.map((r) => `${r.id}=${r.tokens ?? r.error}`).join(', ')}`);
  if (!quiet) void showCount(result, first);
  return result;
}

async function showCount(result: CountResult, first: CountRow | undefined): Promise<void> {
  const base = first?.tokens;
  const items: vscode.QuickPickItem[] = result.rows.map((r) => ({
    label: r.tokens !== undefined ? `${groupDigits(r.tokens)} tokens` : '$(error) unavailable',
    description: `${r.name} (${r.id})`,
    detail:
      r.error ??
      [
        base && r.tokens !== undefined && r !== first ? `${((r.tokens / base) * 100).toFixed(0)}% of ${first!.id}` : undefined,
        r.tokens ? `${(result.chars / r.tokens).toFixed(2)} chars/token` : undefined,
        r.tokens ? `${(result.bytes / r.tokens).toFixed(2)} bytes/token` : undefined,
      ]
        .filter(Boolean)
        .join(' · '),
  }));
  await vscode.window.showQuickPick(items, {
    title: `Subword: tokens in the ${result.target} (${groupDigits(result.chars)} characters, ${groupDigits(result.bytes)} bytes)`,
    placeHolder: "Token counts under the active tokenizer, the model's and subword.tokens.compareWith",
  });
}
