import type { MedplumClient } from '@medplum/core';
import type { Coding, Observation, Quantity } from '@medplum/fhirtypes';
import type { Search } from './batch';
import { codingIn, isBotWritten, tokenList, typeOf } from './fhir';

/** Observation statuses whose values count; preliminary, cancelled and entered-in-error ones do not. */
export const USABLE_STATUSES = ['final', 'amended', 'corrected'] as const;

export function isUsable(obs: Observation): boolean {
  return (USABLE_STATUSES as readonly string[]).includes(obs.status);
}

/** The time an Observation is about: effective[x] (a period's end, else its start), else when it was issued. */
export function effectiveTime(obs: Observation): number | undefined {
  const value =
    obs.effectiveDateTime ??
    obs.effectiveInstant ??
    obs.effectivePeriod?.end ??
    obs.effectivePeriod?.start ??
    obs.effectiveTiming?.event?.[0] ??
    obs.issued;
  const t = value ? Date.parse(value) : Number.NaN;
  return Number.isNaN(t) ? undefined : t;
}

/** The Observation's quantity, or a component's when `component` names one. */
export function quantityOf(obs: Observation, component?: Coding): Quantity | undefined {
  if (!component) {
    return obs.valueQuantity;
  }
  return obs.component?.find((c) => codingIn(c.code, component))?.valueQuantity;
}

/** Derived values (derivedFrom, or written by a bot) are never derived from again. */
export function isDerived(obs: Observation): boolean {
  return (obs.derivedFrom?.length ?? 0) > 0 || isBotWritten(obs);
}

/** `Patient/id` of the Observation's subject, when it is a patient. */
export function patientOf(obs: Observation): string | undefined {
  return typeOf(obs.subject) === 'Patient' ? obs.subject?.reference : undefined;
}

/** The search for usable Observations of a patient (or several: `Patient/a,Patient/b`) with these codes in [from, to]. */
export function readingsSearch(subjects: string, codes: readonly Coding[], from: Date, to: Date): Search {
  return {
    resourceType: 'Observation',
    query: [
      ['subject', subjects],
      ['code', tokenList(codes)],
      ['status', USABLE_STATUSES.join(',')],
      ['date', `ge${from.toISOString()}`],
      ['date', `le${to.toISOString()}`],
      ['_sort', 'date'],
      ['_count', '1000'],
    ],
  };
}

/** The patient's usable Observations with any of these codes, effective in [from, to], oldest first. */
export async function readingsBetween(
  medplum: MedplumClient,
  patient: string,
  codes: readonly Coding[],
  from: Date,
  to: Date
): Promise<Observation[]> {
  const search = readingsSearch(patient, codes, from, to);
  const found = await medplum.searchResources(
    'Observation',
    search.query.map(([k, v]) => [k, v])
  );
  return [...found].sort((a, b) => (effectiveTime(a) ?? 0) - (effectiveTime(b) ?? 0));
}

/** The patient's latest usable Observation with any of these codes (not derived, unless asked for). */
export async function latestReading(
  medplum: MedplumClient,
  patient: string,
  codes: readonly Coding[],
  options: { before?: Date; includeDerived?: boolean } = {}
): Promise<Observation | undefined> {
  const query: string[][] = [
    ['subject', patient],
    ['code', tokenList(codes)],
    ['status', USABLE_STATUSES.join(',')],
    ['_sort', '-date'],
    ['_count', '20'],
  ];
  if (options.before) {
    query.push(['date', `le${options.before.toISOString()}`]);
  }
  const found = await medplum.searchResources('Observation', query);
  return found.find((o) => options.includeDerived || !isDerived(o));
}
