import { extname } from 'node:path';

/** File extension -> VS Code language id, for CLI commands that take a file path. */
const EXTENSION_LANGUAGES: Readonly<Record<string, string>> = {
  '.py': 'python',
  '.js': 'javascript',
  '.mjs': 'javascript',
  '.cjs': 'javascript',
  '.jsx': 'javascriptreact',
  '.ts': 'typescript',
  '.mts': 'typescript',
  '.cts': 'typescript',
  '.tsx': 'typescriptreact',
  '.json': 'json',
  '.md': 'markdown',
  '.html': 'html',
  '.rs': 'rust',
  '.go': 'go',
  '.java': 'java',
  '.c': 'c',
  '.h': 'c',
  '.cc': 'cpp',
  '.cpp': 'cpp',
  '.hpp': 'cpp',
  '.cs': 'csharp',
  '.rb': 'ruby',
  '.php': 'php',
  '.sh': 'shellscript',
  '.bash': 'shellscript',
  '.css': 'css',
  '.ini': 'ini',
  '.ps1': 'powershell',
};

/** The VS Code language id a file's extension implies, if Subword knows it. */
export function languageForPath(path: string): string | undefined {
  return EXTENSION_LANGUAGES[extname(path).toLowerCase()];
}
