/** Public surface of the syntax layer (tree-sitter in the loop). */
export * from './offsets';
export { GRAMMAR_SPECS, LANGUAGE_GRAMMARS, grammarSpecFor, type GrammarSpec } from './languages';
export { lexicalSpanAt, type SpanKind, type TokenSpan } from './lexical';
export { SyntaxService, fromEditorChanges, pointAt, type EditorContentChange, type ParsedText, type SyntaxLanguage, type SyntaxServiceOptions, type SyntaxView, type TextChange } from './service';
export { identifierSpanAt, spanBytes } from './spans';
export { blockSpans, lexicalBlockSpans, type BlockKind, type BlockSpan, type BlockSpanOptions } from './blocks';
export * from './postprocess';
export * from './identifierTokens';
export * from './duplication';
