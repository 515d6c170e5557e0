import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Person } from '../scheduling/test-fixtures';
import { as, patient, provider } from '../scheduling/test-fixtures';
import { sharingConsent } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { pdf } from './test-files';

// An uploaded file is read like any other part of the record: through the patient's Consent (category
// `documents`), and every upload and download is in the patient's audit log.
let s: TestServer;
let dir: string;
let kim: Person;
let dr: Person;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hale-upload-access-'));
  s = await startTestServer({ UPLOAD_DIR: dir });
  kim = await patient(s, 'Kim');
  dr = await provider(s, 'Reader');
}, 60_000);

afterAll(async () => {
  await s?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function upload(bytes: Buffer): Promise<{ document: string; binary: string }> {
  const res = await fetch(`${s.base}/DocumentReference/$upload?title=letter`, {
    method: 'POST',
    headers: { ...as(kim.token), 'content-type': 'application/pdf', accept: 'application/fhir+json' },
    body: bytes,
  });
  expect(res.status).toBe(201);
  const doc = (await res.json()) as { id: string; content: { attachment: { url: string } }[] };
  return { document: `DocumentReference/${doc.id}`, binary: doc.content[0]?.attachment.url ?? '' };
}

const download = (binary: string, token: string): Promise<Response> =>
  fetch(`${s.base}/${binary}`, { headers: { ...as(token), accept: '*/*' } });

describe('who may read an upload', () => {
  test('a provider reads it only under a Consent that shares documents', async () => {
    const bytes = await pdf('Referral letter');
    const { document, binary } = await upload(bytes);
    expect((await download(binary, dr.token)).status).toBe(404);
    expect((await s.get(document, as(dr.token))).status).toBe(404);
    // Sharing vitals is not sharing documents.
    await s.create(sharingConsent({ patient: kim.id, actor: { reference: dr.ref }, categories: ['vitals'] }));
    expect((await download(binary, dr.token)).status).toBe(404);
    await s.create(sharingConsent({ patient: kim.id, actor: { reference: dr.ref }, categories: ['documents'] }));
    const got = await download(binary, dr.token);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await s.get(document, as(dr.token))).status).toBe(200);
  });

  test('the upload and each download are in the patient audit log', async () => {
    const { binary } = await upload(await pdf('Audited'));
    expect((await download(binary, kim.token)).status).toBe(200);
    const id = binary.split('/')[1] ?? '';
    const events = await s.get<Bundle<AuditEvent>>(`AuditEvent?patient=${kim.ref}&_count=200`);
    expect(events.status).toBe(200);
    const naming = (events.body.entry ?? [])
      .map((e) => e.resource as AuditEvent)
      .filter((e) => (e.entity ?? []).some((en) => en.what?.reference?.startsWith(`Binary/${id}`)));
    // The $upload operation (action E) that wrote it, and the read (R).
    expect(naming.map((e) => e.action).sort()).toEqual(['E', 'R']);
  });
});
