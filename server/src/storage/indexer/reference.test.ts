import type { Reference } from '@medplum/fhirtypes';
import { appendReferenceRows, referenceTargetType } from './reference';
import { emptyIndexRows } from './rows';

const BASE = 'http://localhost:8103/fhir/R4';

describe('reference rows', () => {
  test.each([
    ['Patient/123', { targetType: 'Patient', targetId: '123', url: null }],
    ['Patient/123/_history/4', { targetType: 'Patient', targetId: '123', url: null }],
    [`${BASE}/Practitioner/abc`, { targetType: 'Practitioner', targetId: 'abc', url: null }],
    [`${BASE}/Practitioner/abc/_history/1`, { targetType: 'Practitioner', targetId: 'abc', url: null }],
    // A URL elsewhere keeps the type `resolve() is` sees, for parameters narrowed by type.
    [
      'http://other.example/fhir/Patient/9',
      { targetType: 'Patient', targetId: null, url: 'http://other.example/fhir/Patient/9' },
    ],
    [`${BASE}x/Patient/9`, { targetType: 'Patient', targetId: null, url: `${BASE}x/Patient/9` }],
    ['urn:uuid:0f6d-11', { targetType: null, targetId: null, url: 'urn:uuid:0f6d-11' }],
  ])('%s', (reference, expected) => {
    const rows = emptyIndexRows();
    appendReferenceRows([{ type: 'Reference', value: { reference } }], 7, 0, rows, BASE);
    expect(rows.reference).toEqual([{ sp: 7, grp: 0, ...expected }]);
    expect(rows.token).toEqual([]);
  });

  test.each(['#contained-1', 'Patient?identifier=http://x|1'])('%s gives no row', (reference) => {
    const rows = emptyIndexRows();
    appendReferenceRows([{ type: 'Reference', value: { reference } }], 7, 0, rows, BASE);
    expect(rows.reference).toEqual([]);
  });

  test('an identifier gives a token row on the same sp, with or without a reference', () => {
    const rows = emptyIndexRows();
    appendReferenceRows(
      [
        { type: 'Reference', value: { identifier: { system: 'http://ssn', value: '999' } } },
        { type: 'Reference', value: { reference: 'Patient/1', identifier: { value: 'mrn-1' } } },
      ],
      7,
      0,
      rows,
      BASE
    );
    expect(rows.reference).toEqual([{ sp: 7, grp: 0, targetType: 'Patient', targetId: '1', url: null }]);
    expect(rows.token).toEqual([
      { sp: 7, grp: 0, system: 'http://ssn', code: '999', display: null, ofType: null },
      { sp: 7, grp: 0, system: null, code: 'mrn-1', display: null, ofType: null },
    ]);
  });

  test('canonicals are URLs without their version', () => {
    const rows = emptyIndexRows();
    appendReferenceRows([{ type: 'canonical', value: 'http://example.org/Questionnaire/q|2.0' }], 7, 0, rows, BASE);
    expect(rows.reference).toEqual([
      { sp: 7, grp: 0, targetType: null, targetId: null, url: 'http://example.org/Questionnaire/q' },
    ]);
  });
});

describe('referenceTargetType', () => {
  test.each<[Reference, string | undefined]>([
    [{ reference: 'Patient/1' }, 'Patient'],
    [{ reference: 'Group/1/_history/2' }, 'Group'],
    [{ reference: 'https://x.example/fhir/Patient/1' }, 'Patient'],
    [{ reference: 'Patient?identifier=a|b' }, 'Patient'],
    [{ reference: 'urn:uuid:1234' }, undefined],
    [{ reference: 'urn:uuid:1234', type: 'Patient' }, 'Patient'],
    [{ identifier: { value: '1' }, type: 'Patient' }, 'Patient'],
  ])('%j → %s', (reference, expected) => {
    expect(referenceTargetType(reference)).toBe(expected);
  });
});
