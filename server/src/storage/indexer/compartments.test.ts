import type { Encounter, Observation, Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../fhir/definitions';
import { buildIndexRows } from './index';

const options = { baseUrl: 'http://localhost:8103/fhir/R4' };

beforeAll(() => loadFhirDefinitions());

function compartmentsOf(resource: Resource): string[] {
  return buildIndexRows(resource, () => 1, options).compartments;
}

describe('Patient compartment', () => {
  test('Observation.subject Patient/x → [x]', () => {
    const observation: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: 'Patient/x' },
    };
    expect(compartmentsOf(observation)).toEqual(['x']);
  });

  test('a Patient is in its own compartment', () => {
    expect(compartmentsOf({ resourceType: 'Patient', id: 'me' })).toEqual(['me']);
  });

  test('Encounter with subject Patient, on our base URL', () => {
    const encounter: Encounter = {
      resourceType: 'Encounter',
      status: 'finished',
      class: { code: 'AMB' },
      subject: { reference: 'http://localhost:8103/fhir/R4/Patient/e1' },
    };
    expect(compartmentsOf(encounter)).toEqual(['e1']);
  });

  test('performers that are Patients count; Practitioners, Groups and foreign servers do not', () => {
    const observation: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: 'Group/g' },
      performer: [
        { reference: 'Practitioner/d' },
        { reference: 'Patient/a' },
        { reference: 'Patient/a/_history/2' },
        { reference: 'http://elsewhere.example/fhir/Patient/z' },
      ],
    };
    expect(compartmentsOf(observation)).toEqual(['a']);
  });

  test('types outside the compartment have none', () => {
    expect(compartmentsOf({ resourceType: 'Organization', id: 'o', name: 'Org' })).toEqual([]);
  });
});
