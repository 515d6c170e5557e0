import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { account, observation, sharingConsent, userToken } from '../../test/consent-fixtures';
import type { TestServer } from '../../test/test-server';
import { startTestServer } from '../../test/test-server';

/**
 * Property: for random records, random grants and random queries, what the server returns is
 * exactly what a small, independent model of the Consent rules says the provider may see.
 */

type Kind = 'vitals' | 'lab' | 'survey' | 'condition' | 'med' | 'plan' | 'doc' | 'report';
interface Item {
  kind: Kind;
  type: string;
  date: string; // clinical date, YYYY-MM-DD
  restricted: boolean;
  patient: number;
  id?: string;
}

// The model: which categories take which records, written out independently of categories.ts.
const CATEGORY_MEMBERS: Record<string, Kind[]> = {
  vitals: ['vitals'],
  labs: ['lab', 'report'],
  medications: ['med'],
  'medical-history': ['condition'],
  'care-plans': ['plan'],
  documents: ['doc'],
};
const TYPES: Record<Kind, string> = {
  vitals: 'Observation',
  lab: 'Observation',
  survey: 'Observation',
  condition: 'Condition',
  med: 'MedicationRequest',
  plan: 'CarePlan',
  doc: 'DocumentReference',
  report: 'DiagnosticReport',
};

interface ModelGrant {
  patient: number;
  active: boolean;
  expired: boolean;
  categories?: string[]; // undefined = all
  dataPeriod?: { start: string; end: string };
  denyRestricted: boolean;
  instances?: number[]; // indexes into items
}

function modelSees(item: Item, index: number, grants: ModelGrant[]): boolean {
  return grants.some(
    (g) =>
      g.active &&
      !g.expired &&
      g.patient === item.patient &&
      (!g.categories || g.categories.some((c) => CATEGORY_MEMBERS[c]?.includes(item.kind))) &&
      (!g.dataPeriod || (item.date >= g.dataPeriod.start && item.date <= g.dataPeriod.end)) &&
      (!g.instances || g.instances.includes(index)) &&
      !(g.denyRestricted && item.restricted)
  );
}

const PATIENTS = 3;
let s: TestServer;
const patients: string[] = [];
const items: Item[] = [];

function resourceOf(item: Item): Resource {
  const patient = patients[item.patient] as string;
  const subject = { reference: `Patient/${patient}` };
  const meta = item.restricted
    ? { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] }
    : undefined;
  const common = meta ? { meta } : {};
  switch (item.kind) {
    case 'vitals':
      return { ...observation(patient, 'vital-signs', item.date), ...common };
    case 'lab':
      return { ...observation(patient, 'laboratory', item.date), ...common };
    case 'survey':
      return { ...observation(patient, 'survey', item.date), ...common };
    case 'condition':
      return { resourceType: 'Condition', subject, code: { text: 'c' }, onsetDateTime: item.date, ...common };
    case 'med':
      return {
        resourceType: 'MedicationRequest',
        status: 'active',
        intent: 'order',
        subject,
        medicationCodeableConcept: { text: 'm' },
        authoredOn: item.date,
        ...common,
      };
    case 'plan':
      return {
        resourceType: 'CarePlan',
        status: 'active',
        intent: 'plan',
        subject,
        period: { start: item.date, end: item.date },
        ...common,
      };
    case 'doc':
      return {
        resourceType: 'DocumentReference',
        status: 'current',
        subject,
        date: `${item.date}T00:00:00Z`,
        content: [{ attachment: { contentType: 'text/plain', data: 'eA==' } }],
        ...common,
      };
    case 'report':
      return {
        resourceType: 'DiagnosticReport',
        status: 'final',
        code: { text: 'r' },
        subject,
        effectiveDateTime: item.date,
        ...common,
      };
  }
}

const kindArb = fc.constantFrom<Kind>('vitals', 'lab', 'survey', 'condition', 'med', 'plan', 'doc', 'report');
const dateArb = fc
  .tuple(fc.constantFrom('2025', '2026'), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }))
  .map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);

