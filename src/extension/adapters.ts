/**
 * From VS Code's documents (UTF-16 positions) to the engine (strings cut at
 * the cursor, UTF-8 byte offsets, line edits), in ONE place. Everything in
 * src/extension that hands document text or positions to the engine goes
 * through here.
 */
import * as vscode from 'vscode';
import type { CompletionRequest } from '../engine/completion/core';
import { fromEditorChanges, type TextChange } from '../engine/syntax/service';
import { utf16ToUtf8, utf8ToUtf16 } from '../engine/syntax/offsets';
import type { LineEdit } from './documentTokens';
import { PREFIX_CHARS, splitAtCursor, SUFFIX_CHARS } from './text';


/** A workspace-relative path for FIM formats that carry a file name. */
export function relativePath(doc: vscode.TextDocument): string | undefined {
  if (doc.isUntitled) return undefined;
  return vscode.workspace.asRelativePath(doc.uri, false);
}

/** The engine request for a cursor in a document. */
export function completionRequest(
  doc: vscode.TextDocument,
  position: vscode.Position,
  options: Pick<CompletionRequest, 'boundary' | 'maxTokens' | 'maxLines' | 'temperature' | 'topP' | 'ensemble' | 'joinWait'>,
): CompletionRequest {
  const offset = doc.offsetAt(position);
  // Read only the window around the cursor, not the whole document.
  const start = doc.positionAt(Math.max(0, offset - PREFIX_CHARS - 1));
  const end = doc.positionAt(offset + SUFFIX_CHARS + 1);
  const windowText = doc.getText(new vscode.Range(start, end));
  const { prefix, suffix } = splitAtCursor(windowText, offset - doc.offsetAt(start));
  return { prefix, suffix, languageId: doc.languageId, path: relativePath(doc), ...options };
}

/** The text of the line before the cursor (typed-through detection). */
export function linePrefix(doc: vscode.TextDocument, position: vscode.Position): string {
  return doc.lineAt(position.line).text.slice(0, position.character);
}

/**
 * VS Code's content changes as line edits. The changes of one event all refer
 * to the text before it; sorted by descending offset, each also refers to the
 * text left by the previous one, which is how DocumentTokens applies them.
 */
export function lineEdits(changes: readonly vscode.TextDocumentContentChangeEvent[]): LineEdit[] {
  return [...changes].sort((a, b) => b.rangeOffset - a.rangeOffset).map((c) => ({
    startLine: c.range.start.line,
    startCharacter: c.range.start.character,
    endLine: c.range.end.line,
    endCharacter: c.range.end.character,
    offset: c.rangeOffset,
    length: c.rangeLength,
    text: c.text,
  }));
}

/**
 * VS Code's content changes as the syntax service's text changes. Each
 * change of one event is relative to the text before the event; sorted by
 * descending offset, each is also relative to the text left by the previous
 * one (what SyntaxService.updateDocument expects).
 */
export function syntaxChanges(changes: readonly vscode.TextDocumentContentChangeEvent[]): TextChange[] {
  // VS Code's change events already have the shape the engine's converter reads.
  return fromEditorChanges(changes);
}

/** UTF-8 byte offset of a character position within its line's text. */
export function byteInLine(lineText: string, character: number): number {
  return utf16ToUtf8(lineText, character);
}

/** Character position (UTF-16) of a byte offset within a line's text. */
export function characterInLine(lineText: string, byte: number): number {
  return utf8ToUtf16(lineText, byte);
}

/** A stable key for per-document state. */
export function docKey(doc: vscode.TextDocument | vscode.Uri): string {
  return ('uri' in doc ? doc.uri : doc).toString();
}
