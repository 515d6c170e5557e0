import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Person } from '../scheduling/test-fixtures';
import { patient } from '../scheduling/test-fixtures';
import { sql } from '../db/sql';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { jpeg, pdf, png } from './test-files';

let s: TestServer;
let dir: string;
let alice: Person;
let bob: Person;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hale-uploads-'));
  s = await startTestServer({ UPLOAD_DIR: dir });
  alice = await patient(s, 'Alice');
  bob = await patient(s, 'Bob');
}, 60_000);

afterAll(async () => {
  await s?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function post(path: string, body: Buffer, contentType: string, token: string, headers = {}) {
  const res = await fetch(`${s.base}/${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': contentType,
      accept: 'application/fhir+json',
      ...headers,
    },
    body,
  });
  return { status: res.status, headers: res.headers, body: JSON.parse(await res.text()) };
}

async function leftovers(): Promise<{ spool: number; binaries: number }> {
  const spool = await readdir(join(dir, 'tmp')).catch(() => []);
  const [row] = await s.hale.db.query<{ n: string }>(sql`SELECT count(*) AS n FROM resource WHERE type = 'Binary'`);
  return { spool: spool.length, binaries: Number(row?.n) };
}

describe('uploads', () => {
  test('PDF, PNG and JPEG are stored, described and read back byte for byte, streamed with nosniff', async () => {
    for (const [bytes, type] of [
      [await pdf(), 'application/pdf'],
      [png(), 'image/png'],
      [jpeg(), 'image/jpeg'],
    ] as const) {
      const res = await post('DocumentReference/$upload?title=scan', bytes, type, alice.token);
      expect(res.status).toBe(201);
      const attachment = res.body.content[0].attachment;
      expect(res.body.subject.reference).toBe(alice.ref);
      expect(attachment).toMatchObject({ contentType: type, size: bytes.length, title: 'scan' });
      const got = await fetch(`${s.base}/${attachment.url}`, {
        headers: { authorization: `Bearer ${alice.token}`, accept: '*/*' },
      });
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe(type);
      expect(got.headers.get('x-content-type-options')).toBe('nosniff');
      expect(got.headers.get('content-disposition')).toMatch(/^attachment/);
      expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
    }
  });

  test('POST Binary with raw bytes (as on Medplum) lands in the caller patient record', async () => {
    const res = await post('Binary', png(0, 255, 0), 'image/png', alice.token);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      resourceType: 'Binary',
      contentType: 'image/png',
      securityContext: { reference: alice.ref },
    });
  });

  test('a spoofed type is refused with 415 and leaves nothing', async () => {
    const before = await leftovers();
    const html = await post(
      'DocumentReference/$upload',
      Buffer.from('<html><script>x</script></html>'),
      'image/png',
      alice.token
    );
    expect(html.status).toBe(415);
    expect(html.body.resourceType).toBe('OperationOutcome');
    const exe = await post('Binary', Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200)]), 'image/png', alice.token);
    expect(exe.status).toBe(415);
    expect((await post('Binary', png(), 'image/jpeg', alice.token)).status).toBe(415);
    expect((await post('Binary', png(), 'text/html', alice.token)).status).toBe(415);
    expect(await leftovers()).toEqual(before);
  });

  test('a patient uploading into another patient record is refused with 403', async () => {
    const before = await leftovers();
    const res = await post('Binary', png(), 'image/png', alice.token, { 'x-security-context': bob.ref });
    expect(res.status).toBe(403);
    expect((await post(`DocumentReference/$upload?patient=${bob.ref}`, png(), 'image/png', alice.token)).status).toBe(
      403
    );
    expect(await leftovers()).toEqual(before);
  });
});
