import * as vscode from 'vscode';
import { describeError } from '../engine/log';
import { locateModelFolder } from '../engine/model/manifest';
import { loadTokenizerFile } from '../engine/model/tokenizerFile';
import { ENGINE_VERSION } from '../engine/version';
import { registerCommands, showMenu, toggleBooleanSetting, updateSetting } from './commands';
import { Ctx } from './ctx';
import { TokenHover } from './hover';
import { InlineProvider } from './inline';
import { EnsembleFeeder } from './ensembleFeed';
import { Overlays } from './overlays';
import { engineRegistry } from './registryBinding';
import { bundledModelDir, ModelSession } from './session';
import type { SubwordConfig } from './settings';
import { StatusBar } from './statusBar';
import { SyntaxTracker } from './syntax';
import { countTokens, selectModel, switchTokenizer } from './tokenCommands';
import { TokenizerCatalog, type ModelTokenizerSource } from './tokenizerCatalog';
import { TokenService } from './tokens';

let activeCtx: Ctx | undefined;

/** What `activate` returns: a small API the integration tests (and other extensions) can use. */
export interface SubwordApi {
  readonly ctx: Ctx;
  /** Token counts under the active tokenizer (and the tokenizer catalog). */
  readonly tokens?: TokenService;
  readonly status?: StatusBar;
  readonly overlays?: Overlays;
  readonly hover?: TokenHover;
  readonly inline?: InlineProvider;
  readonly session?: ModelSession;
  readonly syntax?: SyntaxTracker;
  /** Milliseconds activate() took. */
  readonly activationMs: number;
}

/** Where "model" in subword.tokens.tokenizer reads its tokenizer from: the configured model, then the bundled one. */
export function modelTokenizerSources(config: SubwordConfig, extensionPath: string): ModelTokenizerSource[] {
  const dirs = [config.model.path.trim(), bundledModelDir(extensionPath, config.model.bundled)].filter((d, i, all) => d && all.indexOf(d) === i);
  return dirs.map((dir) => ({
    label: dir,
    load: () => loadTokenizerFile(locateModelFolder(dir).tokenizerPath, 'model'),
  }));
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
  const api: { -readonly [K in keyof SubwordApi]: SubwordApi[K] } = { ctx, activationMs: 0 };
  try {
    const catalog = new TokenizerCatalog({
      registry: engineRegistry(ctx.extensionPath),
      modelSources: modelTokenizerSources(ctx.config, ctx.extensionPath),
      fallbackId: 'o200k_base',
      logger: ctx.logger,
    });
    const maxChars = () => ctx.config.tokens.maxFileSizeKB * 1024;
    // Created before the token service so its edit listener runs first: the
    // overlays then see an updated tree and updated counts together.
    const syntax = new SyntaxTracker(ctx, maxChars);
    const tokens = new TokenService(ctx, catalog);
    const session = new ModelSession(ctx);
    const status = new StatusBar(ctx, tokens, session);
    const overlays = new Overlays(ctx, tokens, syntax);
    const hover = new TokenHover(ctx, tokens, syntax);
    const inline = new InlineProvider(ctx, session);
    const ensembleFeed = new EnsembleFeeder(ctx, session);
    ctx.pushExtension(
      syntax,
      tokens,
      session,
      status,
      overlays,
      hover,
      inline,
      ensembleFeed,
      vscode.languages.registerInlineCompletionItemProvider([{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }], inline),
      inline.onDidShow(() => status.schedule()),
    );
    Object.assign(api, { tokens, status, overlays, hover, inline, session, syntax });

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
      'subword.switchTokenizer': (arg?: unknown) => switchTokenizer(ctx, tokens, arg),
      'subword.selectModel': (arg?: unknown) => selectModel(ctx, arg),
      'subword.countTokens': (...args: unknown[]) => countTokens(ctx, tokens, ...args),
    });

    ctx.onConfigChange((config, previous) => {
      const modelChanged =
        config.model.path !== previous.model.path ||
        config.model.bundled !== previous.model.bundled ||
        config.model.threads !== previous.model.threads ||
        config.model.contextWindow !== previous.model.contextWindow ||
        config.completion.enabled !== previous.completion.enabled ||
        config.completion.ensemble !== previous.completion.ensemble ||
        config.completion.ensembleCacheMB !== previous.completion.ensembleCacheMB;
      if (modelChanged) {
        // A new model is a new session: the old engine and its parts go.
        ctx.resetSession();
        catalog.setModelSources(modelTokenizerSources(config, ctx.extensionPath));
        session.restart(config);
        if (tokens.activeId === 'model') void tokens.reset();
      }
      if (config.tokens.tokenizer !== tokens.activeId || config.tokens.maxFileSizeKB !== previous.tokens.maxFileSizeKB) void tokens.reset(config.tokens.tokenizer);
      if (config.tokens.overlays !== previous.tokens.overlays || config.tokens.coloredTokens !== previous.tokens.coloredTokens) overlays.refreshAll();
      status.render();
    });

    session.restart(ctx.config);
    // The tokenizer loads off the activation path; counts appear when it is ready.
    setTimeout(() => void tokens.whenActive(), 0);
    api.activationMs = performance.now() - started;
    ctx.log.info(
      `Subword ${String(context.extension.packageJSON.version)} (engine ${ENGINE_VERSION}) activated in ${api.activationMs.toFixed(1)} ms`,
    );
  } catch (err) {
    ctx.log.error(`Activation failed: ${describeError(err)}`);
    void vscode.window.showErrorMessage(`Subword: activation failed: ${describeError(err)} (see Subword log)`);
  }
  return api;
}

export function deactivate(): void {
  activeCtx?.dispose();
  activeCtx = undefined;
}
