import { OperationOutcomeError } from '@medplum/core';
import type { Observation, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { validateWithCoreReference } from './reference/validate';
import { bestMicrosPerItem, syntheaResources } from './testing/synthea';
import { validateResourceForWrite } from './validate';

const VITAL_SIGNS = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';

/** Validates and returns the issues of the thrown 400 outcome (fails the test if nothing is thrown). */
function issuesOf(resource: unknown): OperationOutcomeIssue[] {
  try {
    validateResourceForWrite(resource as Resource);
  } catch (err) {
    expect(err).toBeInstanceOf(OperationOutcomeError);
    const issues = (err as OperationOutcomeError).outcome.issue ?? [];
    for (const issue of issues) {
      expect(issue.severity).toBe('error');
      expect(issue.expression?.length).toBe(1);
      expect(issue.details?.text).toBeTruthy();
    }
    return issues;
  }
  throw new Error('expected the resource to be rejected');
}

function expressions(resource: unknown): string[] {
  return issuesOf(resource).flatMap((issue) => issue.expression ?? []);
}

const loincObservation: Observation = {
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
  valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
};

describe('validateResourceForWrite', () => {
  const synthea = syntheaResources();

  test('accepts all 3,409 Synthea resources (and prints what validation costs, old and new)', () => {
    expect(synthea).toHaveLength(3409);
    const rejected: string[] = [];
    for (const resource of synthea) {
      try {
        validateResourceForWrite(resource);
      } catch {
        rejected.push(`${resource.resourceType}/${resource.id}`);
      }
    }
    expect(rejected).toEqual([]);
    // Best of several rounds: a single pass mostly measures JIT warm-up and whatever else the machine is doing.
    const compiled = bestMicrosPerItem(synthea, validateResourceForWrite, 5);
    const reference = bestMicrosPerItem(synthea, validateWithCoreReference, 2);
    console.log(
      `Synthea, µs/resource under Jest (best of several rounds; see testing/bench.ts): compiled validator ${compiled.toFixed(1)}, ` +
        `reference (@medplum/core + own checks) ${reference.toFixed(1)}`
    );
  });

  test('accepts an Observation with status final and a LOINC code', () => {
    expect(() => validateResourceForWrite(loincObservation)).not.toThrow();
  });

  test.each([
    [{ ...loincObservation, status: 'final-ish' }, 'Observation.status', 'observation-status'],
    [{ resourceType: 'Patient', gender: 'unknown-gender' }, 'Patient.gender', 'administrative-gender'],
    [{ resourceType: 'Encounter', status: 'bogus', class: { code: 'AMB' } }, 'Encounter.status', 'encounter-status'],
    [{ resourceType: 'Bundle', type: 'junk' }, 'Bundle.type', 'bundle-type'],
  ])('rejects a code outside a required binding: %j', (resource, expression, valueSet) => {
    const issues = issuesOf(resource);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: 'code-invalid', expression: [expression] });
    expect(issues[0]?.details?.text).toContain(`http://hl7.org/fhir/ValueSet/${valueSet}`);
  });

  test('checks required bindings inside arrays, primitives with extensions and nested resources', () => {
    expect(expressions({ resourceType: 'Patient', name: [{ use: 'official' }, { use: 'nick' }] })).toEqual([
      'Patient.name[1].use',
    ]);
    const extended = {
      resourceType: 'Patient',
      gender: 'x',
      _gender: { extension: [{ url: 'http://e', valueCode: 'y' }] },
    };
    expect(expressions(extended)).toEqual(['Patient.gender']);
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: { resourceType: 'Patient', gender: 'x' } }],
    };
    expect(expressions(bundle)).toEqual(['Bundle.entry[0].resource.gender']);
    expect(expressions({ resourceType: 'Patient', contained: [{ resourceType: 'Patient', gender: 'x' }] })).toEqual([
      'Patient.contained[0].gender',
    ]);
  });

  test('a required CodeableConcept needs one coding from the ValueSet; other codings may accompany it', () => {
    const condition = (clinicalStatus: unknown): unknown => ({
      resourceType: 'Condition',
      subject: { reference: 'Patient/1' },
      clinicalStatus,
    });
    const system = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
    const snomed = { system: 'http://snomed.info/sct', code: '55561003' };
    expect(() =>
      validateResourceForWrite(condition({ coding: [snomed, { system, code: 'active' }] }) as Resource)
    ).not.toThrow();
    expect(issuesOf(condition({ coding: [snomed] }))[0]).toMatchObject({
      code: 'code-invalid',
      expression: ['Condition.clinicalStatus'],
    });
    expect(expressions(condition({ coding: [{ system, code: 'bogus' }] }))).toEqual(['Condition.clinicalStatus']);
    expect(expressions(condition({ text: 'active' }))).toEqual(['Condition.clinicalStatus']);
  });

  test('does not judge bindings whose ValueSet cannot be expanded (SNOMED CT, LOINC, MIME types, ...)', () => {
    const attachment = { contentType: 'application/x-made-up', data: 'AAAA' };
    expect(() =>
      validateResourceForWrite({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment }] })
    ).not.toThrow();
  });

  test('reports a missing required element, a wrong JSON type and an unknown element by path', () => {
    expect(issuesOf({ resourceType: 'Observation', status: 'final' })).toEqual([
      expect.objectContaining({ code: 'structure', expression: ['Observation.code'] }),
    ]);
    expect(issuesOf({ resourceType: 'Patient', birthDate: 123 })).toEqual([
      expect.objectContaining({ code: 'structure', expression: ['Patient.birthDate'] }),
    ]);
    const unknown = issuesOf({ resourceType: 'Patient', foo: 'bar' });
    expect(unknown).toEqual([expect.objectContaining({ code: 'structure', expression: ['Patient.foo'] })]);
    expect(unknown[0]?.details?.text).toContain('foo');
  });

  test('lists every problem of a resource at once', () => {
    const resource = {
      resourceType: 'Patient',
      birthDate: 123,
      foo: 'x',
      gender: 'unknown-gender',
      name: [{ use: 'nope' }],
    };
    expect(expressions(resource).sort()).toEqual([
      'Patient.birthDate',
      'Patient.foo',
      'Patient.gender',
      'Patient.name[0].use',
    ]);
  });

  test('rejects JSON shapes that @medplum/core lets through', () => {
    const encounter = { resourceType: 'Encounter', status: 'finished' };
    expect(expressions({ resourceType: 'Practitioner', active: {} })).toEqual(['Practitioner.active']);
    expect(expressions({ ...loincObservation, issued: { resourceType: 'Foo' } })).toEqual(['Observation.issued']);
    expect(expressions({ ...encounter, class: 5 })).toEqual(['Encounter.class']);
    expect(expressions({ resourceType: 'Patient', name: [{ family: 'X' }, true] })).toEqual(['Patient.name[1]']);
    expect(expressions({ resourceType: 'Patient', gender: '' })).toEqual(['Patient.gender']);
    expect(expressions({ resourceType: 'Patient', name: [] })).toEqual(['Patient.name']);
    expect(expressions({ resourceType: 'Patient', maritalStatus: {} })).toEqual(['Patient.maritalStatus']);
    const coding = { resourceType: 'Foo', system: 'http://loinc.org', code: '1-8' };
    expect(expressions({ ...loincObservation, code: { coding: [coding] } })).toEqual([
      'Observation.code.coding[0].resourceType',
    ]);
  });

  test('rejects malformed primitive extensions with a 400 instead of a crash', () => {
    expect(expressions({ resourceType: 'Patient', birthDate: '2000-01-01', _birthDate: 'x' })).toEqual([
      'Patient._birthDate',
    ]);
    expect(expressions({ resourceType: 'Patient', name: [{ given: ['A', 'B'], _given: { id: 'x' } }] })).toEqual([
      'Patient.name[0]._given',
    ]);
    const extended = { resourceType: 'Patient', name: [{ given: ['A', 'B'], _given: [null, { id: 'b' }] }] };
    expect(() => validateResourceForWrite(extended as Resource)).not.toThrow();
  });

  test('reports a wrongly shaped value once, without noise below it', () => {
    const issues = issuesOf({ ...loincObservation, code: 'heart rate' });
    expect(issues.map((i) => i.expression?.[0])).toEqual(['Observation.code']);
  });

  test('rejects unknown resource types, at the top level and nested', () => {
    expect(issuesOf({ resourceType: 'Nope' })).toEqual([expect.objectContaining({ expression: ['resourceType'] })]);
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Nope' } }] };
    expect(expressions(bundle)).toEqual(['Bundle.entry[0].resource']);
    expect(expressions({ resourceType: 'Patient', contained: [{ id: 'a' }] })).toEqual(['Patient.contained[0]']);
  });

  describe('profiles in meta.profile', () => {
    const vitals = synthea.filter(
      (r): r is Observation => r.resourceType === 'Observation' && r.category?.[0]?.coding?.[0]?.code === 'vital-signs'
    );
    const withProfile = (obs: Observation, url: string): Observation => ({
      ...obs,
      meta: { ...obs.meta, profile: [url] },
    });

    test('validates Synthea vital signs against the core vitalsigns profile', () => {
      expect(vitals.length).toBeGreaterThan(100);
      for (const obs of vitals.slice(0, 50)) {
        expect(() => validateResourceForWrite(withProfile(obs, VITAL_SIGNS))).not.toThrow();
      }
    });

    test('rejects a resource that violates a known profile', () => {
      const noCategory = { ...withProfile(loincObservation, VITAL_SIGNS), subject: { reference: 'Patient/1' } };
      expect(expressions(noCategory)).toContain('Observation.category');
      const weight = vitals.find((o) => o.code.coding?.[0]?.code === '29463-7') as Observation;
      const bodyWeight = 'http://hl7.org/fhir/StructureDefinition/bodyweight';
      expect(() => validateResourceForWrite(withProfile(weight, bodyWeight))).not.toThrow();
      const heartRateCode = { coding: [{ system: 'http://loinc.org', code: '8867-4' }] };
      expect(expressions(withProfile({ ...weight, code: heartRateCode }, bodyWeight))).toContain(
        'Observation.code.coding'
      );
    });

    test('ignores profiles that @medplum/core misreads (nested slicing in bp) instead of rejecting valid data', () => {
      const bp = vitals.find((o) => o.code.coding?.[0]?.code === '55284-4') as Observation;
      const conformant = { ...bp, code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] } };
      expect(() =>
        validateResourceForWrite(withProfile(conformant, 'http://hl7.org/fhir/StructureDefinition/bp'))
      ).not.toThrow();
    });

    test('ignores unknown profiles and rejects a profile for another resource type', () => {
      const usCore = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient';
      expect(() => validateResourceForWrite({ resourceType: 'Patient', meta: { profile: [usCore] } })).not.toThrow();
      expect(issuesOf({ resourceType: 'Patient', meta: { profile: [VITAL_SIGNS] } })).toEqual([
        expect.objectContaining({ code: 'invalid', expression: ['Patient.meta.profile'] }),
      ]);
    });

    test('loading the profiles leaves the base types intact', () => {
      for (const resource of synthea.slice(0, 300)) {
        expect(() => validateResourceForWrite(resource)).not.toThrow();
      }
      expect(expressions({ ...loincObservation, status: 'final-ish' })).toEqual(['Observation.status']);
    });
  });
});
