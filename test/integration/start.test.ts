// `npm start` (tools/start.mjs): it must bring up the VS Code server, print a
// workbench URL that loads Subword from this folder on the sample workspace,
// and stop the server cleanly on Ctrl+C.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureServer, freePort, root } from '../../tools/vscode-server.mjs';

test('npm start serves the workbench at a URL that loads Subword from this folder, and stops on Ctrl+C', { timeout: 600_000 }, async (t) => {
  await ensureServer({ log: (line) => t.diagnostic(line) });
  const port = await freePort();
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, [join(root, 'tools', 'start.mjs'), '--browser', '--port', String(port)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 120_000;
    let url: string | undefined;
    while (!url && Date.now() < deadline && child.exitCode === null) {
      url = /(http:\/\/127\.0\.0\.1:\d+\/\?\S+)/.exec(out)?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(url, `no URL printed:\n${out}`);
    assert.match(out, /real VS Code \d+\.\d+\.\d+/, 'says what it starts');
    const u = new URL(url);
    assert.equal(u.port, String(port));
    assert.equal(u.searchParams.get('folder'), join(root, 'test', 'fixtures', 'workspace'));
    const payload = JSON.parse(u.searchParams.get('payload') ?? '[]') as Array<[string, string]>;
    assert.deepEqual(
      payload.find(([k]) => k === 'extensionDevelopmentPath'),
      ['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${root}`],
    );
    assert.ok(!payload.some(([k]) => k === 'extensionTestsPath'), 'no tests payload in npm start');
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /workbench/i, 'the URL serves the VS Code workbench');
  } finally {
    child.kill('SIGINT');
  }
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
  if (code === 'hung') child.kill('SIGKILL');
  assert.equal(code, 0, `npm start did not stop cleanly on Ctrl+C:\n${out}`);
  assert.match(out, /stopping the VS Code server/);
  // The server's port is free again: nothing was left running.
  assert.equal(await freePort(port), port, 'the server still holds its port after Ctrl+C');
});
