// Takes the editor screenshots in media/ from a real VS Code (the VS Code
// server + headless Chromium of tools/screenshot.mjs):
//   node media/make-screenshots.mjs [overlays|colored|hover|tokenizers|ghost ...]
// Build first (node tools/build.mjs). Each shot starts its own server.
import { join } from 'node:path';
import { root } from '../tools/vscode-server.mjs';
import { screenshot } from '../tools/screenshot.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = (name) => join(root, 'media', `${name}.png`);

/** Opens a workspace file through Quick Open, waiting for each step (the machine may be slow). */
async function openFile(page, name) {
  await page.keyboard.press('Control+P');
  await page.waitForSelector('.quick-input-widget input', { timeout: 10_000 });
  await page.keyboard.type(name);
  await page.waitForSelector(`.quick-input-widget .monaco-list-row[aria-label*="${name}"]`, { timeout: 20_000 });
  await sleep(300);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.monaco-editor .view-lines', { timeout: 30_000 });
  await sleep(800);
}

/** Waits until the Subword status-bar item shows a token count (the tokenizer loaded). */
async function waitForCounts(page) {
  await page.waitForFunction(() => [...document.querySelectorAll('.statusbar-item')].some((e) => /tokens/.test(e.textContent ?? '')), undefined, { timeout: 30_000 });
}

const SHOTS = {
  overlays: () =>
    screenshot({
      out: out('overlays'),
      settings: { 'subword.tokens.overlays': 'both', 'subword.tokens.tokenizer': 'o200k_base', 'editor.minimap.enabled': false },
      script: async ({ page, step }) => {
        await openFile(page, 'inventory.py');
        await waitForCounts(page);
        await step(2500);
      },
    }),
  colored: () =>
    screenshot({
      out: out('colored-tokens'),
      settings: { 'subword.tokens.coloredTokens': true, 'subword.tokens.overlays': 'lines', 'subword.tokens.tokenizer': 'cl100k_base', 'editor.minimap.enabled': false },
      script: async ({ page, step }) => {
        await openFile(page, 'greeter.ts');
        await waitForCounts(page);
        await step(2000);
      },
    }),
  hover: () =>
    screenshot({
      out: out('hover'),
      settings: { 'subword.tokens.overlays': 'off', 'subword.tokens.tokenizer': 'o200k_base', 'editor.hover.delay': 100 },
      script: async ({ page, step }) => {
        await openFile(page, 'greeter.ts');
        await waitForCounts(page);
        // Load the compared tokenizers first (a first hover starts loading them).
        const target = page.locator('.view-lines .view-line span span', { hasText: /^greetings$/ }).first();
        await target.hover();
        await step(1500);
        await page.mouse.move(5, 5);
        await step(3000);
        const box = await target.boundingBox();
        await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
        await page.waitForSelector('.monaco-hover', { timeout: 10_000 });
        await step(1500);
      },
    }),
  tokenizers: () =>
    screenshot({
      out: out('switch-tokenizer'),
      script: async ({ page, step }) => {
        await openFile(page, 'utils.js');
        await waitForCounts(page);
        await page.keyboard.press('F1');
        await step();
        await page.keyboard.type('Subword: Switch Tokenizer');
        await step(800);
        await page.keyboard.press('Enter');
        await page.waitForSelector('.quick-input-widget .monaco-list-row', { timeout: 10_000 });
        await step(1200);
      },
    }),
  ghost: () =>
    screenshot({
      out: out('ghost-text'),
      settings: { 'subword.tokens.overlays': 'off' },
      script: async ({ page, step }) => {
        await openFile(page, 'inventory.py');
        await waitForCounts(page);
        // End of the file, then type a call that stops mid-identifier.
        await page.keyboard.press('Control+End');
        await page.keyboard.type('\n\ndef restock(inventory: Inventory, name: str, amount: int) -> None:\n    inventory.items[name].quan', { delay: 70 });
        await page.waitForSelector('.ghost-text-decoration, .ghost-text', { timeout: 60_000 });
        await step(1000);
      },
    }),
};

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(SHOTS);
for (const name of wanted) {
  if (!SHOTS[name]) throw new Error(`unknown shot ${name}; known: ${Object.keys(SHOTS).join(', ')}`);
  const t0 = Date.now();
  try {
    await SHOTS[name]();
    console.log(`${name}: saved in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } catch (err) {
    console.error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
  await sleep(200);
}
