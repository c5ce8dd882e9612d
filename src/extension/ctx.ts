import * as vscode from 'vscode';
import type { Logger } from '../engine/log';
import { ConfigReader } from './config';
import type { SubwordConfig } from './settings';

/**
 * Everything the extension's parts share, passed explicitly instead of a
 * global singleton. Two cleanup lists: `extensionDisposables` live until
 * deactivation; `sessionDisposables` belong to the current model/tokenizer
 * choice and are disposed whenever that choice changes.
 */
export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly logger: Logger;
  readonly configReader: ConfigReader;
  private current: SubwordConfig;
  private readonly extensionDisposables: vscode.Disposable[] = [];
  private sessionDisposables: vscode.Disposable[] = [];
  private readonly configListeners: Array<(config: SubwordConfig, previous: SubwordConfig) => void> = [];

  constructor(readonly extensionContext: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Subword', { log: true });
    this.pushExtension(this.log);
    const log = this.log;
    this.logger = {
      trace: (m) => log.trace(m),
      debug: (m) => log.debug(m),
      info: (m) => log.info(m),
      warn: (m) => log.warn(m),
      error: (m) => log.error(m),
    };
    this.configReader = new ConfigReader(this.logger, (message) => {
      void vscode.window.showWarningMessage(`Subword: ${message}`);
    });
    this.current = this.configReader.read();
    this.pushExtension(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('subword')) this.reloadConfig();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.reloadConfig()),
    );
  }

  get config(): SubwordConfig {
    return this.current;
  }

  get extensionPath(): string {
    return this.extensionContext.extensionPath;
  }

  onConfigChange(listener: (config: SubwordConfig, previous: SubwordConfig) => void): void {
    this.configListeners.push(listener);
  }

  pushExtension(...disposables: vscode.Disposable[]): void {
    this.extensionDisposables.push(...disposables);
  }

  pushSession(...disposables: vscode.Disposable[]): void {
    this.sessionDisposables.push(...disposables);
  }

  /** Disposes everything tied to the current model/tokenizer choice. */
  resetSession(): void {
    disposeAll(this.sessionDisposables, this.logger);
    this.sessionDisposables = [];
  }

  private reloadConfig(): void {
    const previous = this.current;
    this.current = this.configReader.read();
    this.log.info('Settings changed');
    for (const listener of this.configListeners) {
      try {
        listener(this.current, previous);
      } catch (err) {
        this.log.error(err instanceof Error ? err : String(err));
      }
    }
  }

  dispose(): void {
    this.resetSession();
    disposeAll(this.extensionDisposables.reverse(), this.logger);
  }
}

function disposeAll(disposables: vscode.Disposable[], logger: Logger): void {
  for (const d of disposables) {
    try {
      d.dispose();
    } catch (err) {
      logger.error(err instanceof Error ? err : String(err));
    }
  }
}
