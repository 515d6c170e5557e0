import { OperationOutcomeError } from '@medplum/core';
import { collectReferences } from './references';

const BASE = 'https://hale.example/fhir/R4';

describe('collectReferences', () => {
  test('finds relative and own-base references with their paths, skipping contained resources', () => {
    const refs = collectReferences(
      {
        resourceType: 'Observation',
        subject: { reference: 'Patient/p1' },
        performer: [{ reference: 'Practitioner/d1' }, { reference: `${BASE}/Organization/o1/_history/2` }],
        component: [
          { valueReference: { display: 'x' } },
          { extension: [{ valueReference: { reference: 'Device/v1' } }] },
        ],
        contained: [{ resourceType: 'Patient', link: [{ other: { reference: 'Patient/hidden' } }] }],
        note: [{ text: 'see Patient/p2' }],
      },
      BASE
    );
    expect(refs).toEqual([
      { type: 'Patient', id: 'p1', key: 'Patient/p1', path: 'Observation.subject.reference' },
      { type: 'Practitioner', id: 'd1', key: 'Practitioner/d1', path: 'Observation.performer[0].reference' },
      { type: 'Organization', id: 'o1', key: 'Organization/o1', path: 'Observation.performer[1].reference' },
      {
        type: 'Device',
        id: 'v1',
        key: 'Device/v1',
        path: 'Observation.component[1].extension[0].valueReference.reference',
      },
    ]);
  });

  test('a urn:uuid left over from a bundle names where it is', () => {
    let error: unknown;
    try {
      collectReferences(
        { resourceType: 'Encounter', participant: [{ individual: { reference: 'urn:uuid:abc' } }] },
        BASE
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(OperationOutcomeError);
    expect((error as OperationOutcomeError).outcome.issue?.[0]?.expression).toEqual([
      'Encounter.participant[0].individual.reference',
    ]);
  });
});
