import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { parseCli, run } from './cli';
import { generatePatientBundle } from './bundle';

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

describe('seed CLI', () => {
  test('parses options and rejects bad ones', () => {
    expect(parseCli(['--help'])).toBeUndefined();
    expect(
      parseCli(['--out', 'x', '--patients', '3', '--seed=-5', '--header', 'Authorization: Bearer t'])
    ).toMatchObject({
      patients: 3,
      seed: -5,
      out: 'x',
      headers: { Authorization: 'Bearer t' },
      concurrency: 1,
    });
    expect(() => parseCli(['--patients', '2'])).toThrow('--out');
    expect(() => parseCli(['--out', 'x', '--patients', 'two'])).toThrow('--patients');
    expect(() => parseCli(['--out', 'x', '--bogus'])).toThrow();
  });

  test('writes one deterministic JSON file per bundle', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hale-seed-'));
    try {
      const options = parseCli([
        '--out',
        dir,
        '--patients',
        '3',
        '--seed',
        '42',
        '--first-index',
        '2',
        '--resources',
        '60',
      ]);
      const lines: string[] = [];
      const report = await run(options!, (line) => lines.push(line));
      expect(report).toMatchObject({ bundles: 3, resources: 180, failures: 0 });
      expect(await readdir(dir)).toEqual(['patient-000002.json', 'patient-000003.json', 'patient-000004.json']);
      const written = JSON.parse(await readFile(join(dir, 'patient-000003.json'), 'utf8')) as Bundle;
      expect(written).toEqual(generatePatientBundle({ seed: 42, patientIndex: 3, resourcesPerPatient: 60 }));
      expect(lines.at(-1)).toMatch(/3 bundles, 180 resources in .* resources\/s/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("in 'reference' mode writes the directory batch next to the patient bundles", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hale-seed-'));
    try {
      const options = parseCli(['--out', dir, '--patients', '2', '--resources', '30', '--directory', 'reference']);
      const report = await run(options!, () => undefined);
      expect(report).toMatchObject({ bundles: 2, resources: 60, failures: 0 });
      expect(await readdir(dir)).toEqual(['directory.json', 'patient-000000.json', 'patient-000001.json']);
      const directory = JSON.parse(await readFile(join(dir, 'directory.json'), 'utf8')) as Bundle;
      expect(directory).toMatchObject({ resourceType: 'Bundle', type: 'batch' });
      expect(directory.entry).toHaveLength(25);
      expect(() => parseCli(['--out', dir, '--directory', 'elsewhere'])).toThrow('--directory');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('POSTs transactions as application/fhir+json and reports failures', async () => {
    const seen: { contentType?: string; authorization?: string; type?: string }[] = [];
    let calls = 0;
    const server: Server = createServer((request, response) => {
      void readBody(request).then((text) => {
        const bundle = JSON.parse(text) as Bundle;
        seen.push({
          contentType: request.headers['content-type'],
          authorization: request.headers.authorization,
          type: bundle.type,
        });
        response.setHeader('Content-Type', 'application/fhir+json');
        if (++calls === 2) {
          response.statusCode = 400;
          response.end(
            JSON.stringify({
              resourceType: 'OperationOutcome',
              issue: [{ severity: 'error', code: 'invalid', details: { text: 'nope' } }],
            })
          );
          return;
        }
        const entry = (bundle.entry ?? []).map(() => ({ response: { status: '201 Created' } }));
        response.end(JSON.stringify({ resourceType: 'Bundle', type: 'transaction-response', entry }));
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const { port } = server.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}/fhir/R4/`;
      const options = parseCli([
        '--url',
        url,
        '--patients',
        '3',
        '--resources',
        '20',
        '--header',
        'Authorization: Bearer t',
      ]);
      const lines: string[] = [];
      const report = await run(options!, (line) => lines.push(line));
      expect(report).toMatchObject({ bundles: 2, resources: 40, failures: 1 });
      expect(seen).toHaveLength(3);
      expect(seen[0]).toEqual({ contentType: 'application/fhir+json', authorization: 'Bearer t', type: 'transaction' });
      expect(lines.some((line) => line.includes('HTTP 400: nope'))).toBe(true);
    } finally {
      await new Promise((done) => server.close(done));
    }
  });
});
