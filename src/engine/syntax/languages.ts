/**
 * Which grammar serves which VS Code language id, and which node types mean
 * "identifier", "string", "block", ... in that grammar. Node type names come
 * from each grammar's node-types.json (checked against the shipped wasm by
 * the tests, which fail on a name the grammar does not define).
 */

/** Per-grammar node-type vocabulary the syntax features rely on. */
export interface GrammarSpec {
  /** File stem in the grammars folder: `tree-sitter-${grammar}.wasm`. */
  readonly grammar: string;
  /** Leaf-ish nodes that name things (the identifier span's "word"). */
  readonly identifiers: readonly string[];
  readonly numbers: readonly string[];
  /** Whole string literals (a word inside one is still found lexically). */
  readonly strings: readonly string[];
  readonly comments: readonly string[];
  /** Function-like definitions (block overlays, stop rules). */
  readonly functions: readonly string[];
  /** Class-like definitions. */
  readonly classes: readonly string[];
  /** Other bracketed/indented blocks worth an overlay (bodies, impls, modules). */
  readonly blocks: readonly string[];
  /** Line comment start used by the lexical scanner, e.g. "#" or "//". */
  readonly lineComment?: string;
}

const C_LIKE_COMMENTS = ['comment'];

const JS_BASE = {
  identifiers: ['identifier', 'property_identifier', 'shorthand_property_identifier', 'shorthand_property_identifier_pattern', 'private_property_identifier', 'statement_identifier'],
  numbers: ['number'],
  strings: ['string', 'template_string', 'regex'],
  comments: C_LIKE_COMMENTS,
  functions: ['function_declaration', 'generator_function_declaration', 'method_definition', 'arrow_function', 'function_expression'],
  classes: ['class_declaration', 'class'],
  blocks: ['statement_block', 'class_body', 'object'],
  lineComment: '//',
} as const;

const TS_BASE = {
  ...JS_BASE,
  identifiers: [...JS_BASE.identifiers, 'type_identifier'],
  functions: [...JS_BASE.functions, 'function_signature', 'method_signature'],
  classes: [...JS_BASE.classes, 'abstract_class_declaration', 'interface_declaration', 'enum_declaration'],
  blocks: [...JS_BASE.blocks, 'interface_body', 'enum_body', 'internal_module'],
} as const;

