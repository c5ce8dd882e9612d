// A real VS Code for machines without internet: the VS Code server bundled in
// the `code-server` npm package, run by Node 24 from the npm `node` package,
// and driven by Debian's headless Chromium through playwright-core.
// Why this route and its pitfalls: ../shared/design/vscode-tests.md (in the
// team's shared folder). Used by the integration tests, `npm start` and
// tools/screenshot.mjs.
//
//   node tools/vscode-server.mjs install   install (or check) the server only
//
// Everything lives in a cache folder outside the project's node_modules
// (.vscode-test/code-server, or $SUBWORD_VSCODE_CACHE), so `npm ci` stays
// small and the server's native modules are built against Node 24, not the
// Node that runs the project's tools.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Pinned so that every machine tests against the same VS Code build. */
export const CODE_SERVER_VERSION = '4.139.1';
/** code-server 4.139 declares engines.node "24" and builds its native modules for it. */
export const NODE24_VERSION = '24.21.0';
/** Debian's chromium-headless-shell (tools/setup-system.sh installs it). */
export const CHROMIUM = process.env.SUBWORD_CHROMIUM ?? '/usr/lib/chromium/chromium-headless-shell';

export const cacheDir = resolve(process.env.SUBWORD_VSCODE_CACHE ?? join(root, '.vscode-test', 'code-server'));
const nodeDir = join(cacheDir, 'node24');
const serverDir = join(cacheDir, 'server');
const marker = join(cacheDir, 'installed.json');

/** The Node 24 binary that runs the server (and its extension host). */
export const node24 = join(nodeDir, 'node_modules', 'node', 'bin', 'node');
/** The VS Code server's entry point inside code-server. */
export const serverMain = join(serverDir, 'node_modules', 'code-server', 'lib', 'vscode', 'out', 'server-main.js');

const wanted = { codeServer: CODE_SERVER_VERSION, node: NODE24_VERSION };

function isInstalled() {
  if (!existsSync(marker) || !existsSync(node24) || !existsSync(serverMain)) return false;
  try {
    const have = JSON.parse(readFileSync(marker, 'utf8'));
    return have.codeServer === wanted.codeServer && have.node === wanted.node;
  } catch {
    return false;
  }
}

/** npm's own CLI script, so that it can be run by a Node other than the one on PATH. */
function npmCli() {
  const fromEnv = process.env.npm_execpath;
  if (fromEnv && /npm-cli\.js$/.test(fromEnv) && existsSync(fromEnv)) return fromEnv;
  const prefix = execFileSync('npm', ['prefix', '-g'], { encoding: 'utf8' }).trim();
  for (const p of [join(prefix, 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'), join(prefix, 'node_modules', 'npm', 'bin', 'npm-cli.js')]) {
    if (existsSync(p)) return p;
  }
  throw new Error('Cannot find npm-cli.js (is npm installed?)');
}

/**
 * process.env without what an outer `npm test` or `node --test` put there for
 * its own scripts: npm_config_local_prefix would point the nested npm installs
 * at the project, npm_package_* describe the project, and NODE_TEST_CONTEXT
 * makes child Nodes report to the test runner. The user's own npm settings
 * (registry, proxy, cafile, cache) stay.
 */
function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (
      /^npm_(package_|lifecycle_)/i.test(k) ||
      /^npm_(command|execpath|node_execpath)$/i.test(k) ||
      /^npm_config_(local_prefix|user_agent|npm_version|nodedir|node_gyp)$/i.test(k) ||
      k === 'NODE_TEST_CONTEXT' ||
      k === 'INIT_CWD'
    ) {
      delete env[k];
    }
  }
  return env;
}

function run(cmd, args, opts) {
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
}

/**
 * Installs Node 24 and code-server into the cache folder unless the pinned
 * versions are already there. Idempotent and quick when installed.
 * @param {{ log?: (line: string) => void }} [opts]
 * @returns {Promise<{ installed: boolean, seconds: number, version: string }>}
 */
export async function ensureServer(opts = {}) {
  const log = opts.log ?? ((line) => console.error(line));
  const started = Date.now();
  if (isInstalled()) return { installed: false, seconds: (Date.now() - started) / 1000, version: vscodeVersion() };
  return withInstallLock(log, async () => {
    // Another process may have finished the install while this one waited.
    if (isInstalled()) return { installed: false, seconds: (Date.now() - started) / 1000, version: vscodeVersion() };
    return install(log, started);
  });
}

/**
 * Several test runs (colleagues on one working tree, `npm start` beside
 * `npm test`) may need the server at once: one installs, the others wait.
 */
