import { baseDefinitions, haleConformanceResources, withSnapshot } from '@hale/fhir-profiles';
import type {
  Bundle,
  CareTeam,
  CodeSystem,
  Consent,
  ElementDefinition,
  OperationOutcome,
  StructureDefinition,
} from '@medplum/fhirtypes';
import { CATEGORY_DEFINITIONS } from '../access/consent/categories';
import {
  ACT_CODE_SYSTEM,
  CARETEAM_PROFILE,
  CATEGORIES,
  CATEGORY_SYSTEM,
  CLIENT_ID_SYSTEM,
  CONSENT_PROFILE,
  CONSENT_SCOPE_SYSTEM,
  DATA_SHARING_REQUEST,
  FAVORITE_EXTENSION,
  RELATIONSHIP_SYSTEM,
  RELATIONSHIP_TYPES,
  RESEARCH_CONSENT_PROFILE,
  TASK_CODE_SYSTEM,
  WELLNESS_CATEGORIES,
  WELLNESS_CATEGORY_SYSTEM,
} from '../access/consent/vocabulary';
import { SearchParamRegistry } from '../storage/search-params';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { publishHaleConformance } from './hale-profiles';
// The bots' profiles and extensions (clinical rules, communication preferences, slot holds); their codes are
// checked against fhir-profiles by bots/src/lib/vocabulary.test.ts.
import { BOT_STRUCTURE_DEFINITIONS } from '../../../bots/src/lib/vocabulary';
import { MEASUREMENT_STRUCTURE_DEFINITIONS } from '../wellness/measurements';
import { RECORD_STRUCTURE_DEFINITIONS } from '../wellness/records';
import { CARE_STRUCTURE_DEFINITIONS } from '../wellness/summary';
import { MARKETPLACE_STRUCTURE_DEFINITIONS } from '../marketplace/vocabulary';

const published = haleConformanceResources();

function codeSystem(url: string): CodeSystem {
  const found = published.codeSystems.find((cs) => cs.url === url);
  if (!found) {
    throw new Error(`no CodeSystem ${url}`);
  }
  return found;
}

const codesOf = (url: string): string[] => (codeSystem(url).concept ?? []).map((c) => c.code);

describe('Hale vocabulary and the published CodeSystems', () => {
  test('every data-sharing category in vocabulary.ts is in the data-category CodeSystem, and no other', () => {
    expect(codesOf(CATEGORY_SYSTEM)).toEqual([...CATEGORIES]);
  });

  test('the data-category CodeSystem lists the resource types and Observation categories the server enforces', () => {
    for (const [category, definition] of Object.entries(CATEGORY_DEFINITIONS)) {
      const concept = codeSystem(CATEGORY_SYSTEM).concept?.find((c) => c.code === category);
      const properties = concept?.property ?? [];
      expect([category, properties.filter((p) => p.code === 'resource-type').map((p) => p.valueCode)]).toEqual([
        category,
        definition.types,
      ]);
      expect([category, properties.filter((p) => p.code === 'observation-category').map((p) => p.valueCoding)]).toEqual(
        [category, definition.observationCategories]
      );
    }
  });

  test('relationship types, wellness categories and task codes match vocabulary.ts', () => {
    expect(codesOf(RELATIONSHIP_SYSTEM)).toEqual([...RELATIONSHIP_TYPES]);
    expect(codesOf(WELLNESS_CATEGORY_SYSTEM)).toEqual([...WELLNESS_CATEGORIES]);
    expect(codesOf(TASK_CODE_SYSTEM)).toEqual([DATA_SHARING_REQUEST]);
  });

  test('every CodeSystem is active, complete and defines each code, and has a ValueSet of all its codes', () => {
    for (const cs of published.codeSystems) {
      expect([cs.url, cs.status, cs.content, cs.count]).toEqual([cs.url, 'active', 'complete', cs.concept?.length]);
      expect((cs.concept ?? []).filter((c) => !c.definition || !c.display)).toEqual([]);
      const vs = published.valueSets.find((v) => v.url === cs.valueSet);
      expect(vs?.compose?.include).toEqual([{ system: cs.url }]);
    }
  });

  test('the profile and extension URLs in vocabulary.ts (and the bots vocabulary) are the published StructureDefinitions', () => {
    const urls = published.structureDefinitions.map((sd) => sd.url).sort();
    const sharing = [CARETEAM_PROFILE, CONSENT_PROFILE, FAVORITE_EXTENSION, RESEARCH_CONSENT_PROFILE];
    expect(urls).toEqual(
      [
        ...sharing,
        ...BOT_STRUCTURE_DEFINITIONS,
        ...MEASUREMENT_STRUCTURE_DEFINITIONS,
        ...CARE_STRUCTURE_DEFINITIONS,
        ...RECORD_STRUCTURE_DEFINITIONS,
        ...MARKETPLACE_STRUCTURE_DEFINITIONS,
      ].sort()
    );
  });
});

