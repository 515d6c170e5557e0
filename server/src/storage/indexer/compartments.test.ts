import type { Coverage, Encounter, Observation, Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../fhir/definitions';
import { buildIndexRows, compartmentsOf } from './index';

const options = { baseUrl: 'http://localhost:8103/fhir/R4' };

beforeAll(() => loadFhirDefinitions());

function compartments(resource: Resource): string[] {
  const fromRows = buildIndexRows(resource, () => 1, options).compartments;
  expect(compartmentsOf(resource, options)).toEqual(fromRows); // older versions get the same order
  return fromRows;
}

describe('Patient compartment', () => {
  test('Observation.subject Patient/x → [x]', () => {
    const observation: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: 'Patient/x' },
    };
    expect(compartments(observation)).toEqual(['x']);
  });

  test('a Patient is in its own compartment', () => {
    expect(compartments({ resourceType: 'Patient', id: 'me' })).toEqual(['me']);
  });

  test('Encounter with subject Patient, on our base URL', () => {
    const encounter: Encounter = {
      resourceType: 'Encounter',
      status: 'finished',
      class: { code: 'AMB' },
      subject: { reference: 'http://localhost:8103/fhir/R4/Patient/e1' },
    };
    expect(compartments(encounter)).toEqual(['e1']);
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
    expect(compartments(observation)).toEqual(['a']);
  });

  test('the patient a resource is about comes first: subject before performer, whatever their order', () => {
    const observation: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      performer: [{ reference: 'Patient/a' }],
      subject: { reference: 'Patient/b' },
    };
    expect(compartments(observation)).toEqual(['b', 'a']);
  });

  test('a Coverage is about its beneficiary, though the definition lists policy-holder and subscriber first', () => {
    const coverage: Coverage = {
      resourceType: 'Coverage',
      status: 'active',
      policyHolder: { reference: 'Patient/parent' },
      subscriber: { reference: 'Patient/parent' },
      beneficiary: { reference: 'Patient/child' },
      payor: [{ reference: 'Organization/o' }],
    };
    expect(compartments(coverage)).toEqual(['child', 'parent']);
  });

  test('a Patient is about itself before the patients it links to', () => {
    const patient: Resource = {
      resourceType: 'Patient',
      id: 'me',
      link: [{ other: { reference: 'Patient/old' }, type: 'replaces' }],
    };
    expect(compartments(patient)).toEqual(['me', 'old']);
  });

  test('types outside the compartment have none', () => {
    expect(compartments({ resourceType: 'Organization', id: 'o', name: 'Org' })).toEqual([]);
  });
});
