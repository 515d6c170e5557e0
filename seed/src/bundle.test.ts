import { validateResource } from '@medplum/core';
import type { Bundle, Observation, Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../server/src/fhir/definitions';
import { terminologyProblems } from './fhir-checks';
import {
  DEFAULT_RESOURCES_PER_PATIENT,
  ORGANIZATIONS,
  PRACTITIONERS,
  SYSTEM,
  generateDirectoryBundle,
  generatePatientBundle,
  generatePatientBundles,
  mrnOf,
  npiCheckDigit,
} from './index';

const UUID_V4 = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function resources(bundle: Bundle): Resource[] {
  return (bundle.entry ?? []).map((entry) => {
    if (!entry.resource) {
      throw new Error('entry without resource');
    }
    return entry.resource;
  });
}

function countByType(bundle: Bundle): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const resource of resources(bundle)) {
    counts[resource.resourceType] = (counts[resource.resourceType] ?? 0) + 1;
  }
  return counts;
}

/** Every `reference` string anywhere inside a resource. */
function referencesIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    value.forEach((item) => referencesIn(item, found));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'reference' && typeof child === 'string') {
        found.push(child);
      } else {
        referencesIn(child, found);
      }
    }
  }
  return found;
}

/** Every date/dateTime/instant-valued property we generate, with its JSON key. */
function timestampsIn(value: unknown, found: [string, string][] = []): [string, string][] {
  if (Array.isArray(value)) {
    value.forEach((item) => timestampsIn(item, found));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (typeof child === 'string' && /^\d{4}-\d{2}-\d{2}(T|$)/.test(child)) {
        found.push([key, child]);
      } else {
        timestampsIn(child, found);
      }
    }
  }
  return found;
}

