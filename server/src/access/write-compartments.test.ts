import type { Bundle, BundleEntry, Observation, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { account, observation, relationship, sharingConsent, userToken } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';

/**
 * Writes must be allowed in every patient record the version belongs to (and, for updates, the
 * record of the version it replaces): naming oneself somewhere in a resource does not open
 * another patient's record. And a write to a resource the caller cannot see answers as if it did
 * not exist.
 */
let s: TestServer;
let alice: string;
let bob: string;
let practitioner: string;
let aliceCondition: string;
let aliceLab: string;
let parent: string;
let child: string;
const tokens: Record<string, string> = {};
const as = (actor: string) => ({ authorization: `Bearer ${tokens[actor]}` });
const PATCH = { 'content-type': 'application/json-patch+json' };
const IDENTIFIER = 'urn:test:write-compartments';

/** Every Observation, Condition and CareTeam stored, with its version and subject, read with a system token. */
async function stored(): Promise<string[]> {
  const seen: string[] = [];
  for (const type of ['Observation', 'Condition', 'CareTeam']) {
    const bundle = await s.search(`${type}?_count=1000`);
    for (const e of bundle.entry ?? []) {
      const r = e.resource as Resource & { subject?: { reference?: string } };
      seen.push(`${type}/${r.id}/${r.meta?.versionId} ${r.subject?.reference ?? ''}`);
    }
  }
  return seen.sort();
}

/** Bob's Observation of himself, with an identifier conditional writes can find it by. */
async function bobsObservation(): Promise<Observation & { id: string }> {
  const value = randomUUID();
  return s.create(observation(bob, 'vital-signs', '2026-10-01', { identifier: [{ system: IDENTIFIER, value }] }));
}

/** Alice's Observation, naming Bob as its performer: what Bob must not be able to plant. */
const planted = (extra: Partial<Observation> = {}): Observation =>
  observation(alice, 'vital-signs', '2026-10-02', { performer: [{ reference: `Patient/${bob}` }], ...extra });

beforeAll(async () => {
  s = await startTestServer();
  alice = (await s.create({ resourceType: 'Patient', name: [{ family: 'Avery', given: ['Alice'] }] })).id;
  bob = (await s.create({ resourceType: 'Patient', name: [{ family: 'Bishop', given: ['Bob'] }] })).id;
  practitioner = `Practitioner/${(await s.create({ resourceType: 'Practitioner', name: [{ family: 'Doe' }] })).id}`;
  aliceCondition = (
    await s.create({ resourceType: 'Condition', subject: { reference: `Patient/${alice}` }, code: { text: 'Asthma' } })
  ).id;
  aliceLab = (await s.create(observation(alice, 'laboratory', '2026-10-12'))).id;
  tokens.bob = await userToken(s, await account(s, ['patient'], { type: 'Patient', id: bob }));

  // A provider allowed to add labs to Alice's record, and one allowed to add them to Alice's and Bob's.
  const provider = async (name: string, patients: string[]): Promise<void> => {
    const id = (await s.create({ resourceType: 'Practitioner', name: [{ family: name }] })).id;
    tokens[name] = await userToken(s, await account(s, ['provider'], { type: 'Practitioner', id }));
    for (const patient of patients) {
      const team = await s.create(relationship(patient, `Practitioner/${id}`, 'permanent'));
      await s.create(
        sharingConsent({
          patient,
          actor: { reference: `CareTeam/${team.id}` },
          categories: ['labs'],
          actions: ['access', 'correct'],
        })
      );
    }
  };
  await provider('writer', [alice]);
  await provider('bothWriter', [alice, bob]);

  // A parent acting as guardian of their child.
  parent = (await s.create({ resourceType: 'Patient', name: [{ family: 'Avery', given: ['Dana'] }] })).id;
  child = (await s.create({ resourceType: 'Patient', name: [{ family: 'Avery', given: ['Casey'] }] })).id;
  tokens.guardian = await userToken(s, await account(s, ['patient'], { type: 'Patient', id: parent }));
  await s.create(
    sharingConsent({
      patient: child,
      actor: { reference: `Patient/${parent}` },
      guardian: true,
      actions: ['access', 'correct'],
    })
  );
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

describe("a patient cannot write into another patient's record by naming themself in it", () => {
  /** Runs a write as Bob and asserts it was refused with 403 and left every stored resource as it was. */
  async function refused(write: () => Promise<{ status: number; body: unknown }>): Promise<void> {
    const before = await stored();
    const res = await write();
    expect([res.status, res.body]).toEqual([403, expect.objectContaining({ resourceType: 'OperationOutcome' })]);
    expect(await stored()).toEqual(before);
  }

  test('on its own, a resource of Alice is refused', async () => {
    await refused(() =>
      s.post('Condition', { resourceType: 'Condition', subject: { reference: `Patient/${alice}` } }, as('bob'))
    );
  });

  test('POST of an Observation of Alice performed by Bob', async () => {
    await refused(() => s.post('Observation', planted(), as('bob')));
  });

  test('POST of a Condition of Alice asserted by Bob', async () => {
    await refused(() =>
      s.post(
        'Condition',
        {
          resourceType: 'Condition',
          subject: { reference: `Patient/${alice}` },
          asserter: { reference: `Patient/${bob}` },
          code: { text: 'Planted' },
        },
        as('bob')
      )
    );
  });

  test('PUT update-as-create with a fresh id', async () => {
    const id = randomUUID();
    await refused(() => s.put(`Observation/${id}`, { ...planted(), id }, as('bob')));
  });

  test("PUT moving Bob's own Observation into Alice's record", async () => {
    const own = await bobsObservation();
    await refused(() => s.put(`Observation/${own.id}`, { ...planted(), id: own.id }, as('bob')));
  });

  test("PATCH moving Bob's own Observation into Alice's record", async () => {
    const own = await bobsObservation();
    const patch = [
      { op: 'replace', path: '/subject', value: { reference: `Patient/${alice}` } },
      { op: 'add', path: '/performer', value: [{ reference: `Patient/${bob}` }] },
    ];
    await refused(() => s.request('PATCH', `Observation/${own.id}`, patch, { ...as('bob'), ...PATCH }));
  });

  test('conditional create (If-None-Exist with no match)', async () => {
    await refused(() =>
      s.post('Observation', planted(), { ...as('bob'), 'if-none-exist': `identifier=${IDENTIFIER}|${randomUUID()}` })
    );
  });

  test('conditional update with no match (creates) and with a match (Bob moving his own)', async () => {
    await refused(() => s.put(`Observation?identifier=${IDENTIFIER}|${randomUUID()}`, planted(), as('bob')));
    const own = await bobsObservation();
    const value = own.identifier?.[0]?.value as string;
    await refused(() =>
      s.put(`Observation?identifier=${IDENTIFIER}|${value}`, planted({ identifier: own.identifier }), as('bob'))
    );
  });

  test('a transaction entry: the whole transaction is refused', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'POST', url: 'Observation' }, resource: observation(bob, 'vital-signs', '2026-10-03') },
        { request: { method: 'POST', url: 'Observation' }, resource: planted() },
      ],
    };
    await refused(() => s.post('', bundle, as('bob')));
  });

  test('a batch entry is refused on its own (403 in its response), the others still run', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [{ request: { method: 'POST', url: 'Observation' }, resource: planted() }],
    };
    const before = await stored();
    const res = await s.post<Bundle>('', bundle, as('bob'));
    expect(res.status).toBe(200);
    expect(res.body.entry?.map((e: BundleEntry) => e.response?.status)).toEqual([expect.stringMatching(/^403/)]);
    expect(await stored()).toEqual(before);
  });

  test('a CareTeam of Alice with Bob and a practitioner as participants', async () => {
    await refused(() =>
      s.post(
        'CareTeam',
        {
          resourceType: 'CareTeam',
          status: 'active',
          subject: { reference: `Patient/${alice}` },
          participant: [{ member: { reference: `Patient/${bob}` } }, { member: { reference: practitioner } }],
        },
        as('bob')
      )
    );
  });
});