describe('Hale StructureDefinitions', () => {
  const bases = baseDefinitions();

  test.each(published.structureDefinitions.map((sd) => [sd.id, sd] as const))(
    '%s: the committed snapshot is what scripts/generate-snapshots.ts generates from the differential',
    (_id, sd) => {
      const { snapshot: _committed, ...authored } = sd;
      expect(sd).toEqual(withSnapshot(authored, bases.get(sd.baseDefinition ?? '') as StructureDefinition));
    }
  );

  test('the snapshot generator refuses slicing and elements the base does not list', () => {
    const base = bases.get('http://hl7.org/fhir/StructureDefinition/Consent') as StructureDefinition;
    const profile = (element: ElementDefinition): StructureDefinition => ({
      resourceType: 'StructureDefinition',
      url: 'https://example.org/p',
      name: 'P',
      status: 'draft',
      kind: 'resource',
      abstract: false,
      type: 'Consent',
      baseDefinition: base.url,
      derivation: 'constraint',
      differential: { element: [element] },
    });
    expect(() => withSnapshot(profile({ id: 'Consent.category:a', path: 'Consent.category' }), base)).toThrow(/slices/);
    expect(() =>
      withSnapshot(profile({ id: 'Consent.patient.reference', path: 'Consent.patient.reference' }), base)
    ).toThrow(/no base element/);
    expect(() => withSnapshot(profile({ id: 'Consent.status', path: 'Consent.status', min: 0 }), base)).toThrow(
      /widens/
    );
  });
});

