import type { Bundle, Observation, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { TestServer } from '../../test/test-server';
import { matchIds, startTestServer } from '../../test/test-server';

let s: TestServer;
let alice: Patient & { id: string };
let bob: Patient & { id: string };
let zoe: Patient & { id: string };
const obs: Record<string, Observation & { id: string }> = {};

const LOINC = 'http://loinc.org';
const VITALS = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }],
};
/** Glucose [Moles/volume] in Blood: a code Hale does not convert (2339-0 in mmol/L is stored in mg/dL). */
const GLUCOSE = '15074-8';
const LABS = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] };

function observation(subject: string, code: string, effective: string, value?: number, unit = '/min'): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [code === GLUCOSE ? LABS : VITALS],
    code: {
      coding: [{ system: LOINC, code, display: code === '8867-4' ? 'Heart rate' : 'Glucose' }],
      text: code === '8867-4' ? 'Heart rate' : 'Glucose',
    },
    subject: { reference: subject },
    effectiveDateTime: effective,
    ...(value !== undefined ? { valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit } } : {}),
  };
}

beforeAll(async () => {
  s = await startTestServer();
  alice = await s.create<Patient>({
    resourceType: 'Patient',
    name: [{ family: 'Anderson', given: ['Alice', 'May'] }],
    gender: 'female',
    birthDate: '1980-05-15',
    active: true,
    identifier: [
      {
        system: 'urn:mrn',
        value: 'A-100',
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
      },
    ],
    telecom: [{ system: 'email', value: 'alice@example.org' }],
    address: [{ city: 'Wellington', postalCode: '6011' }],
    meta: {
      tag: [{ system: 'urn:tags', code: 'wellness' }],
      profile: ['http://example.org/StructureDefinition/my-patient'],
    },
  });
  bob = await s.create<Patient>({
    resourceType: 'Patient',
    name: [{ family: 'Brown_100%', given: ['Bob'] }],
    gender: 'male',
    birthDate: '1975',
    identifier: [{ system: 'urn:mrn', value: 'B-200' }],
  });
  zoe = await s.create<Patient>({
    resourceType: 'Patient',
    name: [{ family: 'Müller', given: ['Zoë'] }],
    gender: 'female',
    birthDate: '2001-12-31',
  });
  obs.hr1 = await s.create(observation(`Patient/${alice.id}`, '8867-4', '2024-07-01T10:00:00Z', 72));
  obs.hr2 = await s.create(observation(`Patient/${alice.id}`, '8867-4', '2024-07-15T10:00:00Z', 100));
  obs.hr3 = await s.create(observation(`Patient/${bob.id}`, '8867-4', '2023-01-10T08:30:00+02:00', 55));
  obs.glu = await s.create(observation(`Patient/${alice.id}`, GLUCOSE, '2024-08-01', 5.4, 'mmol/L'));
  obs.bp = await s.create<Observation>({
    resourceType: 'Observation',
    status: 'final',
    category: [VITALS],
    code: { coding: [{ system: LOINC, code: '85354-9' }] },
    subject: { reference: `Patient/${bob.id}` },
    effectivePeriod: { start: '2024-02-01T09:00:00Z', end: '2024-02-01T09:30:00Z' },
    component: [
      {
        code: { coding: [{ system: LOINC, code: '8480-6' }] },
        valueQuantity: { value: 150, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
      },
      {
        code: { coding: [{ system: LOINC, code: '8462-4' }] },
        valueQuantity: { value: 85, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
      },
    ],
  });
});
afterAll(async () => {
  await s?.stop();
});

const ids = async (query: string): Promise<string[]> => matchIds(await s.search(query));

describe('string', () => {
  test('default is a case- and accent-insensitive prefix match', async () => {
    expect(await ids('Patient?family=and')).toEqual([alice.id]);
    expect(await ids('Patient?name=ZOE')).toEqual([zoe.id]);
    expect(await ids('Patient?family=muller')).toEqual([zoe.id]);
  });
  test(':exact matches the whole stored value', async () => {
    expect(await ids('Patient?family:exact=Anderson')).toEqual([alice.id]);
    expect(await ids('Patient?family:exact=anderson')).toEqual([]);
  });
  test(':contains matches anywhere', async () => {
    expect(await ids('Patient?family:contains=ders')).toEqual([alice.id]);
  });
  test('SQL wildcards in values are literals', async () => {
    expect(await ids('Patient?family=Brown_100%25')).toEqual([bob.id]);
    expect(await ids('Patient?family=%25')).toEqual([]);
    expect(await ids('Patient?family:contains=_')).toEqual([bob.id]);
  });
  test('address and given names are searchable', async () => {
    expect(await ids('Patient?address-city=welling')).toEqual([alice.id]);
    expect(await ids('Patient?given=may')).toEqual([alice.id]);
  });
});

describe('token', () => {
  test('code, system|code, |code and system|', async () => {
    expect(await ids('Patient?gender=female')).toEqual([alice.id, zoe.id].sort());
    expect(await ids('Patient?identifier=urn:mrn|A-100')).toEqual([alice.id]);
    expect(await ids('Patient?identifier=A-100')).toEqual([alice.id]);
    expect(await ids('Patient?identifier=urn:mrn|')).toEqual([alice.id, bob.id].sort());
    expect(await ids('Patient?identifier=|A-100')).toEqual([]);
  });
  test(':not excludes matches (and keeps resources without the element)', async () => {
    expect(await ids('Patient?gender:not=female')).toEqual([bob.id]);
  });
  test(':text searches the display text', async () => {
    expect(await ids('Observation?code:text=heart')).toEqual([obs.hr1?.id, obs.hr2?.id, obs.hr3?.id].sort());
  });
  test(':of-type matches identifiers by type', async () => {
    expect(await ids('Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|A-100')).toEqual([
      alice.id,
    ]);
  });
  test('boolean tokens', async () => {
    expect(await ids('Patient?active=true')).toEqual([alice.id]);
  });
  test('comma is OR, repeated parameter is AND', async () => {
    expect(await ids('Patient?identifier=A-100,B-200')).toEqual([alice.id, bob.id].sort());
    expect(await ids('Patient?gender=female&family=and')).toEqual([alice.id]);
  });
  test('email telecom', async () => {
    expect(await ids('Patient?email=alice@example.org')).toEqual([alice.id]);
  });
  test('_tag, _profile', async () => {
    expect(await ids('Patient?_tag=urn:tags|wellness')).toEqual([alice.id]);
    expect(await ids('Patient?_profile=http://example.org/StructureDefinition/my-patient')).toEqual([alice.id]);
  });
});

describe('date', () => {
  test('precision-aware equality', async () => {
    expect(await ids('Observation?date=2024-07')).toEqual([obs.hr1?.id, obs.hr2?.id].sort());
    expect(await ids('Observation?date=2024-07-01')).toEqual([obs.hr1?.id]);
    expect(await ids('Observation?date=2024')).toEqual([obs.hr1?.id, obs.hr2?.id, obs.glu?.id, obs.bp?.id].sort());
    expect(await ids('Patient?birthdate=1975')).toEqual([bob.id]);
    expect(await ids('Patient?birthdate=1975-06')).toEqual([]);
  });
  test('prefixes gt lt ge le ne sa eb', async () => {
    expect(await ids('Observation?date=gt2024-07-10')).toEqual([obs.hr2?.id, obs.glu?.id].sort());
    expect(await ids('Observation?date=lt2024-01-01')).toEqual([obs.hr3?.id]);
    expect(await ids('Observation?date=ge2024-08-01')).toEqual([obs.glu?.id]);
    expect(await ids('Observation?date=le2023-01-10')).toEqual([obs.hr3?.id]);
    expect((await ids('Observation?date=ne2024-07-01')).includes(obs.hr1?.id as string)).toBe(false);
    expect(await ids('Observation?date=sa2024-07-31')).toEqual([obs.glu?.id]);
    expect(await ids('Observation?date=eb2023-12-31')).toEqual([obs.hr3?.id]);
  });
  test('a range via two parameters, and time zones', async () => {
    expect(await ids('Observation?date=ge2024-07-01&date=lt2024-07-02')).toEqual([obs.hr1?.id]);
    // 08:30+02:00 is 06:30Z
    expect(await ids('Observation?date=2023-01-10T06:30:00Z')).toEqual([obs.hr3?.id]);
  });
  test('Periods', async () => {
    expect(await ids('Observation?date=2024-02-01')).toEqual([obs.bp?.id]);
    expect(await ids('Observation?date=2024-02-01T09:10:00Z')).toEqual([]);
  });
  test('ap is approximately', async () => {
    // ±10% of the distance to now: 2001-12-30 reaches Zoë (2001-12-31) but not 1980 or 1975
    expect(await ids('Patient?birthdate=ap2001-12-30')).toEqual([zoe.id]);
  });
  test('_lastUpdated', async () => {
    const all = await ids('Patient?_lastUpdated=gt2000-01-01');
    expect(all).toEqual([alice.id, bob.id, zoe.id].sort());
    expect(await ids('Patient?_lastUpdated=lt2000-01-01')).toEqual([]);
  });
  test('an invalid date answers 400', async () => {
    const res = await s.get<OperationOutcome>('Observation?date=2024-13-45');
    expect(res.status).toBe(400);
  });
});

describe('number and quantity', () => {
  test('quantity with prefixes, system and code', async () => {
    expect(await ids('Observation?value-quantity=gt80')).toEqual([obs.hr2?.id]);
    expect(await ids('Observation?value-quantity=72|http://unitsofmeasure.org|/min')).toEqual([obs.hr1?.id]);
    expect(await ids('Observation?value-quantity=5.4||mmol/L')).toEqual([obs.glu?.id]);
    expect(await ids('Observation?value-quantity=le55')).toEqual([obs.hr3?.id, obs.glu?.id].sort());
  });
  test('number precision: 5.4 matches [5.35, 5.45)', async () => {
    expect(await ids('Observation?value-quantity=5.4')).toEqual([obs.glu?.id]);
    expect(await ids('Observation?value-quantity=5.40')).toEqual([obs.glu?.id]);
    expect(await ids('Observation?value-quantity=5')).toEqual([obs.glu?.id]);
    expect(await ids('Observation?value-quantity=5.0')).toEqual([]);
  });
});

describe('reference', () => {
  test('Type/id, bare id, type modifier and absolute URL', async () => {
    const mine = [obs.hr1?.id, obs.hr2?.id, obs.glu?.id].sort();
    expect(await ids(`Observation?subject=Patient/${alice.id}`)).toEqual(mine);
    expect(await ids(`Observation?subject=${alice.id}`)).toEqual(mine);
    expect(await ids(`Observation?subject:Patient=${alice.id}`)).toEqual(mine);
    expect(await ids(`Observation?patient=${s.base}/Patient/${alice.id}`)).toEqual(mine);
  });
  test(':missing', async () => {
    expect(await ids('Observation?value-quantity:missing=true')).toEqual([obs.bp?.id]);
    expect((await ids('Observation?value-quantity:missing=false')).length).toBe(4);
  });
  test(':identifier', async () => {
    await s.create<Observation>({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'note' },
      subject: { identifier: { system: 'urn:mrn', value: 'X-1' } },
    });
    expect((await ids('Observation?subject:identifier=urn:mrn|X-1')).length).toBe(1);
  });
});

describe('composite', () => {
  test('code-value-quantity matches within one component', async () => {
    expect(await ids(`Observation?component-code-value-quantity=${LOINC}|8480-6$gt140`)).toEqual([obs.bp?.id]);
    expect(await ids(`Observation?component-code-value-quantity=${LOINC}|8462-4$gt140`)).toEqual([]);
    expect(await ids(`Observation?code-value-quantity=${LOINC}|8867-4$gt90`)).toEqual([obs.hr2?.id]);
  });
});

describe('chains and _has', () => {
  test('forward chain, and two links', async () => {
    expect(await ids('Observation?subject:Patient.name=anderson')).toEqual(
      [obs.hr1?.id, obs.hr2?.id, obs.glu?.id].sort()
    );
    expect(await ids('Observation?patient.birthdate=1975')).toEqual([obs.hr3?.id, obs.bp?.id].sort());
    const org = await s.create({ resourceType: 'Organization', name: 'Harbour Clinic' });
    const carl = await s.create<Patient>({
      resourceType: 'Patient',
      name: [{ family: 'Carlsen' }],
      managingOrganization: { reference: `Organization/${org.id}` },
    });
    const o = await s.create(observation(`Patient/${carl.id}`, '8867-4', '2022-02-02', 60));
    expect(await ids('Observation?subject:Patient.organization.name=harbour')).toEqual([o.id]);
  });
  test('_has reverse chain', async () => {
    expect(await ids(`Patient?_has:Observation:patient:code=${LOINC}|${GLUCOSE}`)).toEqual([alice.id]);
    expect(await ids('Patient?_has:Observation:patient:value-quantity=lt60||/min')).toEqual([bob.id]);
  });
});

describe('_id, _sort, _count, paging, _total', () => {
  test('_id', async () => {
    expect(await ids(`Patient?_id=${alice.id},${zoe.id}`)).toEqual([alice.id, zoe.id].sort());
  });
  test('_sort on several keys, ascending and descending', async () => {
    const hr = [obs.hr1?.id, obs.hr2?.id, obs.hr3?.id].join(',');
    const b = await s.search(`Observation?_id=${hr}&_sort=-date`);
    expect(b.entry?.map((e) => e.resource?.id)).toEqual([obs.hr2?.id, obs.hr1?.id, obs.hr3?.id]);
    const c = await s.search(`Observation?_id=${hr}&_sort=patient,date`);
    expect(c.entry?.map((e) => e.resource?.id)).toHaveLength(3);
    const p = await s.search('Patient?_sort=birthdate&_id=' + [alice.id, bob.id, zoe.id].join(','));
    expect(p.entry?.map((e) => e.resource?.id)).toEqual([bob.id, alice.id, zoe.id]);
  });
  test('paging follows next links without duplicates, even while data changes', async () => {
    for (let i = 0; i < 7; i++) {
      await s.create<Patient>({ resourceType: 'Patient', name: [{ family: `Pager${i}` }], birthDate: `199${i}-01-01` });
    }
    const seen: string[] = [];
    let url: string | undefined = 'Patient?family=pager&_count=3&_sort=-birthdate';
    let first = true;
    while (url) {
      const page: Bundle = await s.search(url);
      seen.push(...(page.entry ?? []).map((e) => e.resource?.id as string));
      if (first) {
        // A new match sorting first appears while we page: pages already read must not shift.
        await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Pager-late' }], birthDate: '2020-01-01' });
        first = false;
      }
      url = page.link?.find((l) => l.relation === 'next')?.url;
    }
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
  });
  test('_total=accurate counts all matches; _summary=count gives only the count', async () => {
    const b = await s.search(`Observation?patient=${alice.id}&_count=1&_total=accurate`);
    expect(b.total).toBe(3);
    expect(b.entry).toHaveLength(1);
    const c = await s.search(`Observation?patient=${alice.id}&_summary=count`);
    expect(c.total).toBe(3);
    expect(c.entry ?? []).toHaveLength(0);
  });
  test('_count above the maximum answers 400', async () => {
    expect((await s.get('Patient?_count=100000')).status).toBe(400);
  });
});

describe('_include and _revinclude', () => {
  test('_include adds the referenced patients with search.mode include', async () => {
    const b = await s.search(
      `Observation?_id=${[obs.hr1?.id, obs.hr2?.id, obs.hr3?.id].join(',')}&_include=Observation:patient`
    );
    const included = (b.entry ?? [])
      .filter((e) => e.search?.mode === 'include')
      .map((e) => e.resource?.id)
      .sort();
    expect(included).toEqual([alice.id, bob.id].sort());
  });
  test('_revinclude adds the resources pointing at the matches', async () => {
    const b = await s.search(`Patient?_id=${alice.id}&_revinclude=Observation:patient`);
    expect(b.entry?.filter((e) => e.search?.mode === 'include')).toHaveLength(3);
  });
  test(':iterate follows includes of included resources', async () => {
    const org = await s.create({ resourceType: 'Organization', name: 'Iterate Org' });
    const p = await s.create<Patient>({
      resourceType: 'Patient',
      name: [{ family: 'Iter' }],
      managingOrganization: { reference: `Organization/${org.id}` },
    });
    const o = await s.create(observation(`Patient/${p.id}`, '8867-4', '2021-01-01', 61));
    const b = await s.search(
      `Observation?_id=${o.id}&_include=Observation:patient&_include:iterate=Patient:organization`
    );
    expect((b.entry ?? []).map((e) => e.resource?.resourceType).sort()).toEqual([
      'Observation',
      'Organization',
      'Patient',
    ]);
  });
});

describe('_summary and _elements', () => {
  test('_elements keeps the listed elements and marks the resource SUBSETTED', async () => {
    const b = await s.search(`Patient?_id=${alice.id}&_elements=birthDate`);
    const r = b.entry?.[0]?.resource as Patient;
    expect(r.birthDate).toBe('1980-05-15');
    expect(r.name).toBeUndefined();
    expect(r.meta?.tag?.some((t) => t.code === 'SUBSETTED')).toBe(true);
  });
  test('_summary=true keeps summary elements only', async () => {
    const b = await s.search(`Patient?_id=${alice.id}&_summary=true`);
    const r = b.entry?.[0]?.resource as Patient;
    expect(r.name).toBeDefined();
    expect(r.telecom).toBeDefined();
  });
});

describe('search by POST and handling', () => {
  test('POST _search with a form body', async () => {
    const res = await s.request<Bundle>('POST', 'Patient/_search', 'family=anderson', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(200);
    expect(matchIds(res.body)).toEqual([alice.id]);
  });
  test('unknown parameters are ignored and reported under lenient handling, 400 under strict', async () => {
    const lenient = await s.search('Patient?nonsense=1&family=anderson');
    expect(matchIds(lenient)).toEqual([alice.id]);
    expect(lenient.entry?.some((e) => e.search?.mode === 'outcome')).toBe(true);
    const strict = await s.get<OperationOutcome>('Patient?nonsense=1', { prefer: 'handling=strict' });
    expect(strict.status).toBe(400);
    expect(strict.body.issue?.[0]?.details?.text).toContain('nonsense');
  });
  test('FHIR escaping: \\, keeps a comma inside a value', async () => {
    await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Smith, Jr' }] });
    expect((await ids('Patient?family:exact=Smith\\, Jr')).length).toBe(1);
  });
});
