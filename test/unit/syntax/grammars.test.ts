/** The shipped grammars: manifest up to date, every grammar loads, node-type names exist. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { GRAMMAR_SPECS, LANGUAGE_GRAMMARS } from '../../../src/engine/syntax/languages';
import { GRAMMARS_DIR, ROOT, makeService } from './helpers';

const service = makeService();
after(() => service.dispose());

interface ManifestEntry {
  grammar: string;
  file: string;
  abi: number;
  grammarVersion: string | null;
  license: string;
  sha256: string;
}

test('grammars/manifest.json is generated, current, and lists every grammar the engine maps to', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'tools', 'copy-grammars.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(join(GRAMMARS_DIR, 'manifest.json'), 'utf8')) as { generatedBy: string; grammars: ManifestEntry[] };
  assert.match(manifest.generatedBy, /do not edit/);
  const shipped = new Set(manifest.grammars.map((g) => g.grammar));
  for (const stem of new Set(Object.values(LANGUAGE_GRAMMARS))) assert.ok(shipped.has(stem), `${stem} is mapped but not shipped`);
  for (const g of manifest.grammars) {
    assert.ok(GRAMMAR_SPECS[g.grammar], `${g.grammar} is shipped but has no spec`);
    // web-tree-sitter 0.27 reads ABI 13-15; most of these grammars are 15, some 14.
    assert.ok(g.abi >= 13 && g.abi <= 15, `${g.grammar}: ABI ${g.abi}`);
    assert.match(g.license, /^(MIT|Apache-2\.0)$/);
    assert.match(g.sha256, /^[0-9a-f]{64}$/);
  }
  for (const required of ['python', 'javascript', 'typescript', 'tsx', 'rust', 'go', 'java', 'cpp']) assert.ok(shipped.has(required), required);
});

test('every node type the specs name exists in its grammar', async () => {
  for (const [languageId, stem] of Object.entries(LANGUAGE_GRAMMARS)) {
    const lang = await service.language(languageId);
    assert.ok(lang, `${languageId}: grammar ${stem} did not load`);
    const named = new Set<string>();
    for (let i = 0; i < lang.language.nodeTypeCount; i++) {
      const t = lang.language.nodeTypeForId(i);
      if (t && lang.language.nodeTypeIsNamed(i)) named.add(t);
    }
    const spec = GRAMMAR_SPECS[stem]!;
    for (const t of [...spec.identifiers, ...spec.numbers, ...spec.strings, ...spec.comments, ...spec.functions, ...spec.classes, ...spec.blocks]) {
      assert.ok(named.has(t), `${stem}: no node type ${t}`);
    }
  }
});
