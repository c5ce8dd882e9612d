// `npm start`: a real VS Code with Subword loaded (development mode, from this
// folder) on the sample workspace test/fixtures/workspace.
//   node tools/start.mjs [--browser] [--port N] [--host H]
// With a desktop VS Code on PATH (`code`) and a display, it opens that.
// Otherwise (or with --browser) it starts the VS Code server from the
// code-server npm package (installed once into .vscode-test/, see
// tools/vscode-server.mjs) and prints the URL to open in a browser.
// Where neither can run, it says so and shows the CLI demo instead.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CODE_SERVER_VERSION,
  DEMO_SETTINGS,
  ensureServer,
  freePort,
  root,
  startServer,
  vscodeVersion,
  workbenchUrl,
} from './vscode-server.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const workspace = join(root, 'test', 'fixtures', 'workspace');

function build() {
  const r = spawnSync(process.execPath, [join(root, 'tools', 'build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    console.error('start: the build failed, see above');
    process.exit(1);
  }
}

function hasDesktopCode() {
  const hasDisplay = process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
  if (!hasDisplay) return false;
  const r = spawnSync('code', ['--version'], { encoding: 'utf8', timeout: 15_000, shell: process.platform === 'win32' });
  return r.status === 0;
}

function cliDemo(reason) {
  console.log(`\nSubword: no VS Code can run here (${reason}).`);
  console.log('Showing the CLI demo instead (the same engine, from a terminal):\n');
  spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), '--help'], { stdio: 'inherit' });
}

build();

if (!flag('--browser') && hasDesktopCode()) {
  console.log(`Subword: opening desktop VS Code with the extension loaded from ${root} on ${workspace}`);
  const child = spawn('code', [`--extensionDevelopmentPath=${root}`, '--new-window', workspace], {
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  let server;
  try {
    const install = await ensureServer({ log: (l) => console.log(l) });
    // Settings and state persist between runs here (the folder is gitignored).
    const scratch = join(root, '.vscode-test', 'start');
    mkdirSync(scratch, { recursive: true });
    const host = value('--host') ?? '127.0.0.1';
    server = await startServer({
      handleSignals: false,
      host,
      // A stable default port keeps the URL the same between runs.
      port: value('--port') ? Number(value('--port')) : await freePort(8731),
      scratch,
      machineSettings: DEMO_SETTINGS,
      log: flag('--verbose') ? (l) => console.log(`[server] ${l}`) : undefined,
    });
    const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host;
    const url = workbenchUrl({ host: urlHost, port: server.port, folder: workspace, extensionDevelopmentPath: root });
    console.log(
      [
        '',
        `Subword in a real VS Code ${install.version || vscodeVersion()}, running in your browser:`,
        `  the VS Code server from the code-server ${CODE_SERVER_VERSION} npm package (web workbench, Node extension host),`,
        `  with Subword loaded in development mode from ${root}`,
        `  on the sample workspace ${workspace}.`,
        '',
        'Open this URL in a browser on this machine (use it exactly; the page host must stay',
        `${urlHost}:${server.port}; forward that port to the same number to open it from elsewhere):`,
        '',
        `  ${url}`,
        '',
        'Rebuild with `npm run watch` in another terminal and reload the page to pick up changes.',
        'Press Ctrl+C to stop the server.',
      ].join('\n'),
    );
  } catch (err) {
    await server?.stop();
    cliDemo(err instanceof Error ? err.message.split('\n')[0] : String(err));
    process.exit(1);
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the VS Code server');
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  server.child.on('exit', (code) => {
    if (!stopping) {
      console.error(`the VS Code server exited (${code})`);
      process.exit(1);
    }
  });
}
