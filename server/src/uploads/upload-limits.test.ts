import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from '../db/sql';
import type { Person } from '../scheduling/test-fixtures';
import { patient } from '../scheduling/test-fixtures';
import { eventually } from '../test/bots';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { dicom, heic, png } from './test-files';

// The upload limits a hostile or broken client meets: a body past UPLOAD_MAX_BYTES (declared or not), a client
// that goes away mid-upload, the virus-scan hook refusing, and many uploads at once. None may leave a spool
// file or a Binary row behind, and none may stop the server answering.
let s: TestServer;
let dir: string;
let alice: Person;

const LIMIT = 64 * 1024;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hale-upload-limits-'));
  const scanner = join(dir, 'scan.sh');
  // Refuses a file holding the EICAR marker; the command gets the spooled file's path as its last argument.
  await writeFile(scanner, '#!/bin/sh\nif grep -q EICAR-TEST "$1"; then exit 1; fi\nexit 0\n');
  await chmod(scanner, 0o755);
  s = await startTestServer({
    UPLOAD_DIR: join(dir, 'store'),
    UPLOAD_MAX_BYTES: String(LIMIT),
    UPLOAD_SCAN_COMMAND: scanner,
  });
  alice = await patient(s, 'Alice');
}, 60_000);

afterAll(async () => {
  await s?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function leftovers(): Promise<{ spool: number; binaries: number }> {
  const spool = await readdir(join(dir, 'store', 'tmp')).catch(() => []);
  const [row] = await s.hale.db.query<{ n: string }>(sql`SELECT count(*) AS n FROM resource WHERE type = 'Binary'`);
  return { spool: spool.length, binaries: Number(row?.n) };
}

/** A PNG signature followed by `size` bytes of padding: sniffed as PNG, whatever its length. */
const pngOfSize = (size: number): Buffer => Buffer.concat([png(), Buffer.alloc(size, 0x41)]);

/** POSTs chunks without a Content-Length (chunked transfer encoding), as a streaming client would. */
function postChunked(path: string, chunks: Buffer[]): Promise<{ status: number; body: string }> {
  const url = new URL(`${s.base}/${path}`);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${alice.token}`,
          'content-type': 'image/png',
          accept: 'application/fhir+json',
          'transfer-encoding': 'chunked',
        },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }
    );
    req.on('error', reject);
    for (const c of chunks) {
      req.write(c);
    }
    req.end();
  });
}

async function postBinary(body: Buffer, contentType = 'image/png'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${s.base}/Binary`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice.token}`, 'content-type': contentType, accept: 'application/fhir+json' },
    body,
  });
  return { status: res.status, body: JSON.parse(await res.text()) };
}

describe('upload limits', () => {
  test('a body past the limit is refused with 413 whether or not its length was declared, leaving nothing', async () => {
    const before = await leftovers();
    const declared = await postBinary(pngOfSize(LIMIT));
    expect(declared.status).toBe(413);
    expect(declared.body.resourceType).toBe('OperationOutcome');
    // No Content-Length: the limit is found while the body streams in, 16 KB at a time.
    const chunks = Array.from({ length: 8 }, (_, i) => (i === 0 ? pngOfSize(16 * 1024) : Buffer.alloc(16 * 1024, 1)));
    const streamed = await postChunked('DocumentReference/$upload', chunks);
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body).resourceType).toBe('OperationOutcome');
    expect(await leftovers()).toEqual(before);
    // Just under the limit is accepted.
    expect((await postChunked('Binary', [pngOfSize(LIMIT - 1024)])).status).toBe(201);
  });

  test('a client that disconnects mid-upload leaves nothing and the server goes on answering', async () => {
    const before = await leftovers();
    const url = new URL(`${s.base}/DocumentReference/$upload`);
    await new Promise<void>((resolve) => {
      const req = request(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${alice.token}`,
          'content-type': 'image/png',
          'content-length': String(LIMIT - 1),
        },
      });
      req.on('error', () => resolve());
      req.write(pngOfSize(8 * 1024), () => {
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 200);
      });
    });
    await eventually(async () => {
      const now = await leftovers();
      return now.spool === before.spool && now.binaries === before.binaries ? true : undefined;
    });
    const after = await postBinary(png(0, 0, 255));
    expect(after.status).toBe(201);
  });

  test('the virus-scan hook refusing answers 422 and keeps nothing', async () => {
    const before = await leftovers();
    const infected = Buffer.concat([png(), Buffer.from('EICAR-TEST')]);
    const res = await postBinary(infected);
    expect(res.status).toBe(422);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(await leftovers()).toEqual(before);
  });

  test('concurrent uploads each get their own Binary and read back their own bytes', async () => {
    const files = Array.from({ length: 8 }, (_, i) => png(i * 30, 255 - i * 30, i));
    const answers = await Promise.all(files.map((f) => postBinary(f)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
    const ids = answers.map((a) => a.body.id as string);
    expect(new Set(ids).size).toBe(8);
    for (const [i, id] of ids.entries()) {
      const got = await fetch(`${s.base}/Binary/${id}`, {
        headers: { authorization: `Bearer ${alice.token}`, accept: '*/*' },
      });
      expect(Buffer.from(await got.arrayBuffer()).equals(files[i] as Buffer)).toBe(true);
    }
  });

  test('HEIC is accepted and DICOM is not unless UPLOAD_ALLOW_DICOM is set', async () => {
    expect((await postBinary(heic(), 'image/heic')).status).toBe(201);
    const refused = await postBinary(dicom(), 'application/dicom');
    expect(refused.status).toBe(415);
    expect(refused.body.resourceType).toBe('OperationOutcome');
  });
});
