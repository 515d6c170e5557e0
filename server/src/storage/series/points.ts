import type { Resource } from '@medplum/fhirtypes';
import { referenceRowsOf } from '../indexer/reference-rows';
import type { IndexRows } from '../indexer/rows';

/**
 * One row of measurement_series (db/migrations/0017_measurement_series.sql): an Observation's value, or one of
 * its components' values, under one coding of its code, at its effective time. Derived from the version's own
 * search-index rows, so the series holds exactly what a search would find (the normalised units of
 * idx_quantity, the patient of `patient`, the period of `date`), and written in the same statement as them.
 */
export interface SeriesPoint {
  patient: string;
  /** The coding of Observation.code ('' for a coding without system). */
  system: string;
  code: string;
  /** The effective period (idx_date of `date`): low for ranges, high for "latest". */
  at: string;
  atHigh: string;
  /** The component's coding, for a component's value; null for the Observation's own value. */
  compSystem: string | null;
  compCode: string | null;
  /** The component's element number (idx_* grp); 0 for the Observation's own value. */
  grp: number;
  /** The numeric value (valueQuantity, else valueInteger); null when the Observation has none. */
  value: string | null;
  unit: string | null;
  status: string | null;
  /** The Observation's categories as system|code, for Consent's category test. */
  categories: string[];
}

type Lookup = (resourceType: string, code: string) => number | undefined;

/** The series points of an Observation version; none for other types, or without a Patient subject or a date. */
export function seriesPointsOf(resource: Resource, rows: IndexRows, lookup: Lookup): SeriesPoint[] {
  if (resource.resourceType !== 'Observation') {
    return [];
  }
  const sp = (code: string): number => lookup('Observation', code) ?? -1;
  // The rows the `patient` search parameter reads (subject's, narrowed to Patient targets).
  const of = referenceRowsOf('Observation', 'patient');
  const subject = sp(of.code);
  const patient = rows.reference.find(
    (r) => r.sp === subject && (!of.targetType || r.targetType === of.targetType) && r.targetId !== null
  );
  const dateSp = sp('date');
  const date = rows.date.find((d) => d.sp === dateSp);
  if (!patient?.targetId || !date) {
    return [];
  }
  const tokens = (code: string): IndexRows['token'] => {
    const id = sp(code);
    return rows.token.filter((t) => t.sp === id && t.code !== null);
  };
  const valueSp = sp('value-quantity');
  const quantity = rows.quantity.find((q) => q.sp === valueSp);
  const integer = (resource as { valueInteger?: unknown }).valueInteger;
  const base = {
    patient: patient.targetId,
    at: date.low,
    atHigh: date.high,
    status: tokens('status')[0]?.code ?? null,
    categories: tokens('category').map((t) => `${t.system ?? ''}|${t.code ?? ''}`),
  };
  const own = {
    compSystem: null,
    compCode: null,
    grp: 0,
    value: quantity?.value ?? (typeof integer === 'number' ? String(integer) : null),
    unit: quantity ? quantity.code : null,
  };
  const componentSp = sp('component-code-value-quantity');
  const components = rows.token
    .filter((t) => t.sp === componentSp && t.code !== null)
    .flatMap((t) =>
      rows.quantity
        .filter((q) => q.sp === componentSp && q.grp === t.grp)
        .map((q) => ({ compSystem: t.system ?? '', compCode: t.code, grp: t.grp, value: q.value, unit: q.code }))
    );
  const codings = new Map<string, { system: string; code: string }>();
  for (const t of tokens('code')) {
    codings.set(`${t.system ?? ''}|${t.code ?? ''}`, { system: t.system ?? '', code: t.code ?? '' });
  }
  return [...codings.values()].flatMap((coding) => [own, ...components].map((v) => ({ ...base, ...coding, ...v })));
}
