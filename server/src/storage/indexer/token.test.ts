import { emptyIndexRows } from './rows';
import { appendTokenRows } from './token';

describe('token rows', () => {
  test('a CodeableConcept gives a row per coding and one for a text no coding displays', () => {
    const rows = emptyIndexRows();
    const concept = {
      coding: [
        { system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertensive disorder' },
        { system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10', display: 'Essential (primary) hypertension' },
      ],
      text: 'High Blood Pressure',
    };
    appendTokenRows([{ type: 'CodeableConcept', value: concept }], 3, 0, rows);
    expect(rows.token).toEqual([
      {
        sp: 3,
        grp: 0,
        system: 'http://snomed.info/sct',
        code: '38341003',
        display: 'hypertensive disorder',
        ofType: null,
      },
      {
        sp: 3,
        grp: 0,
        system: 'http://hl7.org/fhir/sid/icd-10',
        code: 'I10',
        display: 'essential (primary) hypertension',
        ofType: null,
      },
      { sp: 3, grp: 0, system: null, code: null, display: 'high blood pressure', ofType: null },
    ]);
  });

  test('a CodeableConcept text equal to a coding display adds no row', () => {
    const rows = emptyIndexRows();
    const concept = {
      coding: [{ system: 'http://loinc.org', code: '8302-2', display: 'Body Height' }],
      text: 'Body height',
    };
    appendTokenRows([{ type: 'CodeableConcept', value: concept }], 3, 0, rows);
    expect(rows.token).toHaveLength(1);
  });

  test('an Identifier gives (system, value) with its type for :of-type', () => {
    const rows = emptyIndexRows();
    const identifier = {
      system: 'http://hospital.example/mrn',
      value: 'MRN-1',
      type: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }],
        text: 'Medical Record Number',
      },
    };
    appendTokenRows(
      [
        { type: 'Identifier', value: identifier },
        { type: 'Identifier', value: { system: 'urn:oid:1.2.3', value: 'X' } },
      ],
      4,
      0,
      rows
    );
    expect(rows.token).toEqual([
      {
        sp: 4,
        grp: 0,
        system: 'http://hospital.example/mrn',
        code: 'MRN-1',
        display: 'medical record number',
        ofType: 'http://terminology.hl7.org/CodeSystem/v2-0203|MR',
      },
      { sp: 4, grp: 0, system: 'urn:oid:1.2.3', code: 'X', display: null, ofType: null },
    ]);
  });

  test('Coding, ContactPoint, code and boolean', () => {
    const rows = emptyIndexRows();
    appendTokenRows(
      [
        { type: 'Coding', value: { system: 's', code: 'c', display: 'Ça' } },
        { type: 'ContactPoint', value: { system: 'phone', value: '555-1234' } },
        { type: 'code', value: 'final' },
        { type: 'boolean', value: true },
        { type: 'boolean', value: false },
      ],
      1,
      0,
      rows
    );
    expect(rows.token.map((r) => [r.system, r.code, r.display])).toEqual([
      ['s', 'c', 'ca'],
      [null, '555-1234', null],
      [null, 'final', null],
      [null, 'true', null],
      [null, 'false', null],
    ]);
  });
});
