#!/usr/bin/env node
// Runs jest and ends with one plain summary line ("tests: N passed, N failed, N skipped")
// that any CI can read, whatever reporter is in use. Extra arguments go to jest.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const out = join(tmpdir(), `hale-jest-${process.pid}.json`);
// Test files run in workers that jest replaces once one holds more than workerIdleMemoryLimit (jest.config.js)
// after a file: run in band, the whole suite grew one process past Node's 4 GB heap. Two at a time by default
// (HALE_TEST_WORKERS): a file spends most of its time starting its server and waiting on PostgreSQL, so two
// keep both cores busy, and one at a time had grown past 30 minutes. Each file has its own database and server.
const workers = process.env.HALE_TEST_WORKERS ?? '2';
const args = ['jest', `--maxWorkers=${workers}`, '--json', `--outputFile=${out}`, ...process.argv.slice(2)];
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