describe('generatePatientBundle', () => {
  beforeAll(() => loadFhirDefinitions());

  test('is deterministic: same inputs give byte-identical JSON', () => {
    const a = JSON.stringify(generatePatientBundle({ seed: 42, patientIndex: 3 }));
    const b = JSON.stringify(generatePatientBundle({ seed: 42, patientIndex: 3 }));
    expect(a).toBe(b);
    const viaStream = [...generatePatientBundles({ seed: 42, patients: 4 })][3];
    expect(JSON.stringify(viaStream)).toBe(a);
  });

  test('differs by seed, patient index and reference date', () => {
    const base = JSON.stringify(generatePatientBundle({ seed: 42, patientIndex: 3 }));
    expect(JSON.stringify(generatePatientBundle({ seed: 43, patientIndex: 3 }))).not.toBe(base);
    expect(JSON.stringify(generatePatientBundle({ seed: 42, patientIndex: 4 }))).not.toBe(base);
    expect(JSON.stringify(generatePatientBundle({ seed: 42, patientIndex: 3, referenceDate: '2024-06-30' }))).not.toBe(
      base
    );
    // Seeds that agree in their low 32 bits must still differ.
    expect(JSON.stringify(generatePatientBundle({ seed: 2 ** 32 + 42, patientIndex: 3 }))).not.toBe(base);
  });

  test.each([4, 10, 25, 50, 120, 300, 1000])('contains exactly resourcesPerPatient=%i entries', (size) => {
    for (let patientIndex = 0; patientIndex < 15; patientIndex++) {
      const bundle = generatePatientBundle({ seed: 5, patientIndex, resourcesPerPatient: size });
      expect(bundle.entry).toHaveLength(size);
    }
  });

  test('defaults to 300 entries and rejects impossible sizes and dates', () => {
    expect(generatePatientBundle({ seed: 1, patientIndex: 0 }).entry).toHaveLength(DEFAULT_RESOURCES_PER_PATIENT);
    expect(() => generatePatientBundle({ seed: 1, patientIndex: 0, resourcesPerPatient: 3 })).toThrow(RangeError);
    expect(() => generatePatientBundle({ seed: 1, patientIndex: 0, resourcesPerPatient: 12.5 })).toThrow(RangeError);
    expect(() => generatePatientBundle({ seed: 1, patientIndex: -1 })).toThrow(RangeError);
    expect(() => generatePatientBundle({ seed: 0.5, patientIndex: 0 })).toThrow(RangeError);
    expect(() => generatePatientBundle({ seed: 1, patientIndex: 0, referenceDate: '2025-02-30' })).toThrow(RangeError);
  });

  test('is a transaction of POSTs with unique urn:uuid v4 fullUrls', () => {
    for (const bundle of generatePatientBundles({ seed: 11, patients: 10 })) {
      expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'transaction' });
      const fullUrls = new Set<string>();
      for (const entry of bundle.entry ?? []) {
        expect(entry.fullUrl).toMatch(UUID_V4);
        fullUrls.add(entry.fullUrl ?? '');
        expect(entry.request).toMatchObject({ method: 'POST', url: entry.resource?.resourceType });
        const conditional =
          entry.resource?.resourceType === 'Organization' || entry.resource?.resourceType === 'Practitioner';
        expect(entry.request?.ifNoneExist !== undefined).toBe(conditional);
      }
      expect(fullUrls.size).toBe(bundle.entry?.length);
    }
  });

  test('every reference resolves to an entry of the same bundle, of a permitted type', () => {
    for (const bundle of generatePatientBundles({ seed: 12, patients: 10 })) {
      const typeByUrl = new Map((bundle.entry ?? []).map((e) => [e.fullUrl, e.resource?.resourceType]));
      for (const resource of resources(bundle)) {
        for (const reference of referencesIn(resource)) {
          expect(typeByUrl.has(reference)).toBe(true);
        }
      }
      const patientUrl = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.fullUrl;
      for (const resource of resources(bundle)) {
        const subject = 'subject' in resource ? resource.subject : 'patient' in resource ? resource.patient : undefined;
        if (subject && typeof subject === 'object' && 'reference' in subject) {
          expect(subject.reference).toBe(patientUrl);
        }
      }
    }
  });

  test('every resource passes @medplum/core validation and R4 required bindings', () => {
    const started = performance.now();
    let validated = 0;
    const bundles = [
      ...generatePatientBundles({ seed: 2026, patients: 20 }),
      ...generatePatientBundles({ seed: 7, patients: 10, resourcesPerPatient: 40, referenceDate: '2023-03-15' }),
      ...generatePatientBundles({ seed: 8, patients: 3, directory: 'reference' }),
    ];
    for (const bundle of bundles) {
      for (const resource of resources(bundle)) {
        const issues = validateResource(resource).filter(
          // urn:uuid references are resolved by the server at transaction time, not by the validator
          (issue) => !issue.details?.text?.startsWith('Invalid reference: got "urn:uuid:')
        );
        expect({ resourceType: resource.resourceType, issues }).toEqual({
          resourceType: resource.resourceType,
          issues: [],
        });
        expect(terminologyProblems(resource)).toEqual([]);
        validated++;
      }
    }
    console.log(`validated ${validated} resources in ${Math.round(performance.now() - started)} ms`);
  });

  test('covers the expected resource types with sensible proportions', () => {
    const totals: Record<string, number> = {};
    for (const bundle of generatePatientBundles({ seed: 99, patients: 30 })) {
      for (const [type, count] of Object.entries(countByType(bundle))) {
        totals[type] = (totals[type] ?? 0) + count;
      }
    }
    for (const type of [
      'Patient',
      'Organization',
      'Practitioner',
      'Encounter',
      'Observation',
      'DiagnosticReport',
      'Condition',
      'MedicationRequest',
      'AllergyIntolerance',
      'Immunization',
      'CarePlan',
      'Goal',
      'Appointment',
    ]) {
      expect(totals[type] ?? 0).toBeGreaterThan(0);
    }
    expect(totals.Patient).toBe(30);
    console.log('resource types over 30 default patients:', totals);
  });

  test('MRNs are unique, derived from seed and index, and searchable by the documented system', () => {
    const mrns = new Set<string>();
    for (const [i, bundle] of [...generatePatientBundles({ seed: 3, patients: 50 })].entries()) {
      const patient = resources(bundle).find((r) => r.resourceType === 'Patient');
      const mrn =
        patient?.resourceType === 'Patient' ? patient.identifier?.find((id) => id.system === SYSTEM.mrn) : undefined;
      expect(mrn?.type?.coding?.[0]).toMatchObject({
        system: 'http://terminology.hl7.org/CodeSystem/v2-0203',
        code: 'MR',
      });
      expect(mrn?.value).toBe(mrnOf(3, i));
      mrns.add(mrn?.value ?? '');
    }
    expect(mrns.size).toBe(50);
    expect(mrnOf(3, 0)).not.toBe(mrnOf(4, 0));
    expect(mrnOf(-3, 0)).not.toBe(mrnOf(3, 0));
  });

  test('keeps history between birth and the reference date, and booked appointments after it', () => {
    const referenceDate = '2025-07-01';
    const violations: string[] = [];
    for (const bundle of generatePatientBundles({ seed: 8, patients: 80, referenceDate })) {
      const patient = resources(bundle).find((r) => r.resourceType === 'Patient');
      const birthDate = patient?.resourceType === 'Patient' ? (patient.birthDate ?? '') : '';
      for (const resource of resources(bundle)) {
        const booked = resource.resourceType === 'Appointment' && resource.status === 'booked';
        const futureFields = booked ? ['start', 'end'] : resource.resourceType === 'Goal' ? ['dueDate'] : [];
        for (const [key, value] of timestampsIn(resource)) {
          const day = value.slice(0, 10);
          if (futureFields.includes(key) !== day >= referenceDate || day < birthDate) {
            violations.push(`${resource.resourceType}.${key}=${value} (born ${birthDate})`);
          }
        }
      }
    }
    expect(violations).toEqual([]);
  });

  test('measurements use UCUM and consistent vital signs', () => {
    const bundle = generatePatientBundle({ seed: 21, patientIndex: 2 });
    const observations = resources(bundle).filter((r): r is Observation => r.resourceType === 'Observation');
    for (const observation of observations) {
      const quantities = [observation.valueQuantity, ...(observation.component ?? []).map((c) => c.valueQuantity)];
      for (const quantity of quantities.filter((q) => q !== undefined)) {
        expect(quantity.system).toBe('http://unitsofmeasure.org');
      }
      const category = observation.category?.[0]?.coding?.[0]?.code;
      expect(['vital-signs', 'laboratory']).toContain(category);
      if (category === 'laboratory') {
        expect(observation.referenceRange?.length).toBe(1);
      }
    }
    const bloodPressures = observations.filter((o) => o.code.coding?.[0]?.code === '85354-9');
    expect(bloodPressures.length).toBeGreaterThan(0);
    for (const bp of bloodPressures) {
      const [systolic, diastolic] = (bp.component ?? []).map((c) => c.valueQuantity?.value ?? 0);
      expect(bp.component?.map((c) => c.code.coding?.[0]?.code)).toEqual(['8480-6', '8462-4']);
      expect(systolic).toBeGreaterThan(diastolic ?? 0);
    }
  });

  test('directory entries are identical across bundles and carry valid NPIs', () => {
    expect(npiCheckDigit('123456789')).toBe('3');
    const seen = new Map<string, string>();
    for (const bundle of generatePatientBundles({ seed: 13, patients: 40 })) {
      for (const entry of bundle.entry ?? []) {
        if (entry.request?.ifNoneExist) {
          const json = JSON.stringify(entry.resource);
          expect(seen.get(entry.request.ifNoneExist) ?? json).toBe(json);
          seen.set(entry.request.ifNoneExist, json);
        }
      }
    }
    const npis = [...ORGANIZATIONS, ...PRACTITIONERS].map((p) => p.npi);
    expect(new Set(npis).size).toBe(25);
    for (const npi of npis) {
      expect(npiCheckDigit(npi.slice(0, 9))).toBe(npi.slice(9));
    }
  });
});

