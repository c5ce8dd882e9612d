/**
 * Public surface of the syntax layer (tree-sitter in the loop).
 *
 * Wiring, for the editor and the completion pipeline:
 *  - one SyntaxService per extension/CLI run, given the package's grammars/
 *    folder and a Logger (and runtimeWasm when web-tree-sitter.wasm is not
 *    next to the bundle); dispose() it on deactivation;
 *  - documents: openDocument(uri, languageId, text) on open,
 *    updateDocument(uri, fromEditorChanges(event.contentChanges)) on change,
 *    closeDocument(uri) on close; documentView(uri) gives { text, tree,
 *    treeAt } for identifierSpanAt, blockSpans, identifierTokensAt,
 *    mostFragmentedIdentifiers (all offsets UTF-16; spanBytes/offsets.ts
 *    convert to UTF-8 bytes for tokenizers). Long Python documents keep
 *    per-block trees (chunks.ts): treeAt(offset) is current after every
 *    update, `tree` (the whole file) is re-parsed when read;
 *  - completion: createStopAt(ctx) as BoundaryRequest.stopAt, then
 *    finalizeCompletion(ctx, candidates, service.errorCounter(languageId))
 *    (or service.finalize(ctx, candidates)) on what was generated.
 * Without a grammar (C, PowerShell, a grammar that failed to load, a parse
 * out of time) every function answers from the lexical scanner instead.
 */
export * from './offsets';
export { GRAMMAR_SPECS, LANGUAGE_GRAMMARS, grammarSpecFor, type GrammarSpec } from './languages';
export { lexicalSpanAt, type SpanKind, type TokenSpan } from './lexical';
export { SyntaxService, fromEditorChanges, pointAt, type EditorContentChange, type ParsedText, type SyntaxLanguage, type SyntaxServiceOptions, type SyntaxView, type TextChange } from './service';
export { identifierSpanAt, spanBytes } from './spans';
export { blockSpans, lexicalBlockSpans, type BlockKind, type BlockSpan, type BlockSpanOptions } from './blocks';
export * from './postprocess';
export * from './identifierTokens';
export * from './duplication';
