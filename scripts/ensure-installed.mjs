#!/usr/bin/env node
// Installs dependencies from the lockfile when they are missing or the lockfile changed, so
// the README's two commands work on a fresh clone with any Node >= 20 (the pinned Node 24
// arrives with the install, as a devDependency, and every later `npm run` uses it).
import { execSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// npm 11.19 writes lockfiles that its own `npm ci` rejects when a package has platform-specific
// optional dependencies (e.g. @swc/core); npm 10 installs the same lockfile correctly.
export const INSTALLER = 'npm@10.9.9';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'node_modules', '.hale-lock-sha256');
const lockHash = createHash('sha256')
  .update(readFileSync(join(root, 'package-lock.json')))
  .digest('hex');
const installed = existsSync(join(root, 'node_modules', '.bin', 'node'));
const recorded = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : undefined;

if (!installed || (recorded !== undefined && recorded !== lockHash)) {
  process.stderr.write('Installing dependencies from package-lock.json…\n');
  execSync(`npx --yes ${INSTALLER} ci --no-audit --no-fund --loglevel=error`, { cwd: root, stdio: 'inherit' });
}
writeFileSync(stamp, lockHash + '\n');
