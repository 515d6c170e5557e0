#!/usr/bin/env node
// Installs dependencies from the lockfile when they are missing or stale, so the README's
// two commands work on a fresh clone with any Node >= 20 (the pinned Node 24 arrives with
// the install, as a devDependency, and every later `npm run` uses it).
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const INSTALLER = 'npm@10.9.9';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
const stale =
  !existsSync(marker) ||
  !existsSync(join(root, 'node_modules', '.bin', 'node')) ||
  statSync(marker).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  process.stderr.write('Installing dependencies from package-lock.json (first run only)…\n');
  // npm 11.19 writes lockfiles that its own `npm ci` rejects when a package has platform-specific
  // optional dependencies (e.g. @swc/core); npm 10 installs the same lockfile correctly.
  execSync(`npx --yes ${INSTALLER} ci --no-audit --no-fund --loglevel=error`, { cwd: root, stdio: 'inherit' });
}
