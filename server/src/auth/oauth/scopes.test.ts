import { describeScope } from './scope-words';
import { allowedSubset, parseResourceScope, parseScopes, scopeCovered } from './scopes';

const VITALS = 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs';

describe('SMART scope parsing', () => {
  test('v1 read, write and * map to v2 permissions', () => {
    expect([...(parseResourceScope('patient/*.read')?.permissions ?? [])].sort()).toEqual(['r', 's']);
    expect([...(parseResourceScope('user/Observation.write')?.permissions ?? [])].sort()).toEqual(['c', 'd', 'u']);
    expect([...(parseResourceScope('system/*.*')?.permissions ?? [])].sort()).toEqual(['c', 'd', 'r', 's', 'u']);
    expect(parseResourceScope('system/*.read')).toMatchObject({ context: 'system', resourceType: '*' });
  });

  test('v2 permissions must be a subsequence of cruds', () => {
    expect(parseResourceScope('patient/Observation.rs')).toMatchObject({
      context: 'patient',
      resourceType: 'Observation',
    });
    expect(parseResourceScope('user/*.cruds')?.permissions.size).toBe(5);
    expect(parseResourceScope('patient/Observation.sr')).toBeUndefined();
    expect(parseResourceScope('patient/Observation.rr')).toBeUndefined();
    expect(parseResourceScope('patient/Observation.x')).toBeUndefined();
  });

  test('granular v2 scopes keep their restriction as search parameters', () => {
    expect(parseResourceScope(VITALS)?.params).toEqual([
      ['category', 'http://terminology.hl7.org/CodeSystem/observation-category|vital-signs'],
    ]);
    expect(parseResourceScope('patient/Observation.read?category=laboratory')).toBeUndefined();
  });

  test('unknown scopes and resource types are ignored, context scopes kept', () => {
    const parsed = parseScopes(
      'openid fhirUser launch/patient offline_access patient/Nonsense.rs foo patient/*.rs openid'
    );
    expect(parsed.scopes).toEqual(['openid', 'fhirUser', 'launch/patient', 'offline_access', 'patient/*.rs']);
    expect([...parsed.context]).toEqual(['openid', 'fhirUser', 'launch/patient', 'offline_access']);
    expect(parsed.resources).toHaveLength(1);
  });

  test('a wider granted scope covers narrower requests, never the reverse', () => {
    expect(scopeCovered('patient/Observation.rs', ['patient/*.cruds'])).toBe(true);
    expect(scopeCovered(VITALS, ['patient/Observation.rs'])).toBe(true);
    expect(scopeCovered('patient/Observation.rs', [VITALS])).toBe(false);
    expect(scopeCovered('patient/Observation.cruds', ['patient/*.rs'])).toBe(false);
    expect(scopeCovered('user/Observation.rs', ['patient/*.rs'])).toBe(false);
    expect(scopeCovered('patient/*.read', ['patient/*.rs'])).toBe(true);
  });

  test('grantable scopes are the requested ones the client is allowed, in the client spelling', () => {
    expect(
      allowedSubset('patient/*.read user/*.cruds launch/patient openid', ['patient/*.rs', 'launch/patient'])
    ).toEqual(['patient/*.read', 'launch/patient']);
  });
});

describe('scopes in plain words', () => {
  test('category scopes name the category', () => {
    expect(describeScope(VITALS, 'own-record')).toBe('Read your vital signs');
  });
  test('read and write', () => {
    expect(describeScope('patient/MedicationRequest.cruds', 'own-record')).toBe('Read and write your medications');
    expect(describeScope('patient/Observation.write', 'patient-record')).toBe(
      "Write the patient's measurements and test results"
    );
    expect(describeScope('user/Condition.cr', 'patient-record')).toBe(
      'Read and add to the conditions and diagnoses you have access to'
    );
  });
});
