// `npm run test:electron`: the same in-VS-Code suite as `npm test`
// (test/vscode), run in desktop VS Code (Electron) through @vscode/test-electron.
// It downloads VS Code at run time, so it needs internet access (or
// --vscode PATH / $SUBWORD_VSCODE_EXECUTABLE pointing at an installed `code`
// executable). On Linux without a display, run it under `xvfb-run -a`.
//   node tools/test-electron.mjs [--version stable|insiders|1.139.1] [--vscode PATH]
// Not part of `npm test`: machines without internet use the offline route
// there (test/integration/vscode.test.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './vscode-server.mjs';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const version = opt('--version') ?? process.env.SUBWORD_VSCODE_VERSION ?? 'stable';
const executable = opt('--vscode') ?? process.env.SUBWORD_VSCODE_EXECUTABLE;

const build = spawnSync(process.execPath, [join(root, 'tools', 'build.mjs'), '--tests'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) {
  console.error('test:electron: the build failed, see above');
  process.exit(1);
}

const { downloadAndUnzipVSCode, runTests } = await import('@vscode/test-electron');

const scratch = mkdtempSync(join(tmpdir(), 'subword-electron-'));
const userData = join(scratch, 'user-data');
mkdirSync(join(userData, 'User'), { recursive: true });
// The same startup settings as the offline route; desktop VS Code has no
// separate machine settings, so they are the user settings here.
writeFileSync(join(userData, 'User', 'settings.json'), readFileSync(join(root, 'test', 'vscode', 'startup-settings.json'), 'utf8'));

let vscodeExecutablePath = executable;
let code = 1;
try {
  if (!vscodeExecutablePath) {
    try {
      vscodeExecutablePath = await downloadAndUnzipVSCode({ version, cachePath: join(root, '.vscode-test') });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      console.error(
        [
          '',
          `test:electron: could not download VS Code ${version} (${why.split('\n')[0]}).`,
          '@vscode/test-electron fetches VS Code from update.code.visualstudio.com at run time, which needs internet access.',
          'Without it: run `npm test`, which runs the same in-VS-Code suite offline in the VS Code server from the',
          'code-server npm package, or pass --vscode /path/to/code (or SUBWORD_VSCODE_EXECUTABLE) to use an installed VS Code.',
        ].join('\n'),
      );
      process.exitCode = 2;
      throw err;
    }
  }
  code = await runTests({
    vscodeExecutablePath,
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out', 'test', 'vscode'),
    launchArgs: [
      join(root, 'test', 'fixtures', 'workspace'),
      '--disable-extensions',
      '--disable-workspace-trust',
      '--skip-welcome',
      '--skip-release-notes',
      '--user-data-dir',
      userData,
      '--extensions-dir',
      join(scratch, 'extensions'),
    ],
  });
  console.log(code === 0 ? 'test:electron: all in-VS-Code tests passed' : `test:electron: failed (exit ${code})`);
  process.exitCode = code;
} catch (err) {
  if (!process.exitCode) {
    console.error(`test:electron: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