describe('Hale profiles on the server', () => {
  let server: TestServer;
  let patientRef: string;
  let practitionerRef: string;

  beforeAll(async () => {
    server = await startTestServer();
    patientRef = `Patient/${(await server.create({ resourceType: 'Patient', name: [{ family: 'Ngata' }] })).id}`;
    practitionerRef = `Practitioner/${(await server.create({ resourceType: 'Practitioner', name: [{ family: 'Ruru' }] })).id}`;
  });

  afterAll(async () => {
    await server?.stop();
  });

  const sharingConsent = (): Consent => ({
    resourceType: 'Consent',
    meta: { profile: [CONSENT_PROFILE] },
    status: 'active',
    scope: { coding: [{ system: CONSENT_SCOPE_SYSTEM, code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: patientRef },
    dateTime: '2025-03-01T10:00:00Z',
    policyRule: { coding: [{ system: ACT_CODE_SYSTEM, code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      period: { start: '2025-03-01', end: '2025-09-01' },
      actor: [
        {
          role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
          reference: { reference: practitionerRef },
        },
      ],
      action: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code: 'access' }] }],
      class: [{ system: CATEGORY_SYSTEM, code: 'labs' }],
    },
  });

  const relationship = (): CareTeam => ({
    resourceType: 'CareTeam',
    meta: { profile: [CARETEAM_PROFILE] },
    status: 'active',
    category: [{ coding: [{ system: RELATIONSHIP_SYSTEM, code: 'temporary' }] }],
    subject: { reference: patientRef },
    period: { start: '2025-03-01', end: '2025-09-01' },
    participant: [{ member: { reference: practitionerRef } }],
    extension: [{ url: FAVORITE_EXTENSION, valueBoolean: true }],
  });

  /** The expressions of the error issues of a 400 answer. */
  async function rejectedAt(resource: Consent | CareTeam): Promise<string[]> {
    const res = await server.post<OperationOutcome>(resource.resourceType, resource);
    expect([res.status, res.body.resourceType]).toEqual([400, 'OperationOutcome']);
    return (res.body.issue ?? []).filter((i) => i.severity === 'error').flatMap((i) => i.expression ?? []);
  }

  test('the CodeSystems, ValueSets and StructureDefinitions are readable by their stable ids', async () => {
    for (const resource of [
      ...published.codeSystems,
      ...published.valueSets,
      ...published.structureDefinitions,
      ...published.searchParameters,
    ]) {
      const res = await server.get(`${resource.resourceType}/${resource.id}`);
      expect([res.status, res.body.url]).toEqual([200, resource.url]);
    }
    const cs = await server.get<CodeSystem>('CodeSystem/hale-data-category');
    expect(cs.body.concept?.map((c) => c.code)).toEqual([...CATEGORIES]);
    const found = await server.search(`CodeSystem?url=${encodeURIComponent(CATEGORY_SYSTEM)}`);
    expect(found.entry?.map((e) => e.resource?.id)).toEqual(['hale-data-category']);
  });

  test('publishing again leaves unchanged resources at their current version', async () => {
    const searchParams = await SearchParamRegistry.load(server.hale.db);
    await publishHaleConformance(server.hale.db, searchParams, server.base);
    const history = await server.get<Bundle>('CodeSystem/hale-data-category/_history');
    expect(history.body.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['1']);
    const sd = await server.get<StructureDefinition>('StructureDefinition/hale-sharing-consent');
    expect(sd.body.meta?.versionId).toBe('1');
  });

  test('accepts a Consent that conforms to hale-sharing-consent', async () => {
    const res = await server.post<Consent>('Consent', sharingConsent());
    expect(res.status).toBe(201);
  });

  test('accepts an app, by its client id, as a Consent actor', async () => {
    const consent = sharingConsent();
    (consent.provision?.actor ?? [])[0] = {
      role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
      reference: { identifier: { system: CLIENT_ID_SYSTEM, value: 'my-app' } },
    };
    expect((await server.post('Consent', consent)).status).toBe(201);
  });

  test('accepts a Consent whose actor is created in the same transaction (urn:uuid reference)', async () => {
    const consent = sharingConsent();
    (consent.provision?.actor ?? [])[0] = {
      role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
      reference: { reference: 'urn:uuid:7d1f7a52-0c5e-4a57-9b1c-2f1f3f0f4a11' },
    };
    const res = await server.post<Bundle>('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:7d1f7a52-0c5e-4a57-9b1c-2f1f3f0f4a11',
          resource: { resourceType: 'Organization', name: 'Kōwhai Clinic' },
          request: { method: 'POST', url: 'Organization' },
        },
        { resource: consent, request: { method: 'POST', url: 'Consent' } },
      ],
    });
    expect([res.status, res.body.entry?.map((e) => e.response?.status)]).toEqual([200, ['201', '201']]);
  });

  test('accepts nested provisions without actors (they narrow the root one)', async () => {
    const consent = sharingConsent();
    consent.provision = {
      ...consent.provision,
      provision: [{ type: 'deny', class: [{ system: CATEGORY_SYSTEM, code: 'labs' }] }],
    };
    const res = await server.post('Consent', consent);
    expect([res.status, res.body]).toEqual([201, expect.anything()]);
  });

  test('rejects a Consent claiming hale-sharing-consent with scope research, naming Consent.scope', async () => {
    const consent = sharingConsent();
    consent.scope = { coding: [{ system: CONSENT_SCOPE_SYSTEM, code: 'research' }] };
    expect(await rejectedAt(consent)).toEqual(['Consent.scope']);
  });

  test('rejects a Consent claiming hale-sharing-consent without patient, naming Consent.patient', async () => {
    const { patient: _omit, ...consent } = sharingConsent();
    // R4's own ppc-2 (a privacy Consent names its patient) also reports, on Consent.
    expect(await rejectedAt(consent)).toEqual(expect.arrayContaining(['Consent.patient']));
  });

  test('rejects a Consent claiming hale-sharing-consent without dateTime, provision or actor', async () => {
    const { dateTime: _omit, ...withoutDate } = sharingConsent();
    expect(await rejectedAt(withoutDate)).toEqual(['Consent.dateTime']);
    const { provision: _p, ...withoutProvision } = sharingConsent();
    expect(await rejectedAt(withoutProvision)).toEqual(['Consent.provision']);
    const withoutActor = sharingConsent();
    delete withoutActor.provision?.actor;
    expect(await rejectedAt(withoutActor)).toEqual(['Consent.provision.actor']);
  });

  test('rejects a Consent actor that is neither a person/organization reference nor an app client id', async () => {
    const consent = sharingConsent();
    (consent.provision?.actor ?? [])[0] = {
      role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
      reference: { identifier: { system: 'https://example.org/apps', value: 'my-app' } },
    };
    expect(await rejectedAt(consent)).toEqual(['Consent.provision.actor[0]']);
  });

  test('a Consent that does not claim the profile is only checked against base R4', async () => {
    const { meta: _meta, ...consent } = sharingConsent();
    consent.scope = { coding: [{ system: CONSENT_SCOPE_SYSTEM, code: 'treatment' }] };
    expect((await server.post('Consent', consent)).status).toBe(201);
  });

  test('hale-research-consent demands scope research and a patient', async () => {
    const research: Consent = {
      ...sharingConsent(),
      meta: { profile: [RESEARCH_CONSENT_PROFILE] },
      scope: { coding: [{ system: CONSENT_SCOPE_SYSTEM, code: 'research' }] },
    };
    expect((await server.post('Consent', research)).status).toBe(201);
    expect(await rejectedAt({ ...research, scope: sharingConsent().scope })).toEqual(['Consent.scope']);
    const { patient: _omit, ...withoutPatient } = research;
    expect(await rejectedAt(withoutPatient)).toEqual(expect.arrayContaining(['Consent.patient']));
  });

  test('accepts a CareTeam that conforms to hale-relationship, with the favorite extension', async () => {
    expect((await server.post('CareTeam', relationship())).status).toBe(201);
  });

  test('rejects a CareTeam claiming hale-relationship without period, naming CareTeam.period', async () => {
    const { period: _omit, ...careTeam } = relationship();
    expect(await rejectedAt(careTeam)).toEqual(['CareTeam.period']);
  });

  test('rejects a CareTeam claiming hale-relationship without subject or member', async () => {
    const { subject: _omit, ...withoutSubject } = relationship();
    expect(await rejectedAt(withoutSubject)).toEqual(['CareTeam.subject']);
    expect(await rejectedAt({ ...relationship(), participant: [{ role: [{ text: 'GP' }] }] })).toEqual([
      'CareTeam.participant[0].member',
    ]);
  });

  test('rejects a CareTeam claiming hale-relationship whose categories carry no relationship type', async () => {
    const careTeam = relationship();
    careTeam.category = [{ coding: [{ system: 'http://loinc.org', code: 'LA27976-2' }] }];
    expect(await rejectedAt(careTeam)).toEqual(['CareTeam']);
    careTeam.category.push({ coding: [{ system: RELATIONSHIP_SYSTEM, code: 'permanent' }] });
    expect((await server.post('CareTeam', careTeam)).status).toBe(201);
  });
});
