// Types for tools/vscode-server.mjs, so that TypeScript tests can import it.
import type { ChildProcess } from 'node:child_process';
import type { Browser, BrowserContext } from 'playwright-core';

export const root: string;
export const CODE_SERVER_VERSION: string;
export const NODE24_VERSION: string;
export const CHROMIUM: string;
export const cacheDir: string;
export const node24: string;
export const serverMain: string;
export const DEMO_SETTINGS: string;

export function ensureServer(opts?: { log?: (line: string) => void }): Promise<{ installed: boolean; seconds: number; version: string }>;
export function vscodeVersion(): string;
export function freePort(preferred?: number): Promise<number>;

export interface RunningServer {
  readonly port: number;
  readonly url: string;
  readonly scratch: string;
  readonly child: ChildProcess;
  /** The server's last few hundred output lines. */
  readonly output: string[];
  stop(): Promise<void>;
}
export function startServer(opts?: {
  handleSignals?: boolean;
  host?: string;
  port?: number;
  log?: (line: string) => void;
  scratch?: string;
  keepScratch?: boolean;
  timeoutMs?: number;
  machineSettings?: string;
}): Promise<RunningServer>;

export function workbenchUrl(o: { host?: string; port: number; folder: string; extensionDevelopmentPath?: string; extensionTestsPath?: string }): string;
export function launchBrowser(opts?: { width?: number; height?: number }): Promise<{ browser: Browser; context: BrowserContext }>;
