import { OperationOutcomeError, getAllDataTypes } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../fhir/definitions';
import { validateResourceForWrite } from '../validate';

const observation = { resourceType: 'Observation', status: 'final', code: { text: 'heart rate' } };

function issuesOf(resource: unknown): OperationOutcomeIssue[] {
  try {
    validateResourceForWrite(resource as Resource);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(OperationOutcomeError);
    return (err as OperationOutcomeError).outcome.issue ?? [];
  }
}

function pairs(resource: unknown): string[] {
  return issuesOf(resource).map((issue) => `${issue.code} ${issue.expression?.[0]}`);
}

describe('the compiled validator', () => {
  test('names choice elements like core: value[x] in its own checks, the JSON property in shape checks', () => {
    expect(pairs({ ...observation, valueQuantity: { value: '72' } })).toEqual(['structure Observation.value[x].value']);
    expect(pairs({ ...observation, valueQuantity: {} })).toEqual(['structure Observation.valueQuantity']);
    const medication = { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: {} };
    expect(pairs(medication)).toContain('structure MedicationRequest.medication[x]');
  });

  test('names the exact item where core left out array indexes', () => {
    const patient = { resourceType: 'Patient', name: [{ family: 'A' }, { given: 'B' }] };
    expect(pairs(patient)).toEqual(['structure Patient.name[1].given']);
  });

  test('rejects a choice element given in two types, which core only warns about', () => {
    // Like core, the first type in the element's type order (Quantity) is the one validated.
    const issues = issuesOf({ ...observation, valueString: '72', valueQuantity: { value: 'x' } });
    expect(issues.map((issue) => issue.expression?.[0])).toEqual([
      'Observation.valueString',
      'Observation.value[x].value',
    ]);
    expect(issues[0]?.details?.text).toContain('Conflicting choice of type properties');
  });

  test('keeps reporting the rest of a resource that nests a resource of unknown type', () => {
    const patient = { resourceType: 'Patient', contained: [{ resourceType: 'Nope' }], gender: 'x', foo: 1 };
    expect(pairs(patient).sort()).toEqual([
      'code-invalid Patient.gender',
      'invalid Patient.contained[0]',
      'structure Patient.foo',
    ]);
  });

  test('rejects an empty `_x` object like any other empty object', () => {
    expect(pairs({ resourceType: 'Patient', gender: 'male', _gender: {} })).toEqual(['structure Patient._gender']);
  });

  test('checks invariants with hand-written and engine-evaluated expressions alike', () => {
    expect(pairs({ ...observation, valueString: 'x', dataAbsentReason: { text: 'y' } })).toEqual([
      'invariant Observation',
    ]);
    expect(pairs({ resourceType: 'Patient', _birthDate: { extension: [{ url: 'http://e' }] } })).toEqual([
      'invariant Patient.birthDate.extension[0]',
    ]);
    // per-1 is not evaluated (core checks only element constraints), but Bundle's bdl-1 goes through the engine.
    expect(pairs({ resourceType: 'Bundle', type: 'collection', total: 3 })).toEqual(['invariant Bundle']);
  });

  test('answers odd JSON with issues, never with a crash', () => {
    const odd: unknown[] = [
      { ...observation, code: [[[]]], _status: [[null]], component: [null, 1, 'x', [{}]] },
      { ...observation, _code: { coding: [{ code: 'x' }] }, _valueString: 'v', valueString: ['a'] },
      { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 5 } }, { resource: [] }] },
      { resourceType: 'Patient', __proto__: { x: 1 }, constructor: 'x', name: [{ given: ['a', null], _given: {} }] },
    ];
    for (const resource of odd) {
      expect(issuesOf(JSON.parse(JSON.stringify(resource))).length).toBeGreaterThan(0);
    }
  });

  test('relies on the base definitions using no fixed values, patterns, slices or counted cardinalities', () => {
    // The compiled validator does not implement these; profiles that use them go through core's validator.
    loadFhirDefinitions();
    const unsupported = Object.values(getAllDataTypes()).flatMap((schema) =>
      Object.entries(schema.elements)
        .filter(([, e]) => e.fixed || e.pattern || e.slicing || e.min > 1 || (Number.isFinite(e.max) && e.max > 1))
        .map(([name]) => `${schema.name}.${name}`)
    );
    expect(unsupported).toEqual([]);
  });
});
