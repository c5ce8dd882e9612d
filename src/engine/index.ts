/** Public surface of the Subword engine (pure TypeScript, no `vscode`). */
export * from './log';
export { ENGINE_VERSION } from './version';
