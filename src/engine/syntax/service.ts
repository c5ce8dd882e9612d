/**
 * SyntaxService: loads tree-sitter grammars lazily by VS Code language id,
 * parses with a time bound, and keeps one incrementally updated tree per open
 * document. Everything that fails (a grammar that does not load, a parse that
 * runs out of time, a file that is too large) leaves the caller with no tree,
 * and the span/merge/stop functions fall back to the lexical scanner.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Edit, Language, Parser, type Point, type Range, type Tree } from 'web-tree-sitter';
import { describeError, performanceClock, type Clock, type Logger } from '../log';
import { ChunkedTrees } from './chunks';
import { grammarSpecFor, LANGUAGE_GRAMMARS, type GrammarSpec } from './languages';
import { errorCounterFrom, finalizeCompletion, type CompletionContext, type ErrorCounter, type RankedCandidate } from './postprocess';

export type { Tree, Node as SyntaxNode, Point } from 'web-tree-sitter';

/** A loaded grammar plus the node-type vocabulary for it. */
export interface SyntaxLanguage {
  readonly grammar: string;
  readonly spec: GrammarSpec;
  readonly language: Language;
}

/**
 * What the syntax functions read: the text, its language and, when a grammar
 * loaded and the parse finished in time, a tree of exactly that text.
 * Offsets everywhere are UTF-16 code units (see offsets.ts for bytes).
 */
export interface SyntaxView {
  readonly text: string;
  readonly languageId: string;
  readonly tree?: Tree;
  readonly spec?: GrammarSpec;
  /**
   * A tree whose nodes around `offset` are those of the current text: for a
   * long document of a grammar that re-parses slowly, the tree of the block
   * holding `offset` (kept current on every keystroke, see chunks.ts); else
   * `tree`. Use it for questions about one place (the span at the cursor);
   * walks over the whole file use `tree`.
   */
  treeAt?(offset: number): Tree | undefined;
}

/** A one-off parse result that owns its tree; call dispose() when done. */
export interface ParsedText extends SyntaxView {
  dispose(): void;
}

/** One text change, in UTF-16 offsets of the text before the change. */
export interface TextChange {
  readonly start: number;
  /** End (exclusive) of the replaced range. */
  readonly oldEnd: number;
  readonly text: string;
  /** Row/column (UTF-16) of start and oldEnd when the caller has them (VS Code does); else computed. */
  readonly startPosition?: Point;
  readonly oldEndPosition?: Point;
}

export interface SyntaxServiceOptions {
  /** Folder holding tree-sitter-<grammar>.wasm (the package's grammars/). */
  readonly grammarsDir: string;
  readonly logger: Logger;
  /**
   * Path of web-tree-sitter's own web-tree-sitter.wasm. Leave undefined when
   * it sits next to the script that loaded web-tree-sitter (dist/ for the
   * bundles, node_modules/web-tree-sitter under tsx).
   */
  readonly runtimeWasm?: string;
  readonly clock?: Clock;
  /** Budget of a one-off parse (completion post-processing); default 50 ms. */
  readonly parseTimeoutMs?: number;
  /** Budget of a document (re)parse; default 200 ms (a first parse of a big file). */
  readonly documentParseTimeoutMs?: number;
  /** Texts longer than this (UTF-16 units) are not parsed at all; default 3,000,000. */
  readonly maxParseLength?: number;
  /**
   * Re-parse the whole tree inside updateDocument (true) or when it is next
   * read (false, the default). Edits always reach the tree at once
   * (tree.edit, ~20 us), so node positions stay current on every keystroke;
   * the re-parse itself is deferred until someone reads the tree, because
   * for some grammars it is not O(edit): tree-sitter-python's whole-tree
   * re-parse grows with the file (~2-7 ms at 5,000 lines, ~37 ms at 40,000),
   * so a burst of keystrokes pays for one re-parse, not one each. Long
   * Python documents also keep per-block trees (chunkLines), re-parsed on
   * every update: SyntaxView.treeAt is current after each keystroke.
   */
  readonly eagerReparse?: boolean;
  /**
   * Per-block trees (chunks.ts) for documents of at least 8x this many
   * lines in a grammar whose re-parse grows with the file (Python): runs of
   * about this many lines, each re-parsed on the keystroke that touches it.
   * Default 100; 0 turns them off.
   */
  readonly chunkLines?: number;
}