async function withInstallLock(log, fn) {
  const lock = `${cacheDir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 20 * 60_000;
  let told = false;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EEXIST') throw err;
    }
    let age = 0;
    try {
      age = Date.now() - statSync(lock).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    // An install takes minutes; a lock this old was left by a killed process.
    if (age > 15 * 60_000) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for another install of the VS Code server (${lock})`);
    if (!told) log(`vscode-server: another process is installing the VS Code server; waiting (${lock})`);
    told = true;
    await new Promise((r) => setTimeout(r, 2000));
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function install(log, started) {
  log(`vscode-server: installing code-server ${CODE_SERVER_VERSION} with Node ${NODE24_VERSION} into ${cacheDir} (once; about 1.5 min and 0.8 GB)`);
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(nodeDir, { recursive: true });
  mkdirSync(serverDir, { recursive: true });
  const quiet = ['--no-audit', '--no-fund', '--no-save', '--loglevel=error', '--no-update-notifier'];
  const npm = npmCli();
  // Own package.json files keep npm from walking up into the project.
  writeFileSync(join(nodeDir, 'package.json'), '{ "private": true }\n');
  writeFileSync(join(serverDir, 'package.json'), '{ "private": true }\n');
  run(process.execPath, [npm, 'install', ...quiet, `node@${NODE24_VERSION}`], { cwd: nodeDir, env: cleanEnv() });
  if (!existsSync(node24)) throw new Error(`npm installed node@${NODE24_VERSION} but ${node24} is missing`);
  const v = execFileSync(node24, ['--version'], { encoding: 'utf8' }).trim();
  if (!v.startsWith('v24.')) throw new Error(`${node24} is ${v}, expected Node 24`);
  // The headers ship in the platform package that `node` pulls in.
  const headers = join(nodeDir, 'node_modules', 'node', 'node_modules', `node-${process.platform}-${process.arch}`);
  if (!existsSync(join(headers, 'include', 'node', 'node.h'))) throw new Error(`No Node headers under ${headers}`);
  const env = {
    ...cleanEnv(),
    // code-server's postinstall and node-gyp must see Node 24, and must use
    // the headers shipped with it instead of downloading them.
    PATH: `${dirname(node24)}:${process.env.PATH}`,
    npm_config_nodedir: headers,
  };
  run(node24, [npm, 'install', ...quiet, `code-server@${CODE_SERVER_VERSION}`], { cwd: serverDir, env });
  if (!existsSync(serverMain)) throw new Error(`code-server installed but ${serverMain} is missing`);
  writeFileSync(marker, JSON.stringify({ ...wanted, vscode: vscodeVersionFromDisk() }, null, 2) + '\n');
  const seconds = (Date.now() - started) / 1000;
  log(`vscode-server: installed VS Code ${vscodeVersion()} in ${seconds.toFixed(0)} s`);
  return { installed: true, seconds, version: vscodeVersion() };
}

function vscodeVersionFromDisk() {
  try {
    const product = JSON.parse(readFileSync(join(serverDir, 'node_modules', 'code-server', 'lib', 'vscode', 'package.json'), 'utf8'));
    return product.version;
  } catch {
    return 'unknown';
  }
}

/** The VS Code version the server bundles (e.g. "1.139.1"). */
export function vscodeVersion() {
  return vscodeVersionFromDisk();
}

/**
 * Machine settings for a calm demo workbench (`npm start`, screenshots):
 * no welcome page, no chat panel, no update or telemetry noise.
 */
export const DEMO_SETTINGS = JSON.stringify(
  {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'telemetry.telemetryLevel': 'off',
  },
  null,
  2,
);

/** A free TCP port on 127.0.0.1: `preferred` when it is free, else any. */
export async function freePort(preferred = 0) {
  if (preferred) {
    try {
      return await listenOnce(preferred);
    } catch {
      /* taken: any port will do */
    }
  }
  return listenOnce(0);
}

function listenOnce(port) {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
      srv.close(() => resolvePort(port));
    });
  });
}

/**
 * Starts the VS Code server on 127.0.0.1 with scratch data folders.
 * The smoke-test driver flag is what makes the built workbench honour
 * extensionDevelopmentPath/extensionTestsPath from the URL payload.
 * `machineSettings` (JSONC text) becomes the remote "Machine" settings, in
 * place before any extension activates.
 * `handleSignals: false` leaves SIGINT/SIGTERM to the caller (the server is
 * still ended when this process exits).
 * @param {{ handleSignals?: boolean, host?: string, port?: number, log?: (line: string) => void, scratch?: string, keepScratch?: boolean, timeoutMs?: number, machineSettings?: string }} [opts]
 */