describe("directory: 'reference'", () => {
  const CONDITIONAL = /^(Organization|Practitioner)\?identifier=http:\/\/hl7\.org\/fhir\/sid\/us-npi\|(\d{10})$/;

  test('keeps the size exact, has no directory entries and refers to members by NPI', () => {
    const npis = new Set([...ORGANIZATIONS, ...PRACTITIONERS].map((p) => p.npi));
    for (const size of [4, 50, 300]) {
      for (const bundle of generatePatientBundles({
        seed: 17,
        patients: 8,
        resourcesPerPatient: size,
        directory: 'reference',
      })) {
        expect(bundle.entry).toHaveLength(size);
        const fullUrls = new Set((bundle.entry ?? []).map((e) => e.fullUrl));
        for (const entry of bundle.entry ?? []) {
          expect(entry.request?.ifNoneExist).toBeUndefined();
          expect(['Organization', 'Practitioner']).not.toContain(entry.resource?.resourceType);
          for (const reference of referencesIn(entry.resource)) {
            const conditional = CONDITIONAL.exec(reference);
            expect(fullUrls.has(reference) || (conditional !== null && npis.has(conditional[2] ?? ''))).toBe(true);
          }
        }
      }
    }
  });

  test('the directory bundle holds all 25 members as deterministic conditional creates', () => {
    const directory = generateDirectoryBundle();
    expect(directory.type).toBe('batch');
    expect(generateDirectoryBundle('transaction').type).toBe('transaction');
    expect(JSON.stringify(generateDirectoryBundle())).toBe(JSON.stringify(directory));
    expect(directory.entry).toHaveLength(25);
    for (const entry of directory.entry ?? []) {
      expect(entry.fullUrl).toMatch(UUID_V4);
      expect(entry.request?.ifNoneExist).toMatch(/^identifier=http:\/\/hl7\.org\/fhir\/sid\/us-npi\|\d{10}$/);
      expect(validateResource(entry.resource as Resource)).toEqual([]);
    }
    expect(() => generatePatientBundle({ seed: 1, patientIndex: 0, directory: 'bogus' as 'inline' })).toThrow(
      RangeError
    );
  });
});

describe('generatePatientBundles', () => {
  test('is a lazy generator that can stream a 1,000-patient run', () => {
    const stream = generatePatientBundles({ seed: 77, patients: 1000 });
    expect(typeof stream.next).toBe('function');
    expect(typeof stream[Symbol.iterator]).toBe('function');
    const started = performance.now();
    let taken = 0;
    let entries = 0;
    for (const bundle of stream) {
      entries += bundle.entry?.length ?? 0;
      if (++taken === 20) {
        break;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    expect(taken).toBe(20);
    expect(entries).toBe(20 * DEFAULT_RESOURCES_PER_PATIENT);
    console.log(
      `generation speed: ${(taken / seconds).toFixed(0)} bundles/s, ${(entries / seconds).toFixed(0)} resources/s`
    );
  });

  test('validates options eagerly and supports batches via firstIndex', () => {
    expect(() => generatePatientBundles({ seed: 1, patients: -1 })).toThrow(RangeError);
    const [batch] = [...generatePatientBundles({ seed: 9, patients: 1, firstIndex: 5 })];
    expect(JSON.stringify(batch)).toBe(JSON.stringify(generatePatientBundle({ seed: 9, patientIndex: 5 })));
  });
});
