import type { Observation, Patient } from '@medplum/fhirtypes';
import type { TestServer } from '../../test/test-server';
import { matchIds, startTestServer } from '../../test/test-server';

/*
 * Parameters with no rows of their own: derived ones (indexer/derived.ts) and reference parameters
 * narrowed by target type (indexer/reference-rows.ts). Their answers must equal what stored rows
 * would give.
 */
let s: TestServer;
let alice: Patient & { id: string };
let bob: Patient & { id: string };
let zoe: Patient & { id: string };
const obs: Record<string, Observation & { id: string }> = {};

const LOINC = 'http://loinc.org';
const MMHG = { unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' };

function heartRate(subject: string, value: number): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '8867-4' }] },
    subject: { reference: subject },
    valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  };
}

beforeAll(async () => {
  s = await startTestServer();
  alice = await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Anderson' }] });
  bob = await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Brown' }] });
  zoe = await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Müller', given: ['Zoë'] }] });
  obs.hr1 = await s.create(heartRate(`Patient/${alice.id}`, 72));
  obs.hr2 = await s.create(heartRate(`Patient/${alice.id}`, 100));
  obs.hr3 = await s.create(heartRate(`Patient/${bob.id}`, 55));
  obs.glu = await s.create<Observation>({
    resourceType: 'Observation',
    status: 'final',
    // Glucose [Moles/volume]: a code Hale does not convert (2339-0 in mmol/L would be stored in mg/dL).
    code: { coding: [{ system: LOINC, code: '15074-8' }] },
    subject: { reference: `Patient/${alice.id}` },
    valueQuantity: { value: 5.4, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
  });
  obs.bp = await s.create<Observation>({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '85354-9' }] },
    subject: { reference: `Patient/${bob.id}` },
    component: [
      { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 150, ...MMHG } },
      { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: 85, ...MMHG } },
    ],
  });
});
afterAll(async () => {
  await s?.stop();
});

const ids = async (query: string): Promise<string[]> => matchIds(await s.search(query));

describe('derived parameters', () => {
  test('combo-code-value-quantity matches the Observation or one component, never across elements', async () => {
    expect(await ids(`Observation?combo-code-value-quantity=${LOINC}|8480-6$gt140`)).toEqual([obs.bp?.id]);
    expect(await ids(`Observation?combo-code-value-quantity=${LOINC}|8867-4$gt90`)).toEqual([obs.hr2?.id]);
    expect(await ids(`Observation?combo-code-value-quantity=${LOINC}|8480-6$85`)).toEqual([]);
    expect(await ids(`Observation?combo-code-value-quantity=${LOINC}|85354-9$150`)).toEqual([]);
    expect(await ids(`Observation?code-value-quantity=${LOINC}|85354-9$150`)).toEqual([]);
    expect(
      await ids(`Observation?combo-code-value-quantity=${LOINC}|8462-4$85,${LOINC}|8867-4$72&patient=${alice.id}`)
    ).toEqual([obs.hr1?.id]);
  });

  test('combo-code and combo-value-quantity cover the Observation and its components', async () => {
    expect(await ids('Observation?combo-code=8480-6')).toEqual([obs.bp?.id]);
    expect(await ids('Observation?combo-code=85354-9')).toEqual([obs.bp?.id]);
    expect(await ids(`Observation?combo-code=${LOINC}|8867-4`)).toEqual([obs.hr1?.id, obs.hr2?.id, obs.hr3?.id].sort());
    expect(await ids('Observation?combo-code:not=8867-4&patient=' + bob.id)).toEqual([obs.bp?.id]);
    expect(await ids('Observation?combo-value-quantity=gt140')).toEqual([obs.bp?.id]);
    expect(await ids('Observation?combo-value-quantity=100')).toEqual([obs.hr2?.id]);
    const sorted = await s.search('Observation?combo-value-quantity=gt80&_sort=-combo-value-quantity');
    expect((sorted.entry ?? []).map((e) => e.resource?.id)).toEqual([obs.bp?.id, obs.hr2?.id]);
  });

  test(':missing on derived composites', async () => {
    const missing = await ids('Observation?code-value-quantity:missing=true');
    expect(missing).toContain(obs.bp?.id);
    expect(missing).not.toContain(obs.hr1?.id);
    const present = await ids('Observation?combo-code-value-quantity:missing=false');
    expect(present).toEqual(expect.arrayContaining([obs.bp?.id, obs.hr1?.id, obs.glu?.id]));
    expect(await ids('Observation?component-code-value-quantity:missing=false')).toEqual([obs.bp?.id]);
  });

  test('phonetic searches the name rows', async () => {
    expect(await ids('Patient?phonetic=müller')).toEqual([zoe.id]);
  });
});

describe('patient, which reads the subject rows of Patients (reference-rows.ts)', () => {
  test('matches Patient subjects only, by id, external URL or identifier, and :missing', async () => {
    const group = await s.create({ resourceType: 'Group', type: 'person', actual: true });
    const ofGroup = await s.create<Observation>({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'group obs' },
      subject: { reference: `Group/${group.id}` },
    });
    const external = await s.create<Observation>({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'external obs' },
      subject: { reference: 'http://other.example/fhir/Patient/ext-9' },
    });
    const byIdentifier = await s.create<Observation>({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'identified obs' },
      subject: { type: 'Patient', identifier: { system: 'urn:mrn', value: 'NARROW-1' } },
    });
    expect(await ids(`Observation?subject=Group/${group.id}`)).toEqual([ofGroup.id]);
    expect(await ids(`Observation?patient=${group.id}`)).toEqual([]);
    expect(await ids('Observation?patient=http://other.example/fhir/Patient/ext-9')).toEqual([external.id]);
    expect(await ids('Observation?subject:Patient=http://other.example/fhir/Patient/ext-9')).toEqual([external.id]);
    expect(await ids('Observation?patient:identifier=urn:mrn|NARROW-1')).toEqual([byIdentifier.id]);
    const missing = await ids('Observation?patient:missing=true');
    expect(missing).toEqual(expect.arrayContaining([ofGroup.id, byIdentifier.id]));
    expect(missing).not.toContain(external.id);
    expect(missing).not.toContain(obs.hr1?.id);
    const withPatients = await s.search(`Observation?_id=${ofGroup.id},${obs.hr3?.id}&_include=Observation:patient`);
    const included = (withPatients.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => e.resource?.id);
    expect(included).toEqual([bob.id]);
  });
});
