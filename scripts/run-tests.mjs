#!/usr/bin/env node
// Runs jest and ends with one plain summary line ("tests: N passed, N failed, N skipped")
// that any CI can read, whatever reporter is in use. Extra arguments go to jest.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const out = join(tmpdir(), `hale-jest-${process.pid}.json`);
// One test file at a time, in a worker that jest replaces once it holds more than workerIdleMemoryLimit
// (jest.config.js) after a file: run in band, the whole suite grew one process past Node's 4 GB heap.
const args = ['jest', '--maxWorkers=1', '--json', `--outputFile=${out}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit', env: process.env });
let code = run.status ?? 1;
if (existsSync(out)) {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  rmSync(out, { force: true });
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  process.stdout.write(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped\n`);
  if (r.numTotalTests === 0) {
    code = code || 1;
  }
} else {
  process.stdout.write('\ntests: 0 passed, 1 failed\n');
  code = code || 1;
}
process.exit(code);