export async function startServer(opts = {}) {
  const log = opts.log ?? (() => {});
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort());
  const scratch = opts.scratch ?? mkdtempSync(join(tmpdir(), 'subword-vscode-'));
  const dirs = {
    serverData: join(scratch, 'server-data'),
    userData: join(scratch, 'user-data'),
    extensions: join(scratch, 'extensions'),
    xdg: join(scratch, 'xdg'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  if (opts.machineSettings !== undefined) {
    // The server reads machine settings from <user-data-dir>/Machine.
    mkdirSync(join(dirs.userData, 'Machine'), { recursive: true });
    writeFileSync(join(dirs.userData, 'Machine', 'settings.json'), opts.machineSettings);
  }
  const args = [
    serverMain,
    '--host', host,
    '--port', String(port),
    '--without-connection-token',
    '--accept-server-license-terms',
    '--enable-smoke-test-driver',
    '--disable-telemetry',
    '--disable-workspace-trust',
    '--server-data-dir', dirs.serverData,
    '--user-data-dir', dirs.userData,
    '--extensions-dir', dirs.extensions,
  ];
  const env = {
    ...cleanEnv(),
    XDG_CONFIG_HOME: join(dirs.xdg, 'config'),
    XDG_DATA_HOME: join(dirs.xdg, 'data'),
    XDG_CACHE_HOME: join(dirs.xdg, 'cache'),
    // Keep the tools' own Node out of the extension host's way.
    NODE_OPTIONS: '',
  };
  delete env.ELECTRON_RUN_AS_NODE;
  delete env.VSCODE_IPC_HOOK_CLI;
  // detached: the server and its extension hosts form their own process group,
  // so stop() can end exactly them and nothing else.
  const child = spawn(node24, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  let exited = false;
  const onLine = (chunk) => {
    for (const line of String(chunk).split('\n')) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 400) output.shift();
      log(line);
    }
  };
  child.stdout.on('data', onLine);
  child.stderr.on('data', onLine);
  const exitPromise = new Promise((r) => child.on('exit', (code, signal) => { exited = true; r({ code, signal }); }));

  // The server runs in its own process group, which a Ctrl+C or a test-runner
  // timeout would not reach: end the group when this process ends, however it ends.
  const killGroup = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  const onSignal = (signal) => {
    killGroup();
    if (!opts.scratch && !opts.keepScratch) rmSync(scratch, { recursive: true, force: true });
    // A signal ends this process (other libraries' handlers, e.g. playwright's,
    // would otherwise keep it alive); exit handlers still close the browser.
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15));
  };
  const unhook = () => {
    process.removeListener('exit', killGroup);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGHUP', onSignal);
  };
  process.once('exit', killGroup);
  if (opts.handleSignals !== false) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
  }

  const stop = async () => {
    unhook();
    if (!exited && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const killed = await Promise.race([exitPromise.then(() => true), new Promise((r) => setTimeout(() => r(false), 3000))]);
      if (!killed) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
        await exitPromise;
      }
    }
    // Extension hosts are children of the server in the same group; give the
    // group a moment, then make sure none survives.
    if (child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* group empty */
      }
    }
    if (!opts.keepScratch && !opts.scratch) rmSync(scratch, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/`;
  for (;;) {
    if (exited) throw new Error(`VS Code server exited before it was ready:\n${output.slice(-30).join('\n')}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`VS Code server did not answer on ${url} in time:\n${output.slice(-30).join('\n')}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { port, url, scratch, child, output, stop };
}

/**
 * The workbench URL: opens `folder` and passes the development-extension and
 * tests paths through the payload, as `vscode-remote://host:port/...` URIs on
 * the page's own host.
 * @param {{ host?: string, port: number, folder: string, extensionDevelopmentPath?: string, extensionTestsPath?: string }} o
 */
export function workbenchUrl(o) {
  const authority = `${o.host ?? '127.0.0.1'}:${o.port}`;
  const remote = (p) => `vscode-remote://${authority}${pathToFileURL(resolve(p)).pathname}`;
  const payload = [['skipWelcome', 'true']];
  if (o.extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(o.extensionDevelopmentPath)]);
  if (o.extensionTestsPath) payload.push(['extensionTestsPath', remote(o.extensionTestsPath)]);
  const q = new URLSearchParams({ folder: pathToFileURL(resolve(o.folder)).pathname, payload: JSON.stringify(payload) });
  return `http://${authority}/?${q.toString()}`;
}

/**
 * Launches Debian's headless Chromium through playwright-core. Playwright
 * never downloads a browser here: the executable is given explicitly.
 * @param {{ width?: number, height?: number }} [opts]
 */
export async function launchBrowser(opts = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run \`sudo bash tools/setup-system.sh\` (Debian package chromium-headless-shell)`);
  }
  process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'],
  });
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 } });
  return { browser, context };
}

// Run as a script (no top-level await: tests load this file through tsx as CommonJS).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const cmd = process.argv[2] ?? 'install';
  if (cmd === 'install') {
    ensureServer({ log: (l) => console.log(l) }).then(
      (r) => console.log(`VS Code ${r.version} (code-server ${CODE_SERVER_VERSION}, Node ${NODE24_VERSION}) ${r.installed ? `installed in ${r.seconds.toFixed(0)} s` : 'already installed'} at ${cacheDir}`),
      (err) => {
        console.error(err instanceof Error ? err.message : err);
        process.exitCode = 1;
      },
    );
  } else {
    console.error('usage: node tools/vscode-server.mjs install');
    process.exitCode = 2;
  }
}