/**
 * Grammars whose incremental re-parse walks every statement of the file
 * (measured: tree-sitter-python, see chunks.ts); the others re-parse in
 * time close to the edit's and keep one tree.
 */
const CHUNKED_GRAMMARS = new Set(['python']);

/**
 * Input of a parse: the text in slices. web-tree-sitter's own string input
 * hands over the whole rest of the text at each read and copies up to 10 KB
 * of it, and an incremental parse reads at every place it re-lexes
 * (measured: ~20% of a Python re-parse).
 */
function sliced(text: string): (index: number) => string {
  return (index) => {
    let end = index + 256;
    // The lexer decodes UTF-16 per slice: never end one between the halves of a surrogate pair.
    const last = text.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end++;
    return text.slice(index, end);
  };
}

interface DocumentState {
  languageId: string;
  text: string;
  tree?: Tree;
  /**
   * Set once a parse gave up (time or size): the document stays lexical until
   * replaceDocument/openDocument, instead of spending the budget again on
   * every view of a file that is simply too big.
   */
  gaveUp: boolean;
  /** The tree (if any) was edited but not re-parsed yet. */
  dirty: boolean;
  /** Per-block trees (long documents of CHUNKED_GRAMMARS), current after every update. */
  chunks?: ChunkedTrees;
}

// The engine's lib is ES2022 without DOM; Node has WebAssembly all the same.
declare const WebAssembly: { Module: new (bytes: Uint8Array) => unknown };

let runtimeReady: Promise<void> | undefined;

/** web-tree-sitter's runtime is process-wide: initialise it once. */
function initRuntime(runtimeWasm: string | undefined): Promise<void> {
  runtimeReady ??= Parser.init(
    runtimeWasm
      ? {
          locateFile: (name: string, dir: string) => (name.endsWith('.wasm') ? runtimeWasm : dir + name),
        }
      : undefined,
  ).catch((err: unknown) => {
    runtimeReady = undefined;
    throw err;
  });
  return runtimeReady;
}

/**
 * The shape of one VS Code TextDocumentContentChangeEvent (structural, so the
 * engine needs no `vscode` types).
 */
export interface EditorContentChange {
  readonly rangeOffset: number;
  readonly rangeLength: number;
  readonly text: string;
  readonly range: { readonly start: { readonly line: number; readonly character: number }; readonly end: { readonly line: number; readonly character: number } };
}

/**
 * VS Code's contentChanges of one event -> TextChange[] for updateDocument.
 * All ranges of one event refer to the document before the event and do not
 * overlap, so they are applied from the last to the first (descending
 * offset), which keeps each one's offsets and positions valid.
 */
export function fromEditorChanges(changes: readonly EditorContentChange[]): TextChange[] {
  return [...changes]
    .sort((a, b) => b.rangeOffset - a.rangeOffset)
    .map((c) => ({
      start: c.rangeOffset,
      oldEnd: c.rangeOffset + c.rangeLength,
      text: c.text,
      startPosition: { row: c.range.start.line, column: c.range.start.character },
      oldEndPosition: { row: c.range.end.line, column: c.range.end.character },
    }));
}

/** Row/column (UTF-16) of `offset` in `text`. */
export function pointAt(text: string, offset: number): Point {
  let row = 0;
  let idx = text.indexOf('\n');
  let lineStart = 0;
  while (idx >= 0 && idx < offset) {
    row++;
    lineStart = idx + 1;
    idx = text.indexOf('\n', lineStart);
  }
  return { row, column: offset - lineStart };
}

