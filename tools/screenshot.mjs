// Screenshots of a real VS Code with Subword loaded, for the README.
//   node tools/screenshot.mjs [--out media/screenshot-workbench.png] [--open inventory.py]
//       [--line N --column N] [--type TEXT] [--command ID] [--script steps.mjs]
//       [--width 1280 --height 800] [--wait MS] [--dark]
// Starts the VS Code server (tools/vscode-server.mjs) on the sample workspace
// with the extension loaded from this folder, opens the web workbench in
// Debian's headless Chromium (playwright-core), optionally opens a file, moves
// the cursor, types, runs a command, or runs `--script`'s default export
// `async ({ page, step }) => {}`, then saves a PNG.
// Also usable from code: `import { screenshot } from './screenshot.mjs'`.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEMO_SETTINGS, ensureServer, launchBrowser, root, startServer, workbenchUrl } from './vscode-server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @typedef {object} ShotOptions
 * @property {string} [out]        PNG path (default media/screenshot-workbench.png)
 * @property {string} [folder]     workspace folder (default the sample workspace)
 * @property {string} [open]       file to open, relative to the folder
 * @property {number} [line]       1-based cursor line after opening
 * @property {number} [column]     1-based cursor column
 * @property {string} [type]       text to type at the cursor
 * @property {string} [command]    a command id to run from the palette (by its title or id)
 * @property {(ctx: { page: import('playwright-core').Page, step: (ms?: number) => Promise<void> }) => Promise<void>} [script]
 * @property {number} [width]
 * @property {number} [height]
 * @property {number} [wait]       extra settle time before the shot, ms (default 1500)
 * @property {boolean} [dark]      dark theme
 * @property {Record<string, unknown>} [settings]  extra settings
 */

/** @param {ShotOptions} o */
export async function screenshot(o = {}) {
  const out = resolve(o.out ?? join(root, 'media', 'screenshot-workbench.png'));
  const folder = resolve(o.folder ?? join(root, 'test', 'fixtures', 'workspace'));
  await ensureServer();
  const settings = {
    ...JSON.parse(DEMO_SETTINGS),
    'workbench.colorTheme': o.dark ? 'Default Dark Modern' : 'Default Light Modern',
    'window.commandCenter': true,
    ...o.settings,
  };
  const server = await startServer({ machineSettings: JSON.stringify(settings, null, 2) });
  let browser;
  try {
    const launched = await launchBrowser({ width: o.width ?? 1280, height: o.height ?? 800 });
    browser = launched.browser;
    const page = await launched.context.newPage();
    await page.goto(workbenchUrl({ port: server.port, folder, extensionDevelopmentPath: root }));
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60_000 });
    // The explorer shows the folder once the remote file system answers.
    await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60_000 });
    await sleep(1500);
    const step = (ms = 400) => sleep(ms);
    if (o.open) {
      // Quick Open, then wait for its result list: pressing Enter before the
      // file search answered opens nothing on a busy machine.
      await page.keyboard.press('Control+P');
      await page.waitForSelector('.quick-input-widget input', { timeout: 20_000 });
      await page.keyboard.type(o.open);
      await page.waitForSelector('.quick-input-widget .monaco-list-row', { timeout: 20_000 });
      await step();
      await page.keyboard.press('Enter');
      const name = o.open.split('/').pop() ?? o.open;
      await page.waitForSelector(`.tabs-container .tab[aria-label*="${name.replace(/"/g, '')}"]`, { timeout: 20_000 });
      await page.waitForSelector('.monaco-editor .view-lines', { timeout: 20_000 });
      await step(800);
    }
    if (o.line) {
      await page.keyboard.press('Control+G');
      await step();
      await page.keyboard.type(`${o.line}${o.column ? `:${o.column}` : ''}`);
      await page.keyboard.press('Enter');
      await step();
    }
    if (o.type) {
      await page.keyboard.type(o.type, { delay: 60 });
      await step(1000);
    }
    if (o.command) {
      await page.keyboard.press('F1');
      await step();
      await page.keyboard.type(o.command);
      await step(800);
      await page.keyboard.press('Enter');
      await step(800);
    }
    if (o.script) await o.script({ page, step });
    await sleep(o.wait ?? 1500);
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({ path: out });
    return out;
  } finally {
    await browser?.close().catch(() => undefined);
    await server.stop();
  }
}

function parseArgs(argv) {
  /** @type {ShotOptions & { scriptPath?: string }} */
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    switch (a) {
      case '--out': o.out = next(); break;
      case '--folder': o.folder = next(); break;
      case '--open': o.open = next(); break;
      case '--line': o.line = Number(next()); break;
      case '--column': o.column = Number(next()); break;
      case '--type': o.type = next(); break;
      case '--command': o.command = next(); break;
      case '--script': o.scriptPath = next(); break;
      case '--width': o.width = Number(next()); break;
      case '--height': o.height = Number(next()); break;
      case '--wait': o.wait = Number(next()); break;
      case '--dark': o.dark = true; break;
      default:
        throw new Error(`unknown argument ${a} (see the header of tools/screenshot.mjs)`);
    }
  }
  return o;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const o = parseArgs(process.argv.slice(2));
    if (o.scriptPath) o.script = (await import(pathToFileURL(resolve(o.scriptPath)).href)).default;
    const build = spawnSync(process.execPath, [join(root, 'tools', 'build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (build.status !== 0) throw new Error('the build failed');
    const out = await screenshot(o);
    console.log(`saved ${out}`);
  } catch (err) {
    console.error(`screenshot: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
