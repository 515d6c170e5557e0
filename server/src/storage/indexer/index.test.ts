import type { AuditEvent, AuditEventEntity, Observation, Patient } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../fhir/definitions';
import { buildIndexRows, indexedSearchParams } from './index';
import type { IndexRows } from './rows';
import { spIds } from './test-sp-ids';

const options = { baseUrl: 'http://localhost:8103/fhir/R4/' };

beforeAll(() => loadFhirDefinitions());

/** The rows of one table for one parameter, without sp. */
function rowsOf<K extends keyof Omit<IndexRows, 'compartments'>>(
  rows: IndexRows,
  table: K,
  sp: number | undefined
): Omit<IndexRows[K][number], 'sp'>[] {
  return (rows[table] as IndexRows[K][number][]).filter((row) => row.sp === sp).map(({ sp: _sp, ...rest }) => rest);
}

const bloodPressure: Observation = {
  resourceType: 'Observation',
  id: 'bp1',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }], text: 'Blood pressure' },
  subject: { reference: 'Patient/p1' },
  effectiveDateTime: '2024-07-15T10:00:00+02:00',
  meta: { lastUpdated: '2024-07-15T10:00:00Z', tag: [{ system: 'http://t', code: 'x' }] },
  component: [
    {
      code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
      valueQuantity: { value: 120, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
    },
    {
      code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
      valueQuantity: { value: 80, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
    },
  ],
};

describe('buildIndexRows', () => {
  test('a stored composite writes its components under its sp, grouped by base element; derived ones write nothing', () => {
    const { lookupSp } = spIds();
    const rows = buildIndexRows(bloodPressure, lookupSp, options);
    const component = lookupSp('Observation', 'component-code-value-quantity');
    expect(rowsOf(rows, 'token', component)).toEqual([
      { grp: 1, system: 'http://loinc.org', code: '8480-6', display: null, ofType: null },
      { grp: 2, system: 'http://loinc.org', code: '8462-4', display: null, ofType: null },
    ]);
    expect(rowsOf(rows, 'quantity', component)).toEqual([
      { grp: 1, value: '120', system: 'http://unitsofmeasure.org', code: 'mm[Hg]', unit: 'mmHg' },
      { grp: 2, value: '80', system: 'http://unitsofmeasure.org', code: 'mm[Hg]', unit: 'mmHg' },
    ]);
    // Searched through the rows of code, value-quantity and component-code-value-quantity (derived.ts).
    for (const code of ['combo-code-value-quantity', 'code-value-quantity', 'combo-code', 'combo-value-quantity']) {
      const sp = lookupSp('Observation', code);
      expect([...rowsOf(rows, 'token', sp), ...rowsOf(rows, 'quantity', sp)]).toEqual([]);
    }
  });

  test('a composite group whose values make no rows for some component is left out entirely', () => {
    const { lookupSp } = spIds();
    const observation: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '2339-0' }] },
      component: [
        { code: { coding: [{ system: 'http://loinc.org', code: '2339-0' }] }, valueQuantity: { unit: 'mg/dL' } },
      ],
    };
    const rows = buildIndexRows(observation, lookupSp, options);
    const sp = lookupSp('Observation', 'component-code-value-quantity');
    expect(rowsOf(rows, 'token', sp)).toEqual([]);
    expect(rowsOf(rows, 'token', lookupSp('Observation', 'code'))).toHaveLength(1);
  });

  test('ordinary parameters have grp 0; _id and _lastUpdated have no rows', () => {
    const { lookupSp, nameOf } = spIds();
    const rows = buildIndexRows(bloodPressure, lookupSp, options);
    expect(rowsOf(rows, 'date', lookupSp('Observation', 'date'))).toEqual([
      { grp: 0, low: '2024-07-15T08:00:00.000Z', high: '2024-07-15T08:00:00.999Z' },
    ]);
    expect(rowsOf(rows, 'token', lookupSp('Observation', '_tag'))).toEqual([
      { grp: 0, system: 'http://t', code: 'x', display: null, ofType: null },
    ]);
    // `patient` is `subject` narrowed to Patients: its searches read subject's rows (reference-rows.ts).
    expect(rowsOf(rows, 'reference', lookupSp('Observation', 'subject'))).toEqual([
      { grp: 0, targetType: 'Patient', targetId: 'p1', url: null },
    ]);
    expect(rowsOf(rows, 'reference', lookupSp('Observation', 'patient'))).toEqual([]);
    const tables = [rows.token, rows.string, rows.date, rows.number, rows.quantity, rows.reference, rows.uri];
    const codes = new Set(tables.flatMap((table) => table.map((row) => nameOf(row.sp))));
    expect(codes.has('Observation._id')).toBe(false);
    expect(codes.has('Observation._lastUpdated')).toBe(false);
  });

  test('parameters lookupSp does not know are skipped, but compartments are still computed', () => {
    const rows = buildIndexRows(bloodPressure, () => undefined, options);
    expect(rows.token).toEqual([]);
    expect(rows.reference).toEqual([]);
    expect(rows.compartments).toEqual(['p1']);
  });

  test('Patient: names normalized, deceased through the FHIRPath engine, own compartment', () => {
    const patient: Patient = {
      resourceType: 'Patient',
      id: 'p9',
      name: [{ family: 'Núñez', given: ['José'] }],
      birthDate: '1970-03',
      deceasedDateTime: '2020-01-01T00:00:00Z',
      link: [{ other: { reference: 'Patient/p8' }, type: 'seealso' }],
    };
    const { lookupSp } = spIds();
    const rows = buildIndexRows(patient, lookupSp, options);
    expect(rowsOf(rows, 'string', lookupSp('Patient', 'name')).map((r) => r.norm)).toEqual(['nunez', 'jose']);
    expect(rowsOf(rows, 'token', lookupSp('Patient', 'deceased')).map((r) => r.code)).toEqual(['true']);
    expect(rowsOf(rows, 'date', lookupSp('Patient', 'birthdate'))).toEqual([
      { grp: 0, low: '1970-03-01T00:00:00.000Z', high: '1970-03-31T23:59:59.999Z' },
    ]);
    expect(rows.compartments).toEqual(['p9', 'p8']);
  });

  test('a value repeated within one parameter makes one row; distinct values and other parameters keep theirs', () => {
    const object = (reference: string): AuditEventEntity => ({
      what: { reference },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '4' },
    });
    const event: AuditEvent = {
      resourceType: 'AuditEvent',
      id: 'a1',
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
      recorded: '2026-11-21T06:00:00Z',
      agent: [{ requestor: true, who: { reference: 'Practitioner/pr1' } }],
      source: { observer: { display: 'Hale' } },
      entity: [object('Observation/o1'), object('Observation/o2'), object('Observation/o1'), object('Encounter/e1')],
    };
    const { lookupSp } = spIds();
    const rows = buildIndexRows(event, lookupSp, options);
    expect(rowsOf(rows, 'token', lookupSp('AuditEvent', 'entity-type'))).toEqual([
      {
        grp: 0,
        system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
        code: '2',
        display: null,
        ofType: null,
      },
    ]);
    expect(rowsOf(rows, 'token', lookupSp('AuditEvent', 'entity-role')).map((r) => r.code)).toEqual(['4']);
    expect(rowsOf(rows, 'reference', lookupSp('AuditEvent', 'entity')).map((r) => r.targetId)).toEqual([
      'o1',
      'o2',
      'e1',
    ]);
  });
});

describe('indexedSearchParams', () => {
  test('leaves out _id, _lastUpdated, Medplum parameters and special ones', () => {
    const codes = indexedSearchParams('Observation').map((sp) => sp.code);
    expect(codes).toEqual(
      expect.arrayContaining(['code', 'subject', 'patient', '_tag', '_profile', 'component-code-value-quantity'])
    );
    expect(codes).not.toEqual(expect.arrayContaining(['_id']));
    expect(codes).not.toContain('code-value-quantity');
    for (const code of ['_id', '_lastUpdated', '_compartment', '_project']) {
      expect(codes).not.toContain(code);
    }
    expect(indexedSearchParams('Location').map((sp) => sp.code)).not.toContain('near');
  });
});
