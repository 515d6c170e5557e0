import { getResourceTypes, getSearchParams, loadFhirDefinitions } from '../../fhir/definitions';
import { narrowedReferences, referenceRowsOf } from './reference-rows';

beforeAll(() => {
  loadFhirDefinitions();
});

describe('reference parameters narrowed by target type', () => {
  test('patient reads subject, practitioner reads participant, each kept to its type', () => {
    expect(referenceRowsOf('Observation', 'patient')).toEqual({ code: 'subject', targetType: 'Patient' });
    expect(referenceRowsOf('CareTeam', 'patient')).toEqual({ code: 'subject', targetType: 'Patient' });
    expect(referenceRowsOf('Encounter', 'practitioner')).toEqual({ code: 'participant', targetType: 'Practitioner' });
    expect(referenceRowsOf('Observation', 'subject')).toEqual({ code: 'subject' });
    // AllergyIntolerance.patient is a path of its own, not a narrowing.
    expect(referenceRowsOf('AllergyIntolerance', 'patient')).toEqual({ code: 'patient' });
  });

  test('every narrowing reads a plain reference parameter of the same type', () => {
    for (const type of getResourceTypes()) {
      for (const [code, rows] of narrowedReferences(type)) {
        const params = getSearchParams(type);
        expect(`${type}.${code} → ${params[rows.code]?.type}`).toBe(`${type}.${code} → reference`);
        expect(narrowedReferences(type).has(rows.code)).toBe(false);
        expect(params[code]?.expression).toContain('resolve() is');
      }
    }
  });
});
