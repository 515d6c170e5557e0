import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Prints the indexing speed over the Synthea fixtures; measured, never asserted (timing depends on the machine). */
test('indexing speed over the Synthea fixtures', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'speed-bench.ts')], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) {
    throw new Error(`speed-bench.ts failed (${result.status ?? result.signal}): ${result.stderr}`);
  }
  console.log(result.stdout.trim());
  expect(result.stdout).toContain('µs/resource');
});
