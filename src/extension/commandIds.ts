/**
 * Every command Subword contributes. Pure data (no `vscode` import) so that
 * tools/gen-manifest.ts can write package.json from it and a test can check
 * that the manifest and the registered handlers agree.
 */
export interface CommandSpec {
  readonly id: `subword.${string}`;
  readonly title: string;
  /** Shown in the status-bar menu. */
  readonly inMenu: boolean;
}

export const COMMANDS = [
  { id: 'subword.showMenu', title: 'Show Menu', inMenu: false },
  { id: 'subword.switchTokenizer', title: 'Switch Tokenizer', inMenu: true },
  { id: 'subword.selectModel', title: 'Select Model', inMenu: true },
  { id: 'subword.toggleInlineCompletions', title: 'Toggle Inline Completions', inMenu: true },
  { id: 'subword.toggleTokenOverlays', title: 'Toggle Token Overlays', inMenu: true },
  { id: 'subword.toggleColoredTokens', title: 'Toggle Colored Tokens', inMenu: true },
  { id: 'subword.countTokens', title: 'Count Tokens in Selection or File', inMenu: true },
  { id: 'subword.showLog', title: 'Show Log', inMenu: true },
] as const satisfies readonly CommandSpec[];

export type CommandId = (typeof COMMANDS)[number]['id'];

export const COMMAND_CATEGORY = 'Subword';
