/**
 * Test text for the differential tokenizer tests: real source files found on
 * this machine (our own repo, node_modules, the Python standard library and C
 * headers when present), cut into deterministic samples, plus hand-made nasty
 * strings. Sampling keeps the suite fast; set SUBWORD_TOK_FULL=1 for more.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../../../src/engine/random';

export const ROOT = join(__dirname, '..', '..', '..');
export const FULL = process.env.SUBWORD_TOK_FULL === '1';

/** The engine's seeded PRNG, so failures reproduce. */
export const rng = seededRandom;

function listFiles(dir: string, exts: readonly string[], limit: number, depth = 3): string[] {
  const out: string[] = [];
  const walk = (d: string, level: number) => {
    if (out.length >= limit || !existsSync(d)) return;
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const n of names) {
      if (out.length >= limit) return;
      const p = join(d, n);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (level < depth && n !== 'node_modules' && !n.startsWith('.')) walk(p, level + 1);
      } else if (exts.some((e) => n.endsWith(e)) && st.size > 200 && st.size < 2_000_000) out.push(p);
    }
  };
  walk(dir, 0);
  return out;
}

/** Source files by language: [label, path]. */
export function sourceFiles(): Array<[string, string]> {
  const nm = join(ROOT, 'node_modules');
  const groups: Array<[string, string, string[], number]> = [
    ['typescript', join(ROOT, 'src'), ['.ts'], 30],
    ['javascript', join(nm, 'typescript', 'lib'), ['.js'], 4],
    ['d.ts', join(nm, 'typescript', 'lib'), ['.d.ts'], 12],
    ['python', join(ROOT, 'tools', 'train'), ['.py'], 10],
    ['python', '/usr/lib/python3.11', ['.py'], 20],
    ['python', '/usr/lib/python3/dist-packages', ['.py'], 20],
    ['c', '/usr/include', ['.h'], 20],
    ['markdown', join(nm, 'typescript'), ['.md'], 3],
    ['json', join(nm, 'typescript'), ['.json'], 3],
    ['go', join(nm, 'flatted', 'golang'), ['.go'], 3],
    ['php', join(nm, 'flatted', 'php'), ['.php'], 3],
    ['shell', join(ROOT, 'tools'), ['.sh'], 5],
  ];
  const out: Array<[string, string]> = [];
  for (const [label, dir, exts, limit] of groups) for (const f of listFiles(dir, exts, limit)) out.push([label, f]);
  return out;
}

/**
 * Deterministic samples of real code: `perFile` chunks of up to `maxLen`
 * characters per file, cut at random (also mid-line, mid-word) positions.
 */
export function codeSamples(seed: number, perFile = 2, maxLen = 4000): Array<{ name: string; text: string }> {
  const r = rng(seed);
  const out: Array<{ name: string; text: string }> = [];
  for (const [label, file] of sourceFiles()) {
    const text = readFileSync(file, 'utf8');
    for (let k = 0; k < (FULL ? perFile * 4 : perFile); k++) {
      const start = Math.floor(r() * Math.max(1, text.length - maxLen));
      out.push({ name: `${label}:${file}@${start}`, text: text.slice(start, start + maxLen) });
    }
  }
  return out;
}

