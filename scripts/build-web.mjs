#!/usr/bin/env node
// Builds the web portal (web/dist, served by Hale at /) when it is missing or older than its sources,
// so `npm start` and `npm test` serve the current portal without rebuilding it every time.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const web = new URL('../web/', import.meta.url).pathname;
const built = join(web, 'dist', 'index.html');

function newest(path) {
  const s = statSync(path);
  return s.isDirectory() ? Math.max(0, ...readdirSync(path).map((n) => newest(join(path, n)))) : s.mtimeMs;
}

const sources = ['src', 'index.html', 'vite.config.ts', 'package.json', 'scripts'].map((p) => join(web, p));
const lock = new URL('../package-lock.json', import.meta.url).pathname;
const stale =
  !existsSync(built) ||
  Math.max(...sources.filter(existsSync).map(newest), statSync(lock).mtimeMs) > statSync(built).mtimeMs;
if (stale) {
  const run = spawnSync('npm', ['run', '--silent', '-w', 'web', 'build'], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}