beforeAll(async () => {
  s = await startTestServer();
  for (let i = 0; i < PATIENTS; i++) {
    patients.push((await s.create({ resourceType: 'Patient', name: [{ family: `P${i}` }] })).id);
  }
  const generated = fc.sample(
    fc.record({
      kind: kindArb,
      date: dateArb,
      restricted: fc.boolean(),
      patient: fc.integer({ min: 0, max: PATIENTS - 1 }),
    }),
    { numRuns: 60, seed: 20261121 }
  );
  const entries: BundleEntry[] = generated.map((g) => ({
    resource: resourceOf({ ...g, type: TYPES[g.kind] }),
    request: { method: 'POST', url: TYPES[g.kind] },
  }));
  const res = await s.post<Bundle>('', { resourceType: 'Bundle', type: 'transaction', entry: entries });
  expect(res.status).toBe(200);
  generated.forEach((g, i) => {
    const location = res.body.entry?.[i]?.response?.location ?? '';
    items.push({ ...g, type: TYPES[g.kind], id: location.split('/')[1] });
  });
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

const windowArb = fc.tuple(dateArb, dateArb).map(([a, b]) => (a <= b ? { start: a, end: b } : { start: b, end: a }));

const grantArb: fc.Arbitrary<ModelGrant> = fc.record({
  patient: fc.integer({ min: 0, max: PATIENTS - 1 }),
  active: fc.constantFrom(true, true, true, false),
  expired: fc.constantFrom(false, false, false, true),
  categories: fc.option(fc.subarray(Object.keys(CATEGORY_MEMBERS), { minLength: 1 }), { nil: undefined }),
  dataPeriod: fc.option(windowArb, { nil: undefined }),
  denyRestricted: fc.boolean(),
  instances: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { minLength: 1, maxLength: 5 }), {
    nil: undefined,
  }),
});

const queryArb = fc.record({
  type: fc.constantFrom(
    'Observation',
    'Condition',
    'MedicationRequest',
    'CarePlan',
    'DocumentReference',
    'DiagnosticReport'
  ),
  patient: fc.option(fc.integer({ min: 0, max: PATIENTS - 1 }), { nil: undefined }),
});

test('every search result matches the reference model of the Consent rules', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(grantArb, { minLength: 0, maxLength: 4 }),
      fc.array(queryArb, { minLength: 1, maxLength: 3 }),
      async (grants, queries) => {
        run++;
        const practitioner = await s.create({ resourceType: 'Practitioner', name: [{ family: `Run${run}` }] });
        const token = await userToken(s, await account(s, ['provider'], { type: 'Practitioner', id: practitioner.id }));
        for (const g of grants) {
          const consent = sharingConsent({
            patient: patients[g.patient] as string,
            actor: { reference: `Practitioner/${practitioner.id}` },
            categories: g.categories,
            dataPeriod: g.dataPeriod ? { start: g.dataPeriod.start, end: g.dataPeriod.end } : undefined,
            denySecurity: g.denyRestricted ? ['R'] : undefined,
            instances: g.instances?.map((i) => `${items[i]?.type}/${items[i]?.id}`),
            period: g.expired ? { start: '2024-01-01', end: '2025-01-01' } : { start: '2024-01-01' },
          });
          await s.create({ ...consent, status: g.active ? 'active' : 'inactive' });
        }
        for (const q of queries) {
          const filter = q.patient === undefined ? '' : `&patient=${patients[q.patient]}`;
          const res = await s.get<Bundle>(`${q.type}?_count=1000&_total=accurate${filter}`, {
            authorization: `Bearer ${token}`,
          });
          const got = (res.body.entry ?? []).map((e) => e.resource?.id).sort();
          const expected = items
            .map((item, i) => ({ item, i }))
            .filter(({ item }) => item.type === q.type && (q.patient === undefined || item.patient === q.patient))
            .filter(({ item, i }) => modelSees(item, i, grants))
            .map(({ item }) => item.id)
            .sort();
          expect({ query: q, got }).toEqual({ query: q, got: expected });
          expect(res.body.total).toBe(expected.length);
        }
      }
    ),
    { numRuns: 40, seed: 4242 }
  );
}, 120_000);