/** Lines of `text`, counting no further than `atLeast`. */
function countLines(text: string, atLeast: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && n < atLeast; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** The point reached after inserting `inserted` at `start`. */
function advancePoint(start: Point, inserted: string): Point {
  const lastBreak = inserted.lastIndexOf('\n');
  if (lastBreak < 0) return { row: start.row, column: start.column + inserted.length };
  let rows = 0;
  for (let i = inserted.indexOf('\n'); i >= 0; i = inserted.indexOf('\n', i + 1)) rows++;
  return { row: start.row + rows, column: inserted.length - lastBreak - 1 };
}

export class SyntaxService {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly languages = new Map<string, Promise<SyntaxLanguage | undefined>>();
  private readonly loaded = new Map<string, SyntaxLanguage>();
  private readonly parsers = new Map<string, Parser>();
  private readonly documents = new Map<string, DocumentState>();
  private readonly fallbackLogged = new Set<string>();
  private disposed = false;

  constructor(private readonly options: SyntaxServiceOptions) {
    this.log = options.logger;
    this.clock = options.clock ?? performanceClock;
  }

  /** Whether a grammar ships for this language id (it may still fail to load). */
  hasGrammar(languageId: string): boolean {
    return LANGUAGE_GRAMMARS[languageId] !== undefined;
  }

  /**
   * The grammar for a language id, loaded on first use. Undefined when none
   * ships or it failed to load (logged once; later calls do not retry).
   */
  language(languageId: string): Promise<SyntaxLanguage | undefined> {
    const stem = LANGUAGE_GRAMMARS[languageId];
    const spec = grammarSpecFor(languageId);
    if (this.disposed) return Promise.resolve(undefined);
    if (!stem || !spec) {
      if (!this.fallbackLogged.has(languageId)) {
        this.fallbackLogged.add(languageId);
        this.log.info(`syntax: no tree-sitter grammar for "${languageId}"; using lexical rules`);
      }
      return Promise.resolve(undefined);
    }
    let p = this.languages.get(stem);
    if (!p) {
      p = this.loadGrammar(stem, spec);
      this.languages.set(stem, p);
    }
    return p;
  }

  /** The grammar if it is already loaded (for synchronous callers). */
  loadedLanguage(languageId: string): SyntaxLanguage | undefined {
    const stem = LANGUAGE_GRAMMARS[languageId];
    return stem ? this.loaded.get(stem) : undefined;
  }

  private async loadGrammar(stem: string, spec: GrammarSpec): Promise<SyntaxLanguage | undefined> {
    const file = join(this.options.grammarsDir, `tree-sitter-${stem}.wasm`);
    const t0 = this.clock();
    try {
      await initRuntime(this.options.runtimeWasm);
      const bytes = new Uint8Array(await readFile(file));
      // Compile synchronously: the async path queues behind V8's background
      // tier-up of grammars already in use (measured: a 10+ s wait for an 8 KB
      // grammar after a PowerShell parse on a busy 2-core machine), while a
      // synchronous lazy compile takes milliseconds even for the 5 MB C++ grammar.
      const language = Language.loadSync(new WebAssembly.Module(bytes) as Parameters<typeof Language.loadSync>[0]);
      if (this.disposed) return undefined;
      const lang: SyntaxLanguage = { grammar: stem, spec, language };
      this.loaded.set(stem, lang);
      this.log.debug(`syntax: loaded ${file} (ABI ${language.abiVersion}) in ${(this.clock() - t0).toFixed(1)} ms`);
      return lang;
    } catch (err) {
      this.log.warn(`syntax: grammar ${file} failed to load (${describeError(err)}); using lexical rules`);
      return undefined;
    }
  }

  private parserFor(lang: SyntaxLanguage): Parser {
    let parser = this.parsers.get(lang.grammar);
    if (!parser) {
      parser = new Parser();
      parser.setLanguage(lang.language);
      this.parsers.set(lang.grammar, parser);
    }
    return parser;
  }

  /**
   * Parses synchronously within `timeoutMs`; undefined when the text is too
   * long or the budget ran out (the parser is reset so the next parse starts
   * fresh instead of resuming this one).
   */
  parseWith(lang: SyntaxLanguage, text: string, oldTree?: Tree, timeoutMs = this.options.parseTimeoutMs ?? 50, ranges?: Range[]): Tree | undefined {
    if (this.disposed) return undefined;
    if (text.length > (this.options.maxParseLength ?? 3_000_000)) return undefined;
    const parser = this.parserFor(lang);
    const deadline = this.clock() + timeoutMs;
    let tree: Tree | null = null;
    try {
      tree = parser.parse(sliced(text), oldTree ?? null, { progressCallback: () => this.clock() > deadline, ...(ranges ? { includedRanges: ranges } : {}) });
    } catch (err) {
      this.log.warn(`syntax: ${lang.grammar} parse failed: ${describeError(err)}`);
    }
    if (!tree) {
      parser.reset();
      return undefined;
    }
    return tree;
  }

  /**
   * One-off parse of `text` (completion post-processing, CLI). The result
   * owns its tree: dispose() it. With no grammar the view has no tree.
   */
  async parse(languageId: string, text: string, timeoutMs?: number): Promise<ParsedText> {
    const lang = await this.language(languageId);
    return this.parseLoaded(languageId, text, timeoutMs, lang);
  }

  /** Synchronous one-off parse when the grammar is already loaded (else lexical view). */
  parseLoaded(languageId: string, text: string, timeoutMs?: number, lang = this.loadedLanguage(languageId)): ParsedText {
    const tree = lang ? this.parseWith(lang, text, undefined, timeoutMs) : undefined;
    return { text, languageId, tree, spec: lang?.spec, dispose: () => tree?.delete() };
  }

  /**
   * Counts ERROR/MISSING nodes of a text in this language (for trimOverlap,
   * rankCandidates, finalizeCompletion); undefined while the grammar is not
   * loaded or when there is none, and the post-processing then uses lexical
   * rules. Each call parses within the one-off budget.
   */
  errorCounter(languageId: string): ErrorCounter | undefined {
    const lang = this.loadedLanguage(languageId);
    return lang ? errorCounterFrom((text) => this.parseLoaded(languageId, text, undefined, lang)) : undefined;
  }

  /**
   * finalizeCompletion with this service's parser: loads the grammar if
   * needed, then stop rules, reindent, merge/trim and ranking by parse errors.
   */
  async finalize(ctx: CompletionContext, candidates: string | readonly string[]): Promise<{ text: string; ranked: RankedCandidate[] }> {
    await this.language(ctx.languageId);
    return finalizeCompletion(ctx, candidates, this.errorCounter(ctx.languageId));
  }

  /** Starts tracking a document (parsed now, within the document budget). */
  async openDocument(id: string, languageId: string, text: string): Promise<void> {
    this.closeDocument(id);
    const doc: DocumentState = { languageId, text, gaveUp: false, dirty: false };
    this.documents.set(id, doc);
    const lang = await this.language(languageId);
    // The document may have changed or closed while the grammar loaded.
    if (lang && this.documents.get(id) === doc && !doc.tree) {
      doc.dirty = false;
      this.reparse(doc, lang, undefined);
      this.rechunk(doc, lang);
    }
  }

  /**
   * Applies changes (each against the text left by the previous one; sort VS
   * Code's contentChanges by descending offset first) with tree.edit; the
   * re-parse that reuses the old tree runs now (eagerReparse) or on the next
   * documentView.
   */
  updateDocument(id: string, changes: readonly TextChange[]): void {
    const doc = this.documents.get(id);
    if (!doc) return;
    for (const ch of changes) {
      const start = Math.max(0, Math.min(doc.text.length, ch.start));
      const oldEnd = Math.max(start, Math.min(doc.text.length, ch.oldEnd));
      let edit: Edit | undefined;
      if (doc.tree || doc.chunks) {
        const startPosition = ch.startPosition ?? pointAt(doc.text, start);
        const oldEndPosition = ch.oldEndPosition ?? (oldEnd === start ? startPosition : pointAt(doc.text, oldEnd));
        edit = new Edit({
          startIndex: start,
          oldEndIndex: oldEnd,
          newEndIndex: start + ch.text.length,
          startPosition,
          oldEndPosition,
          newEndPosition: advancePoint(startPosition, ch.text),
        });
        doc.tree?.edit(edit);
      }
      const oldText = doc.text;
      doc.text = oldText.slice(0, start) + ch.text + oldText.slice(oldEnd);
      if (doc.chunks && !doc.chunks.applyChange({ start, oldEnd, text: ch.text, edit: edit! }, oldText, doc.text)) this.dropChunks(doc);
    }
    doc.dirty = true;
    if (doc.chunks) {
      // The block trees stay current on every keystroke; the whole tree waits for a reader.
      const lang = this.loadedLanguage(doc.languageId);
      const budget = this.options.documentParseTimeoutMs ?? 200;
      if (!lang || !doc.chunks.parseDirty(doc.text, (text, old, ranges) => this.parseWith(lang, text, old, budget, ranges))) this.dropChunks(doc);
    }
    if (this.options.eagerReparse) this.refresh(doc);
  }

  private dropChunks(doc: DocumentState): void {
    doc.chunks?.dispose();
    doc.chunks = undefined;
  }

  /**
   * Cuts a long document of a CHUNKED_GRAMMARS language into per-block trees
   * from its whole tree (an error-free one); costs about one full parse.
   */
  private rechunk(doc: DocumentState, lang: SyntaxLanguage): void {
    const lines = this.options.chunkLines ?? 100;
    if (doc.chunks || !doc.tree || lines <= 0 || !CHUNKED_GRAMMARS.has(lang.grammar)) return;
    if (countLines(doc.text, 8 * lines) < 8 * lines) return;
    const chunks = ChunkedTrees.plan(doc.tree, doc.text, lines);
    if (!chunks) return;
    const budget = this.options.documentParseTimeoutMs ?? 200;
    if (chunks.parseDirty(doc.text, (text, old, ranges) => this.parseWith(lang, text, old, budget, ranges))) doc.chunks = chunks;
    else chunks.dispose();
  }

  /** Re-parses a document whose text changed since its last parse. */
  private refresh(doc: DocumentState): void {
    if (!doc.dirty || doc.gaveUp) return;
    const lang = this.loadedLanguage(doc.languageId);
    if (!lang) return;
    doc.dirty = false;
    this.reparse(doc, lang, doc.tree);
    this.rechunk(doc, lang);
  }

  /** Replaces a document's whole text (full re-parse). */
  replaceDocument(id: string, text: string): void {
    const doc = this.documents.get(id);
    if (!doc) return;
    doc.text = text;
    doc.tree?.delete();
    doc.tree = undefined;
    this.dropChunks(doc);
    doc.dirty = true;
    doc.gaveUp = false;
    if (this.options.eagerReparse) this.refresh(doc);
  }

  private reparse(doc: DocumentState, lang: SyntaxLanguage, oldTree: Tree | undefined): void {
    const budget = this.options.documentParseTimeoutMs ?? 200;
    const t0 = this.clock();
    let tree = this.parseWith(lang, doc.text, oldTree, budget);
    oldTree?.delete();
    if (tree && !oldTree) tree = this.settle(lang, doc.text, tree, budget - (this.clock() - t0));
    doc.tree = tree;
    if (!tree && !doc.gaveUp) {
      doc.gaveUp = true;
      this.log.info(`syntax: parse of a ${doc.text.length}-character ${doc.languageId} document gave up (time or size bound); using lexical rules for it`);
    }
  }

  /**
   * One re-parse of unchanged text reusing a fresh tree. Measured on a
   * 5,000-line Python file: edits to a tree straight from a full parse
   * re-parse in ~5x the time of edits to a tree that has been through one
   * incremental parse (tree-sitter restructures what it reuses), so a document
   * pays this once at open instead of on its first keystrokes. Skipped when
   * the budget is spent; the fresh tree is as correct, only slower to edit.
   */
  private settle(lang: SyntaxLanguage, text: string, tree: Tree, budgetLeft: number): Tree {
    if (budgetLeft <= 0) return tree;
    const settled = this.parseWith(lang, text, tree, budgetLeft);
    if (!settled) return tree;
    tree.delete();
    return settled;
  }

  /**
   * The current view of an open document, re-parsed first if it changed
   * (its tree is owned by the service: do not delete it, and do not keep it
   * past the next update).
   */
  documentView(id: string): SyntaxView | undefined {
    const doc = this.documents.get(id);
    if (!doc) return undefined;
    const spec = grammarSpecFor(doc.languageId);
    // Without blocks the whole tree is brought up to date now (which may cut the document into blocks).
    if (!doc.chunks) this.refresh(doc);
    if (doc.chunks) {
      // The whole tree is re-parsed only when something reads it; the block trees are current.
      const whole = (): Tree | undefined => {
        this.refresh(doc);
        return doc.tree;
      };
      return {
        text: doc.text,
        languageId: doc.languageId,
        spec,
        get tree() {
          return whole();
        },
        treeAt: (offset) => doc.chunks?.treeAt(offset) ?? whole(),
      };
    }
    const tree = doc.tree;
    return { text: doc.text, languageId: doc.languageId, tree, spec, treeAt: () => tree };
  }

  /** How many per-block trees keep a document current (0: one whole tree; see chunks.ts). */
  chunkCount(id: string): number {
    return this.documents.get(id)?.chunks?.size ?? 0;
  }

  closeDocument(id: string): void {
    const doc = this.documents.get(id);
    if (!doc) return;
    doc.tree?.delete();
    this.dropChunks(doc);
    this.documents.delete(id);
  }

  /** Frees every tree and parser; the service answers lexically afterwards. */
  dispose(): void {
    this.disposed = true;
    for (const id of [...this.documents.keys()]) this.closeDocument(id);
    for (const p of this.parsers.values()) p.delete();
    this.parsers.clear();
    this.loaded.clear();
    this.languages.clear();
  }
}
