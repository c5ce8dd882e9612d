import * as vscode from 'vscode';
import { describeError } from '../engine/log';
import { ENGINE_VERSION } from '../engine/version';
import { registerCommands, showMenu, toggleBooleanSetting, updateSetting } from './commands';
import { Ctx } from './ctx';

let activeCtx: Ctx | undefined;

/** What `activate` returns: a small API the integration tests (and other extensions) can use. */
export interface SubwordApi {
  readonly ctx: Ctx;
}

export function activate(context: vscode.ExtensionContext): SubwordApi | undefined {
  const started = performance.now();
  let ctx: Ctx;
  try {
    ctx = new Ctx(context);
  } catch (err) {
    // Activation must never throw: report and leave the editor untouched.
    void vscode.window.showErrorMessage(`Subword failed to start: ${describeError(err)}`);
    return undefined;
  }
  activeCtx = ctx;
  context.subscriptions.push(ctx);
  try {
    registerCommands(ctx, {
      'subword.showMenu': () => showMenu(),
      'subword.showLog': () => ctx.log.show(true),
      'subword.toggleInlineCompletions': () => toggleBooleanSetting('subword.completion.enabled'),
      'subword.toggleColoredTokens': () => toggleBooleanSetting('subword.tokens.coloredTokens'),
      'subword.toggleTokenOverlays': async () => {
        const next = ctx.config.tokens.overlays === 'off' ? 'both' : 'off';
        await updateSetting('subword.tokens.overlays', next);
        return next;
      },
      'subword.switchTokenizer': () => notYet(ctx, 'Switch Tokenizer'),
      'subword.selectModel': () => notYet(ctx, 'Select Model'),
      'subword.countTokens': () => notYet(ctx, 'Count Tokens'),
    });
    ctx.log.info(
      `Subword ${String(context.extension.packageJSON.version)} (engine ${ENGINE_VERSION}) activated in ${(performance.now() - started).toFixed(1)} ms`,
    );
  } catch (err) {
    ctx.log.error(`Activation failed: ${describeError(err)}`);
    void vscode.window.showErrorMessage(`Subword: activation failed: ${describeError(err)} (see Subword log)`);
  }
  return { ctx };
}

function notYet(ctx: Ctx, what: string): undefined {
  ctx.log.warn(`${what} is not available in this build yet.`);
  void vscode.window.showInformationMessage(`Subword: ${what} is not available in this build yet.`);
  return undefined;
}

export function deactivate(): void {
  activeCtx?.dispose();
  activeCtx = undefined;
}
