import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMMANDS } from '../../src/extension/commandIds';
import { allSettingSpecs, readSettings } from '../../src/extension/settings';
import { manifestContributions, withReadmeSettingsTable } from '../../tools/manifest';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

test('package.json contributes exactly what settings.ts and commandIds.ts declare (run `npx tsx tools/gen-manifest.ts` to fix)', () => {
  const expected = manifestContributions();
  assert.deepEqual(pkg.contributes.commands, expected.commands);
  assert.deepEqual(pkg.contributes.configuration, expected.configuration);
});

test('every setting lives in a titled subword.model/completion/tokens section and the typed Config reads it', () => {
  const sections = pkg.contributes.configuration as Array<{ title: string; properties: Record<string, { type: string; default: unknown }> }>;
  const fromManifest = new Map<string, { type: string; default: unknown }>();
  for (const section of sections) {
    assert.match(section.title, /^Subword: /);
    for (const [id, prop] of Object.entries(section.properties)) {
      assert.match(id, /^subword\.(model|completion|tokens)\.[a-zA-Z]+$/);
      fromManifest.set(id, prop);
    }
  }
  const specs = new Map(allSettingSpecs());
  assert.deepEqual([...fromManifest.keys()].sort(), [...specs.keys()].sort());
  // Reading with no user values must give exactly the manifest defaults, for every field of the typed Config.
  const { config, problems } = readSettings(() => undefined);
  assert.deepEqual(problems, []);
  const flat: Record<string, unknown> = {};
  for (const [group, values] of Object.entries(config)) {
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) flat[`subword.${group}.${key}`] = value;
  }
  assert.deepEqual(Object.keys(flat).sort(), [...fromManifest.keys()].sort(), 'typed Config fields match the manifest');
  for (const [id, prop] of fromManifest) {
    assert.deepEqual(flat[id], prop.default, `default of ${id}`);
    const t = prop.type === 'integer' ? 'number' : prop.type === 'array' ? 'object' : prop.type;
    assert.equal(typeof flat[id], t, `type of ${id}`);
  }
});

test('commands are subword.verbNoun with the Subword category', () => {
  for (const c of pkg.contributes.commands as Array<{ command: string; category: string }>) {
    assert.match(c.command, /^subword\.[a-z]+[A-Z][A-Za-z]*$/);
    assert.equal(c.category, 'Subword');
  }
  assert.equal(new Set(COMMANDS.map((c) => c.id)).size, COMMANDS.length);
});

test('manifest: activation is never "*", main is the bundle, bin is the CLI, untrusted workspaces declared', () => {
  assert.ok(!pkg.activationEvents.includes('*'));
  assert.ok(pkg.activationEvents.every((e: string) => e === 'onStartupFinished' || e.startsWith('onLanguage:')));
  assert.equal(pkg.main, './dist/extension.js');
  assert.equal(pkg.bin.subword, './dist/cli.js');
  assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('subword.model.path'));
  assert.ok(pkg.icon.startsWith('media/'));
});

test('the README settings table says what settings.ts says (run `npx tsx tools/gen-manifest.ts` to fix)', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.equal(readme, withReadmeSettingsTable(readme));
});