describe('legitimate writes still work', () => {
  test('Bob writes his own Observation performed by a practitioner, or naming only himself', async () => {
    const byPractitioner = observation(bob, 'vital-signs', '2026-10-04', { performer: [{ reference: practitioner }] });
    expect((await s.post('Observation', byPractitioner, as('bob'))).status).toBe(201);
    const onlyBob = observation(bob, 'vital-signs', '2026-10-04', { performer: [{ reference: `Patient/${bob}` }] });
    expect((await s.post('Observation', onlyBob, as('bob'))).status).toBe(201);
  });

  test('a provider with a write grant for Alice adds a lab to her record, but not one naming Bob', async () => {
    expect((await s.post('Observation', observation(alice, 'laboratory', '2026-10-05'), as('writer'))).status).toBe(
      201
    );
    const before = await stored();
    const naming = observation(alice, 'laboratory', '2026-10-05', { performer: [{ reference: `Patient/${bob}` }] });
    expect((await s.post('Observation', naming, as('writer'))).status).toBe(403);
    expect(await stored()).toEqual(before);
  });

  test('a provider with write grants for both patients writes a version naming both', async () => {
    const naming = observation(alice, 'laboratory', '2026-10-05', { performer: [{ reference: `Patient/${bob}` }] });
    expect((await s.post('Observation', naming, as('bothWriter'))).status).toBe(201);
  });

  test("a guardian writes the dependent's Observation naming themself: own record and the guardian grant", async () => {
    const res = await s.post(
      'Observation',
      observation(child, 'vital-signs', '2026-10-06', { performer: [{ reference: `Patient/${parent}` }] }),
      as('guardian')
    );
    expect(res.status).toBe(201);
  });
});

