import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestServer } from '../../test/bundles';
import { runHaleCli as hale } from '../../test/hale-cli';

const server = useTestServer();
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hale-import-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
