/** Public surface of the Subword engine (pure TypeScript, no `vscode`). */
export * from './log';
export { ENGINE_VERSION } from './version';
/** Tree-sitter in the loop: spans, merging, stop rules, block spans, offsets (src/engine/syntax). */
export * as syntax from './syntax';