describe('a write to a resource the caller cannot see does not tell it exists', () => {
  const absent = (): string => randomUUID();

  test('PATCH answers exactly as for an id that does not exist', async () => {
    const patch = [{ op: 'add', path: '/note', value: [{ text: 'x' }] }];
    const hidden = await s.request<OperationOutcome>('PATCH', `Condition/${aliceCondition}`, patch, {
      ...as('bob'),
      ...PATCH,
    });
    const missing = await s.request<OperationOutcome>('PATCH', `Condition/${absent()}`, patch, {
      ...as('bob'),
      ...PATCH,
    });
    expect(missing.status).toBe(404);
    expect([hidden.status, hidden.body]).toEqual([missing.status, missing.body]);
    // A patch that would fail (or an If-Match) on the hidden resource tells nothing either.
    const failing = [{ op: 'remove', path: '/nothing-here' }];
    const hiddenFailing = await s.request('PATCH', `Condition/${aliceCondition}`, failing, {
      ...as('bob'),
      ...PATCH,
      'if-match': 'W/"1"',
    });
    expect([hiddenFailing.status, hiddenFailing.body]).toEqual([missing.status, missing.body]);
  });

  test('DELETE answers exactly as for an id that does not exist, and deletes nothing', async () => {
    const hidden = await s.del<OperationOutcome>(`Condition/${aliceCondition}`, as('bob'));
    const missing = await s.del<OperationOutcome>(`Condition/${absent()}`, as('bob'));
    expect(missing.status).toBe(404);
    expect([hidden.status, hidden.body]).toEqual([missing.status, missing.body]);
    expect((await s.get(`Condition/${aliceCondition}`)).status).toBe(200);
  });

  test('a deleted hidden resource answers DELETE like one that never existed', async () => {
    const gone = (await s.create({ resourceType: 'Condition', subject: { reference: `Patient/${alice}` } })).id;
    expect((await s.del(`Condition/${gone}`)).status).toBe(200);
    const hidden = await s.del(`Condition/${gone}`, as('bob'));
    const missing = await s.del(`Condition/${absent()}`, as('bob'));
    expect([hidden.status, hidden.body]).toEqual([missing.status, missing.body]);
  });

  test('PUT is refused with the same answer as any write Bob may not make, and changes nothing', async () => {
    const before = await stored();
    const body = { resourceType: 'Condition', subject: { reference: `Patient/${bob}` }, code: { text: 'Mine' } };
    const hidden = await s.put(`Condition/${aliceCondition}`, { ...body, id: aliceCondition }, as('bob'));
    const id = absent();
    const refusedAnyway = await s.put(
      `Condition/${id}`,
      { ...body, id, subject: { reference: `Patient/${alice}` } },
      as('bob')
    );
    expect(refusedAnyway.status).toBe(403);
    expect([hidden.status, hidden.body]).toEqual([refusedAnyway.status, refusedAnyway.body]);
    expect(await stored()).toEqual(before);
  });

  test('PUT with If-Match to a hidden resource fails the precondition as for an absent one', async () => {
    const body = { resourceType: 'Condition', subject: { reference: `Patient/${bob}` } };
    const headers = { ...as('bob'), 'if-match': 'W/"1"' };
    const hidden = await s.put(`Condition/${aliceCondition}`, { ...body, id: aliceCondition }, headers);
    const id = absent();
    const missing = await s.put(`Condition/${id}`, { ...body, id }, headers);
    expect(missing.status).toBe(412);
    expect([hidden.status, hidden.body]).toEqual([missing.status, missing.body]);
  });

  test('a resource the caller can read but not change still answers 403', async () => {
    expect((await s.del(`Observation/${aliceLab}`, as('writer'))).status).toBe(403);
    // The provider is not granted Alice's conditions: for them the Condition does not exist.
    const hidden = await s.del(`Condition/${aliceCondition}`, as('writer'));
    const missing = await s.del(`Condition/${absent()}`, as('writer'));
    expect([hidden.status, hidden.body]).toEqual([404, missing.body]);
  });
});
