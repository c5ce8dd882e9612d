/**
 * Corpus-level check of the merge rules: at mid-identifier cursor positions
 * of held-out files, how often does the final completion repeat text the
 * suffix already has? (Issue 8: at most 2% for naive, heal and exact.)
 * The completion function is passed in; this module only picks positions
 * and judges the results.
 */
import { wordTester } from './lexical';
import { seededRandom as mulberry32 } from '../random';

/** One cursor position: a file cut inside an identifier. */
export interface MidIdentifierCase {
  readonly file: string;
  readonly languageId: string;
  readonly prefix: string;
  readonly suffix: string;
  /** The identifier the cursor is in and the offset inside it. */
  readonly identifier: string;
  readonly cut: number;
}


/**
 * Picks `count` positions strictly inside identifiers of at least `minLength`
 * characters (ASCII identifiers, not on comment lines), spread over the
 * files, reproducibly from `seed`. Prefix/suffix windows are limited to
 * `window` characters each side.
 */
export function sampleMidIdentifierCases(
  files: ReadonlyArray<{ readonly file: string; readonly languageId: string; readonly text: string }>,
  count: number,
  options: { seed?: number; minLength?: number; window?: number } = {},
): MidIdentifierCase[] {
  const rand = mulberry32(options.seed ?? 8);
  const minLength = options.minLength ?? 4;
  const window = options.window ?? 4000;
  const all: Array<{ f: number; start: number; end: number }> = [];
  files.forEach((f, fi) => {
    const re = /[A-Za-z_][A-Za-z0-9_]*/g;
    for (let m = re.exec(f.text); m; m = re.exec(f.text)) {
      if (m[0].length < minLength) continue;
      const lineStart = f.text.lastIndexOf('\n', m.index) + 1;
      const linePrefix = f.text.slice(lineStart, m.index);
      if (/^\s*(#|\/\/|\*|\/\*)/.test(linePrefix) || /["'`]/.test(linePrefix)) continue;
      all.push({ f: fi, start: m.index, end: m.index + m[0].length });
    }
  });
  const picked: MidIdentifierCase[] = [];
  const used = new Set<number>();
  while (picked.length < count && used.size < all.length) {
    const k = Math.floor(rand() * all.length);
    if (used.has(k)) continue;
    used.add(k);
    const c = all[k]!;
    const f = files[c.f]!;
    const cut = 1 + Math.floor(rand() * (c.end - c.start - 1));
    const at = c.start + cut;
    picked.push({
      file: f.file,
      languageId: f.languageId,
      prefix: f.text.slice(Math.max(0, at - window), at),
      suffix: f.text.slice(at, at + window),
      identifier: f.text.slice(c.start, c.end),
      cut,
    });
  }
  return picked;
}

/**
 * Whether inserting `completion` repeats what follows the cursor:
 *  - the completion ends with the rest of the cursor's word (`get|Name`
 *    completed with `UserName` gives `getUserNameName`), or
 *  - it ends with the rest of the cursor's line (3+ visible characters), or
 *  - its last non-empty line equals the suffix's next non-empty line.
 */
export function duplicatesSuffix(languageId: string, completion: string, suffix: string): boolean {
  if (!completion) return false;
  const isWord = wordTester(languageId);
  let e = 0;
  while (e < suffix.length && isWord(suffix.charCodeAt(e))) e++;
  const rest = suffix.slice(0, e);
  if (rest && completion.endsWith(rest)) return true;
  const nl = suffix.indexOf('\n');
  const restOfLine = (nl < 0 ? suffix : suffix.slice(0, nl)).trim();
  if (restOfLine.replace(/\s/g, '').length >= 3 && completion.trimEnd().endsWith(restOfLine)) return true;
  const lastLine = completion.trimEnd().split('\n').pop()!.trim();
  const nextLine = (nl < 0 ? '' : suffix.slice(nl + 1))
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  return completion.includes('\n') && lastLine !== '' && lastLine === nextLine;
}

/** Result of measureDuplication. */
export interface DuplicationReport {
  readonly total: number;
  readonly duplicated: number;
  readonly rate: number;
  /** The offending cases (for a report or a failing test's message). */
  readonly examples: ReadonlyArray<{ readonly identifier: string; readonly cut: number; readonly completion: string; readonly suffixStart: string }>;
}

/** Runs `complete` on every case and counts completions that duplicate the suffix. */
export async function measureDuplication(
  cases: readonly MidIdentifierCase[],
  complete: (c: MidIdentifierCase) => Promise<string>,
): Promise<DuplicationReport> {
  let duplicated = 0;
  const examples: Array<{ identifier: string; cut: number; completion: string; suffixStart: string }> = [];
  for (const c of cases) {
    const completion = await complete(c);
    if (duplicatesSuffix(c.languageId, completion, c.suffix)) {
      duplicated++;
      if (examples.length < 20) examples.push({ identifier: c.identifier, cut: c.cut, completion, suffixStart: c.suffix.slice(0, 40) });
    }
  }
  return { total: cases.length, duplicated, rate: cases.length ? duplicated / cases.length : 0, examples };
}
