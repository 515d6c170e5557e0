import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import { rememberJson } from '../storage/stored-json';
import { responseJson } from './response-json';

describe('responseJson', () => {
  const patient: Patient = { resourceType: 'Patient', id: 'p1', meta: { versionId: '1' }, gender: 'other' };
  const observation: Observation = { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' } };
  // The stored text differs from a fresh serialization only in spacing, so the test sees which one was used.
  rememberJson(patient, JSON.stringify(patient, null, 1));

  test('a stored resource answers with the text it was stored as', () => {
    expect(responseJson(patient, false)).toBe(JSON.stringify(patient, null, 1));
    expect(responseJson(observation, false)).toBe(JSON.stringify(observation));
    expect(responseJson(patient, true)).toBe(JSON.stringify(patient, null, 2));
  });

  test('a bundle splices stored entries in and serializes the rest, with the same content', () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: [
        { response: { status: '201', location: 'Patient/p1/_history/1' }, resource: patient },
        { resource: observation, response: { status: '200' } },
        { response: { status: '204' } },
        { resource: patient },
      ],
    };
    const text = responseJson(bundle, false);
    expect(text).toContain(JSON.stringify(patient, null, 1));
    expect(JSON.parse(text)).toEqual(bundle);
    const plain: Bundle = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: observation }] };
    expect(responseJson(plain, false)).toBe(JSON.stringify(plain));
  });
});
