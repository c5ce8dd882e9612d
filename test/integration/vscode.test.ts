// Runs the in-VS-Code suite (test/vscode, bundled to out/test/vscode by
// tools/test.mjs's build step) inside a real VS Code: the VS Code server from
// the code-server npm package, with its web workbench opened in Debian's
// headless Chromium. Each test that ran inside VS Code becomes a node:test
// subtest here, so node's closing summary counts them.
// How and why: tools/vscode-server.mjs and ../shared/design/vscode-tests.md.
//   SUBWORD_VSCODE_TIMEOUT_MS   whole in-VS-Code run (default 240000)
//   SUBWORD_VSCODE_VERBOSE=1    echo the server's and the workbench's log
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Browser } from 'playwright-core';
import { RESULT_PREFIX, type ResultLine } from '../vscode/harness';
import { ensureTestVsix } from './vsix';
import {
  CODE_SERVER_VERSION,
  ensureServer,
  launchBrowser,
  node24,
  root,
  serverMain,
  startServer,
  workbenchUrl,
  type RunningServer,
} from '../../tools/vscode-server.mjs';

const testsPath = join(root, 'out', 'test', 'vscode');
const workspace = join(root, 'test', 'fixtures', 'workspace');
const timeoutMs = Number(process.env.SUBWORD_VSCODE_TIMEOUT_MS ?? 240_000);
const verbose = process.env.SUBWORD_VSCODE_VERBOSE === '1';

/** Pulls protocol lines out of one workbench log message (their JSON may be followed by other text). */
export function parseResultLines(message: string): ResultLine[] {
  const out: ResultLine[] = [];
  let at = message.indexOf(RESULT_PREFIX);
  while (at >= 0) {
    const rest = message.slice(at + RESULT_PREFIX.length);
    // The JSON object ends at one of the closing braces; try the longest first.
    for (let end = rest.lastIndexOf('}'); end >= 0; end = rest.lastIndexOf('}', end - 1)) {
      try {
        out.push(JSON.parse(rest.slice(0, end + 1)) as ResultLine);
        break;
      } catch {
        /* shorter */
      }
    }
    at = message.indexOf(RESULT_PREFIX, at + RESULT_PREFIX.length);
  }
  return out;
}

/** Every file of a folder tree with its bytes. */
function snapshot(dir: string, into = new Map<string, Buffer>()): Map<string, Buffer> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) snapshot(p, into);
    else into.set(p, readFileSync(p));
  }
  return into;
}

function stringifyArgs(args: unknown): string {
  if (typeof args === 'string') return args;
  if (Array.isArray(args)) return args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  return JSON.stringify(args);
}

