import type { Binary, DocumentReference, Parameters, Provenance } from '@medplum/fhirtypes';
import { createHash } from 'node:crypto';
import { compactVerify, createLocalJWKSet } from 'jose';
import { PDFDocument } from 'pdf-lib';
import type { Person } from '../scheduling/test-fixtures';
import { as, params, patient, provider } from '../scheduling/test-fixtures';
import { sharingConsent } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';

let s: TestServer;
let dr: Person;
let stranger: Person;
let alice: Person;
let bob: Person;

beforeAll(async () => {
  s = await startTestServer();
  dr = await provider(s, 'Signer');
  stranger = await provider(s, 'Stranger');
  alice = await patient(s, 'Alice');
  bob = await patient(s, 'Bob');
  await s.create(sharingConsent({ patient: alice.id, actor: { reference: dr.ref } }));
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

interface NoteInput {
  kind?: string;
  start?: string;
  end?: string;
  comment?: string;
}

const note = (token: string, who: Person = alice, i: NoteInput = {}) =>
  s.post<Parameters>(
    'DocumentReference/$excuse-note',
    params([
      { name: 'patient', valueReference: { reference: who.ref } },
      { name: 'kind', valueCode: i.kind ?? 'work' },
      { name: 'start', valueDate: i.start ?? '2026-12-07' },
      { name: 'end', valueDate: i.end ?? '2026-12-09' },
      ...(i.comment ? [{ name: 'comment', valueString: i.comment }] : []),
    ]),
    as(token)
  );
const out = <T>(p: Parameters, name: string): T => p.parameter?.find((x) => x.name === name)?.resource as T;

describe('$excuse-note', () => {
  test('a provider writes a signed PDF note into the patient record; the signature verifies against the JWKS', async () => {
    const res = await note(dr.token, alice, { comment: 'Light duties afterwards.' });
    expect(res.status).toBe(201);
    const doc = out<DocumentReference & { id: string }>(res.body, 'documentReference');
    const prov = out<Provenance>(res.body, 'provenance');
    expect(doc).toMatchObject({
      status: 'current',
      subject: { reference: alice.ref },
      author: [{ reference: dr.ref }],
      context: { period: { start: '2026-12-07', end: '2026-12-09' } },
    });
    const attachment = doc.content[0]?.attachment;
    expect(attachment?.contentType).toBe('application/pdf');

    // The patient reads the note, its file and its Provenance as her own data.
    expect((await s.get(`DocumentReference/${doc.id}`, as(alice.token))).status).toBe(200);
    const binary = await s.get<Binary>(attachment?.url ?? '', as(alice.token));
    expect(binary.status).toBe(200);
    const bytes = Buffer.from(binary.body.data ?? '', 'base64');
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(bytes.length).toBe(attachment?.size);
    expect(createHash('sha1').update(bytes).digest('base64')).toBe(attachment?.hash);
    const pdf = await PDFDocument.load(bytes);
    expect([pdf.getPageCount(), pdf.getTitle()]).toEqual([1, 'Work excuse note']);
    const found = await s.get(`Provenance?target=DocumentReference/${doc.id}`, as(alice.token));
    expect(found.body.entry).toHaveLength(1);

    const signature = prov.signature?.[0];
    expect(signature).toMatchObject({
      who: { reference: dr.ref },
      targetFormat: 'application/pdf',
      sigFormat: 'application/jose',
    });
    const jwks = (await (await fetch(`${new URL(s.base).origin}/oauth2/jwks`)).json()) as { keys: [] };
    const { payload } = await compactVerify(
      Buffer.from(signature?.data ?? '', 'base64').toString(),
      createLocalJWKSet(jwks)
    );
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, string>;
    expect(claims).toMatchObject({
      signer: dr.ref,
      document: `DocumentReference/${doc.id}`,
      binary: attachment?.url,
      sha256: createHash('sha256').update(bytes).digest('base64url'),
    });
  });

  test('refused: a provider without a relationship, the patient herself, bad dates or kind; nothing is stored', async () => {
    expect((await note(stranger.token)).status).toBe(403);
    expect((await note(alice.token)).status).toBe(403);
    expect((await note(dr.token, bob)).status).toBe(403);
    expect((await note(dr.token)).status).toBe(201); // the one note stored
    expect((await note(dr.token, alice, { kind: 'holiday' })).status).toBe(400);
    expect((await note(dr.token, alice, { start: '2026-12-09', end: '2026-12-07' })).status).toBe(400);
    expect((await note(dr.token, alice, { start: '2026-01-01', end: '2027-06-01' })).status).toBe(400);
    expect((await note(dr.token, alice, { comment: 'x'.repeat(501) })).status).toBe(400);
    expect((await s.search(`DocumentReference?subject=${bob.ref}`)).entry ?? []).toHaveLength(0);
    expect((await s.search(`DocumentReference?subject=${alice.ref}`)).entry).toHaveLength(2);
  });

  test('another patient cannot read the note or its file', async () => {
    const doc = out<DocumentReference & { id: string }>((await note(dr.token)).body, 'documentReference');
    expect((await s.get(`DocumentReference/${doc.id}`, as(bob.token))).status).toBe(404);
    expect((await s.get(doc.content[0]?.attachment.url ?? '', as(bob.token))).status).toBe(404);
  });
});