/** Hand-made strings that have broken tokenizers before. */
export function nastyStrings(): Array<{ name: string; text: string }> {
  const cases: Array<[string, string]> = [
    ['empty', ''],
    ['space', ' '],
    ['emoji zwj', 'family 👨‍👩‍👧‍👦 and 🧑🏽‍💻 coder 👍🏿 flags 🇩🇪🇯🇵 keycap 1️⃣'],
    ['cjk', '中文注释：计算总和 // 日本語のコメント、カタカナ 한국어 주석 ㄱㄴ'],
    ['crlf', 'def f(x):\r\n\treturn x\r\n\r\n\r\nclass A:\r\n    pass\r\n'],
    ['lone cr', 'a\rb\r\rc \r d'],
    ['tabs', '\t\tindent\twith\t\ttabs\t\n\t\n\t\t\n'],
    ['long spaces', 'x' + ' '.repeat(300) + 'y\n' + ' '.repeat(1000) + '\n' + ' '.repeat(77)],
    ['spaces before newline', 'a   \n   \n\n  b  \n\t \n x'],
    ['contractions', "I'm can't we'LL they've HE'S it'd O'Neil 's 'S 'ſ 'K don'ſ"],
    ['numbers', '12345678901 3.14159 0xFFee 1e-10 1_000_000 ٣٤٥ ⅷ ½ ²³'],
    ['nbsp and friends', 'a\u00a0b\u2003c\u200bd\u3000e\u0085f\u2028g\u2029h\u180ei \u00a0 \u00a0'],
    ['bom', '\ufeffstart \ufeff mid  \ufeff  \ufeff\ufeff\n   \ufeffx'],
    ['bom spaces', 'a     \ufeff b'],
    ['nul', 'a\u0000b\u0000\u0000 c \u0000'],
    ['controls', '\u0001\u0002\u001b[31mred\u001b[0m\u007f\u0008'],
    ['combining', 'e\u0301 a\u0308 n\u0303 \u0301\u0301 Å Å ﬁ ①'],
    ['quotes', '“quotes” ‘single’ …  — –  «» „“ ‚‘'],
    ['accents', 'café naïve Ünïcödé ß ẞ İı ǅ ǈ Σσς'],
    ['punct runs', 'const s = `${a}${b}`;;;;;;;;;;\n}}}}\n]]]]))))\n//// /// // /\n'],
    ['slashes', '}\n// comment\n/* block */\n/\n//\n'],
    ['html', '<div class="x">&amp;&lt;</div><think></think><|endoftext|>'],
    ['mixed scripts', 'Ελληνικά русский עברית العربية हिन्दी ไทย'],
    ['private use', '\ue000\uf8ff\u{f0000}'],
    ['astral', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟘𝟙𝟚 𐍈'],
    ['newline runs', '\n\n\n\n  \n\n \r\n\r\n\n\t\n'],
    ['only whitespace', ' \t \n \u00a0 \u3000'],
  ];
  return cases.map(([name, text]) => ({ name, text }));
}

/** Strings with lone surrogates (encoders see them as U+FFFD) and their well-formed twin. */
export function surrogateStrings(): Array<{ name: string; text: string; wellFormed: string }> {
  const list: Array<[string, string]> = [
    ['lone high', 'ab\ud800cd'],
    ['lone low', '\udc00 x'],
    ['high at end', 'emoji \ud83d'],
    ['reversed pair', '\ude00\ud83d'],
  ];
  return list.map(([name, text]) => ({ name, text, wellFormed: text.replace(/[\ud800-\udfff]/g, '\ufffd') }));
}

const ALPHABET = [
  'a', 'b', 'Z', 'é', 'ß', '中', '文', 'ア', '😀', '‍', '👍', '🏽', '0', '1', '9', '٣', ' ', ' ', ' ', '  ', '\t', '\n', '\n', '\r\n', '\r',
  "'", "'s", "'ll", '.', ',', '(', ')', '{', '}', ';', '/', '//', '-', '_', '=', '"', '`', '$', '#', '\u00a0', '\u3000', '\ufeff', '\u0085',
  '\u0301', '\u0000', 'the', ' the', 'function', ' return', 'self', 'ing', 'ſ', 'K', '\u2028',
];

/** Random strings from an alphabet of troublesome pieces. */
export function fuzzStrings(seed: number, count: number, maxPieces = 24): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = Math.floor(r() * maxPieces);
    let s = '';
    for (let k = 0; k < n; k++) s += ALPHABET[Math.floor(r() * ALPHABET.length)]!;
    out.push(s);
  }
  return out;
}
