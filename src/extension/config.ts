import * as vscode from 'vscode';
import { readSettings, type SettingProblem, type SubwordConfig } from './settings';
import type { Logger } from '../engine/log';

/**
 * Reads Subword's settings through the typed schema in settings.ts.
 * A bad value is reported once per (setting, value) pair, with the setting's
 * name, and the default is used instead; reading never throws.
 */
export class ConfigReader {
  private readonly reported = new Set<string>();

  constructor(
    private readonly log: Logger,
    private readonly notify: (message: string) => void,
  ) {}

  read(): SubwordConfig {
    const section = vscode.workspace.getConfiguration();
    const trusted = vscode.workspace.isTrusted;
    const { config, problems } = readSettings((id) => {
      if (id === 'subword.model.path' && !trusted) {
        // A workspace could point the model at an arbitrary file; only the
        // user's own (global) value counts until the workspace is trusted.
        return section.inspect<string>(id)?.globalValue;
      }
      return section.get(id);
    });
    for (const problem of problems) this.report(problem);
    return config;
  }

  private report(problem: SettingProblem): void {
    const key = `${problem.id}=${safeStringify(problem.value)}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const message = `Setting ${problem.id} has an invalid value ${safeStringify(problem.value)}: ${problem.reason}. Using the default instead.`;
    this.log.warn(message);
    this.notify(message);
  }
}

function safeStringify(value: unknown): string {
  try {
    const s = JSON.stringify(value);
    return s === undefined ? String(value) : s.length > 80 ? s.slice(0, 77) + '...' : s;
  } catch {
    return String(value);
  }
}
