import * as vscode from 'vscode';
import { COMMANDS, type CommandId } from './commandIds';
import type { Ctx } from './ctx';

export type CommandHandler = (...args: unknown[]) => unknown;

/**
 * Registers a handler for every id in COMMANDS. A missing handler is a
 * programming error caught by the manifest test, so it throws here loudly.
 * Every handler is wrapped so an exception is logged with its cause and shown
 * once, never swallowed.
 */
export function registerCommands(ctx: Ctx, handlers: Record<CommandId, CommandHandler>): void {
  for (const { id } of COMMANDS) {
    const handler = handlers[id];
    if (!handler) throw new Error(`No handler for contributed command ${id}`);
    ctx.pushExtension(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        const started = performance.now();
        try {
          return await handler(...args);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          ctx.log.error(`Command ${id} failed: ${message}`);
          if (err instanceof Error) ctx.log.error(err);
          void vscode.window.showErrorMessage(`Subword: ${message}`);
          return undefined;
        } finally {
          ctx.log.trace(`Command ${id} took ${(performance.now() - started).toFixed(1)} ms`);
        }
      }),
    );
  }
}

/** Flips a boolean setting at the user level and returns the new value. */
export async function toggleBooleanSetting(id: string): Promise<boolean> {
  const [section, key] = splitId(id);
  const cfg = vscode.workspace.getConfiguration(section);
  const next = !cfg.get<boolean>(key);
  await cfg.update(key, next, vscode.ConfigurationTarget.Global);
  return next;
}

/** Sets a setting at the user level. */
export async function updateSetting(id: string, value: unknown): Promise<void> {
  const [section, key] = splitId(id);
  await vscode.workspace.getConfiguration(section).update(key, value, vscode.ConfigurationTarget.Global);
}

function splitId(id: string): [string, string] {
  const dot = id.lastIndexOf('.');
  return [id.slice(0, dot), id.slice(dot + 1)];
}

/** The status-bar menu: a QuickPick over the Subword commands. */
export async function showMenu(): Promise<unknown> {
  const items = COMMANDS.filter((c) => c.inMenu).map((c) => ({ label: c.title, id: c.id }));
  const pick = await vscode.window.showQuickPick(items, { title: 'Subword', placeHolder: 'Choose a Subword command' });
  if (!pick) return undefined;
  return vscode.commands.executeCommand(pick.id);
}