test('in VS Code', { timeout: timeoutMs + 300_000 }, async (t) => {
  assert.ok(
    existsSync(join(testsPath, 'index.js')),
    `${testsPath}/index.js is missing: run through \`npm test\` (or \`node tools/build.mjs --tests\` first)`,
  );
  const t0 = performance.now();
  const fixturesBefore = snapshot(workspace);
  const install = await ensureServer({ log: (line) => t.diagnostic(line) });
  const tInstalled = performance.now();

  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  const results: Array<Extract<ResultLine, { event: 'result' }>> = [];
  let start: Extract<ResultLine, { event: 'start' }> | undefined;
  let end: Extract<ResultLine, { event: 'end' }> | undefined;
  const tail: string[] = [];
  const remember = (line: string) => {
    tail.push(line.length > 2000 ? line.slice(0, 2000) + '…' : line);
    if (tail.length > 60) tail.shift();
    if (verbose) process.stderr.write(line + '\n');
  };
  let exitCode: number | undefined;
  let timings = '';
  // A run that breaks off (timeout, crash) still reports the tests that finished.
  let runError: Error | undefined;
  try {
    server = await startServer({
      log: (line) => remember(`[server] ${line}`),
      machineSettings: readFileSync(join(root, 'test', 'vscode', 'startup-settings.json'), 'utf8'),
    });
    const tServer = performance.now();
    const launched = await launchBrowser();
    browser = launched.browser;
    const page = await launched.context.newPage();

    let finish!: (code: number) => void;
    let fail!: (err: Error) => void;
    const finished = new Promise<number>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    // The smoke-test driver hooks: the workbench's log (which carries the
    // extension host's console) and the extension host's exit after run().
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown) => {
      const message = stringifyArgs(args);
      remember(`[workbench ${type}] ${message}`);
      for (const line of parseResultLines(message)) {
        if (line.event === 'start') start = line;
        else if (line.event === 'result') results.push(line);
        else if (line.event === 'end') end = line;
      }
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => finish(code));
    page.on('crash', () => fail(new Error('the workbench page crashed')));
    server.child.on('exit', (code, signal) => fail(new Error(`the VS Code server exited early (${code ?? signal})`)));
    const timer = setTimeout(() => fail(new Error(`no result from VS Code within ${timeoutMs} ms`)), timeoutMs);

    await page.goto(
      workbenchUrl({ port: server.port, folder: workspace, extensionDevelopmentPath: root, extensionTestsPath: testsPath }),
    );
    try {
      exitCode = await finished;
    } finally {
      clearTimeout(timer);
    }
    const tDone = performance.now();
    const s = (a: number, b: number) => ((b - a) / 1000).toFixed(1);
    timings =
      `install ${install.installed ? `${s(t0, tInstalled)} s (cold)` : `${s(t0, tInstalled)} s (cached)`}, ` +
      `server start ${s(tInstalled, tServer)} s, workbench + tests ${s(tServer, tDone)} s` +
      (end ? ` (tests ${(end.ms / 1000).toFixed(1)} s)` : '') +
      `, total ${s(t0, tDone)} s`;
  } catch (err) {
    runError = new Error(`${err instanceof Error ? err.message : String(err)}\n--- last log lines ---\n${tail.join('\n')}`, { cause: err });
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  }

  t.diagnostic(
    `VS Code ${start?.vscode ?? install.version} (code-server ${CODE_SERVER_VERSION}, ui ${start?.uiKind ?? '?'}, extension host Node ${start?.node ?? '?'})`,
  );
  t.diagnostic(timings);

  for (const r of results) {
    await t.test(`${r.suite ? `${r.suite} › ` : ''}${r.name}`, () => {
      if (!r.ok) {
        const err = new Error(`failed inside VS Code (${r.ms} ms):\n${r.error ?? 'no error message'}`);
        err.stack = err.message;
        throw err;
      }
    });
  }

  // Tests edit sample files in memory; none may save them (the next run and
  // `npm start` use the same folder). Put back anything that changed, then fail.
  const changed: string[] = [];
  const fixturesAfter = snapshot(workspace);
  for (const [p, bytes] of fixturesBefore) {
    if (!fixturesAfter.get(p)?.equals(bytes)) {
      changed.push(p);
      writeFileSync(p, bytes);
    }
  }
  for (const p of fixturesAfter.keys()) {
    if (!fixturesBefore.has(p)) {
      changed.push(p);
      rmSync(p, { force: true });
    }
  }
  if (runError) throw runError;
  assert.deepEqual(changed, [], 'in-VS-Code tests changed files of test/fixtures/workspace on disk (restored now)');
  assert.ok(start, `the in-VS-Code suite never started\n--- last log lines ---\n${tail.join('\n')}`);
  assert.equal(results.length, start.count, `${start.count} tests registered but ${results.length} reported`);
  assert.ok(end, 'the in-VS-Code suite did not report its end');
  assert.ok(results.length > 0, 'no in-VS-Code tests ran');
  assert.equal(exitCode, end.failed > 0 ? 1 : 0, `extension host exit code ${exitCode} does not match ${end.failed} failure(s)`);
});

test('the packaged VSIX installs into the same VS Code', { timeout: 180_000 }, async (t) => {
  await ensureServer({ log: (line) => t.diagnostic(line) });
  const { path: vsix } = ensureTestVsix();
  const scratch = mkdtempSync(join(tmpdir(), 'subword-install-'));
  try {
    const r = spawnSync(
      node24,
      [serverMain, '--install-extension', vsix, '--accept-server-license-terms',
        '--extensions-dir', join(scratch, 'extensions'), '--server-data-dir', join(scratch, 'server-data'), '--user-data-dir', join(scratch, 'user-data')],
      { encoding: 'utf8', timeout: 120_000, env: { ...process.env, XDG_CONFIG_HOME: join(scratch, 'xdg'), XDG_DATA_HOME: join(scratch, 'xdg') } },
    );
    const output = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 0, `VS Code refused the VSIX:\n${output}`);
    assert.match(output, /successfully installed/);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
    const dir = readdirSync(join(scratch, 'extensions')).find((d) => d.startsWith(`${pkg.publisher}.${pkg.name}-${pkg.version}`));
    assert.ok(dir, `no ${pkg.publisher}.${pkg.name} folder among ${readdirSync(join(scratch, 'extensions')).join(', ')}`);
    for (const f of ['dist/extension.js', 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node']) {
      assert.ok(existsSync(join(scratch, 'extensions', dir, f)), `${f} missing after installation`);
    }
    const registry = JSON.parse(readFileSync(join(scratch, 'extensions', 'extensions.json'), 'utf8')) as Array<{ identifier: { id: string }; version: string; metadata?: { source?: string } }>;
    const entry = registry.find((e) => e.identifier.id === `${pkg.publisher}.${pkg.name}`);
    assert.ok(entry, 'VS Code did not register the extension');
    assert.equal(entry.version, pkg.version);
    assert.equal(entry.metadata?.source, 'vsix');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
