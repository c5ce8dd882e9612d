/**
 * Writes package.json's `contributes.commands` and
 * `contributes.configuration` from src/extension/{commandIds,settings}.ts,
 * and the README's settings table from settings.ts.
 * Run: npx tsx tools/gen-manifest.ts  (test/unit/manifest.test.ts fails when
 * package.json is out of date).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifestContributions, withReadmeSettingsTable } from './manifest';

const file = join(__dirname, '..', 'package.json');
const pkg = JSON.parse(readFileSync(file, 'utf8')) as { contributes: Record<string, unknown> };
Object.assign(pkg.contributes, manifestContributions());
writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
console.log('package.json contributes updated');

const readmeFile = join(__dirname, '..', 'README.md');
writeFileSync(readmeFile, withReadmeSettingsTable(readFileSync(readmeFile, 'utf8')));
console.log('README.md settings table updated');