/** Grammar specs by grammar stem. */
export const GRAMMAR_SPECS: Readonly<Record<string, GrammarSpec>> = {
  python: {
    grammar: 'python',
    identifiers: ['identifier'],
    numbers: ['integer', 'float'],
    strings: ['string'],
    comments: ['comment'],
    functions: ['function_definition'],
    classes: ['class_definition'],
    blocks: ['block'],
    lineComment: '#',
  },
  javascript: { grammar: 'javascript', ...JS_BASE },
  typescript: { grammar: 'typescript', ...TS_BASE },
  tsx: { grammar: 'tsx', ...TS_BASE },
  rust: {
    grammar: 'rust',
    identifiers: ['identifier', 'field_identifier', 'type_identifier', 'primitive_type', 'shorthand_field_identifier'],
    numbers: ['integer_literal', 'float_literal'],
    strings: ['string_literal', 'raw_string_literal', 'char_literal'],
    comments: ['line_comment', 'block_comment'],
    functions: ['function_item', 'closure_expression', 'function_signature_item'],
    classes: ['struct_item', 'enum_item', 'trait_item', 'impl_item', 'union_item'],
    blocks: ['block', 'declaration_list', 'field_declaration_list', 'mod_item'],
    lineComment: '//',
  },
  go: {
    grammar: 'go',
    identifiers: ['identifier', 'field_identifier', 'type_identifier', 'package_identifier', 'label_name'],
    numbers: ['int_literal', 'float_literal', 'imaginary_literal'],
    strings: ['interpreted_string_literal', 'raw_string_literal', 'rune_literal'],
    comments: ['comment'],
    functions: ['function_declaration', 'method_declaration', 'func_literal'],
    classes: ['type_declaration'],
    blocks: ['block'],
    lineComment: '//',
  },
  java: {
    grammar: 'java',
    identifiers: ['identifier', 'type_identifier'],
    numbers: ['decimal_integer_literal', 'hex_integer_literal', 'octal_integer_literal', 'binary_integer_literal', 'decimal_floating_point_literal', 'hex_floating_point_literal'],
    strings: ['string_literal', 'character_literal'],
    comments: ['line_comment', 'block_comment'],
    functions: ['method_declaration', 'constructor_declaration', 'lambda_expression'],
    classes: ['class_declaration', 'interface_declaration', 'enum_declaration', 'record_declaration'],
    blocks: ['block', 'class_body', 'interface_body', 'enum_body', 'constructor_body'],
    lineComment: '//',
  },
  cpp: {
    grammar: 'cpp',
    identifiers: ['identifier', 'field_identifier', 'type_identifier', 'namespace_identifier', 'primitive_type'],
    numbers: ['number_literal'],
    strings: ['string_literal', 'char_literal', 'raw_string_literal', 'system_lib_string'],
    comments: ['comment'],
    functions: ['function_definition', 'lambda_expression'],
    classes: ['class_specifier', 'struct_specifier', 'enum_specifier', 'union_specifier'],
    blocks: ['compound_statement', 'field_declaration_list', 'declaration_list', 'namespace_definition'],
    lineComment: '//',
  },
  'c-sharp': {
    grammar: 'c-sharp',
    identifiers: ['identifier', 'predefined_type'],
    numbers: ['integer_literal', 'real_literal'],
    strings: ['string_literal', 'verbatim_string_literal', 'raw_string_literal', 'interpolated_string_expression', 'character_literal'],
    comments: ['comment'],
    functions: ['method_declaration', 'constructor_declaration', 'local_function_statement', 'lambda_expression'],
    classes: ['class_declaration', 'struct_declaration', 'interface_declaration', 'enum_declaration', 'record_declaration'],
    blocks: ['block', 'declaration_list', 'namespace_declaration'],
    lineComment: '//',
  },
  ruby: {
    grammar: 'ruby',
    identifiers: ['identifier', 'constant', 'instance_variable', 'class_variable', 'global_variable', 'simple_symbol'],
    numbers: ['integer', 'float'],
    strings: ['string', 'heredoc_body'],
    comments: ['comment'],
    functions: ['method', 'singleton_method', 'lambda', 'block', 'do_block'],
    classes: ['class', 'module', 'singleton_class'],
    blocks: ['body_statement'],
    lineComment: '#',
  },
  php: {
    grammar: 'php',
    identifiers: ['name'],
    numbers: ['integer', 'float'],
    strings: ['string', 'encapsed_string', 'heredoc', 'nowdoc'],
    comments: ['comment'],
    functions: ['function_definition', 'method_declaration', 'anonymous_function', 'arrow_function'],
    classes: ['class_declaration', 'interface_declaration', 'trait_declaration', 'enum_declaration'],
    blocks: ['compound_statement', 'declaration_list'],
    lineComment: '//',
  },
  bash: {
    grammar: 'bash',
    identifiers: ['variable_name', 'word', 'command_name'],
    numbers: ['number'],
    strings: ['string', 'raw_string', 'ansi_c_string', 'heredoc_body'],
    comments: ['comment'],
    functions: ['function_definition'],
    classes: [],
    blocks: ['compound_statement', 'do_group', 'if_statement', 'case_statement'],
    lineComment: '#',
  },
  css: {
    grammar: 'css',
    identifiers: ['property_name', 'class_name', 'tag_name', 'id_name', 'plain_value', 'feature_name', 'attribute_name', 'function_name', 'keyword_query', 'namespace_name'],
    numbers: ['integer_value', 'float_value'],
    strings: ['string_value'],
    comments: ['comment'],
    functions: [],
    classes: ['rule_set', 'media_statement', 'keyframes_statement'],
    blocks: ['block'],
  },
  ini: {
    grammar: 'ini',
    identifiers: ['setting_name', 'section_name'],
    numbers: [],
    strings: ['setting_value'],
    comments: ['comment'],
    functions: [],
    classes: ['section'],
    blocks: [],
    lineComment: ';',
  },
};

/** VS Code language id -> grammar stem. Ids not listed use the lexical scanner. */
export const LANGUAGE_GRAMMARS: Readonly<Record<string, string>> = {
  python: 'python',
  javascript: 'javascript',
  javascriptreact: 'javascript',
  typescript: 'typescript',
  typescriptreact: 'tsx',
  rust: 'rust',
  go: 'go',
  java: 'java',
  cpp: 'cpp',
  cuda: 'cpp',
  csharp: 'c-sharp',
  ruby: 'ruby',
  php: 'php',
  shellscript: 'bash',
  css: 'css',
  ini: 'ini',
  properties: 'ini',
};

/** Line-comment starts for languages without a grammar (lexical scanner only). */
export const LEXICAL_LINE_COMMENTS: Readonly<Record<string, string>> = {
  c: '//',
  objective_c: '//',
  'objective-c': '//',
  swift: '//',
  kotlin: '//',
  scala: '//',
  dart: '//',
  scss: '//',
  less: '//',
  lua: '--',
  sql: '--',
  haskell: '--',
  perl: '#',
  r: '#',
  yaml: '#',
  toml: '#',
  dockerfile: '#',
  makefile: '#',
  elixir: '#',
  julia: '#',
  // No grammar on purpose: see tools/copy-grammars.mjs (V8 tier-up cost).
  powershell: '#',
};

/** The grammar spec for a VS Code language id, if one ships. */
export function grammarSpecFor(languageId: string): GrammarSpec | undefined {
  const stem = LANGUAGE_GRAMMARS[languageId];
  return stem ? GRAMMAR_SPECS[stem] : undefined;
}

/** Line comment start for a language id (grammar or lexical table), if known. */
export function lineCommentFor(languageId: string): string | undefined {
  return grammarSpecFor(languageId)?.lineComment ?? LEXICAL_LINE_COMMENTS[languageId];
}
