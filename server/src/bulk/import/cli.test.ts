import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestServer } from '../../test/bundles';

const ROOT = join(__dirname, '../../../..');
const server = useTestServer();
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hale-import-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hale(args: string[], databaseUrl: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/cli.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end();
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

describe('hale import', () => {
  test('imports an NDJSON file, prints progress on stderr and a JSON summary; a bad file fails alone', async () => {
    const srv = server();
    const good = join(dir, 'good.ndjson');
    const bad = join(dir, 'bad.ndjson');
    const patients = Array.from({ length: 3 }, (_, i) => ({ resourceType: 'Patient', id: `cli-${i}` }));
    writeFileSync(good, patients.map((p) => JSON.stringify(p)).join('\n') + '\n');
    writeFileSync(bad, `${JSON.stringify({ resourceType: 'Patient', id: 'cli-bad' })}\n{oops\n`);
    const run = await hale(['import', good, bad], srv.databaseUrl);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/good\.ndjson: done, 3 resources/);
    const summary = JSON.parse(run.stdout) as { resources: number; files: { counts?: object; error?: unknown }[] };
    expect(summary.resources).toBe(3);
    expect(summary.files[0]?.counts).toEqual({ Patient: 3 });
    expect(JSON.stringify(summary.files[1]?.error)).toMatch(/line 2/);
    expect((await srv.get('Patient/cli-1')).status).toBe(200);
    expect((await srv.get('Patient/cli-bad')).status).toBe(404);
  }, 60_000);
});
