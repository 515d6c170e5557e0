import type { Bundle, Observation } from '@medplum/fhirtypes';
import { Rng } from '../prng';
import { DAY_MS, formatDate, parseDate } from '../time';
import { historyOf } from './history';
import type { DemoEntry } from './records';
import { RecordWriter, activityOf, carePlanOf, goalsOf, insightOf, labsOf, mealsOf, symptomsOf } from './records';
import { heightOf, vitalsOf, yearOfDays } from './vitals';

/**
 * The demo patient's year as transaction Bundles, deterministic from (seed, reference date, patient id): the
 * same inputs give byte-identical bundles. Readings later than `now` (on the reference date itself, when it is
 * today) are left out, so nothing is dated in the future.
 */

export interface DemoRecordOptions {
  patientId: string;
  seed: number;
  /** YYYY-MM-DD, the last day of the year of data. */
  referenceDate: string;
  /** Readings after this instant are not written (default: now). */
  now?: number;
  days?: number;
}

export interface DemoRecord {
  /** One transaction per 30 days of data, then one for goals, the care plan, labs and symptoms. */
  bundles: Bundle[];
  /** Resources per type (Observation counted in total), for the summary and the tests. */
  counts: Record<string, number>;
  /** The first and last day of the data (YYYY-MM-DD). */
  period: { start: string; end: string };
}

const CHUNK_DAYS = 30;

export function transaction(entries: readonly DemoEntry[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: entries.map((e) => ({
      fullUrl: e.fullUrl,
      resource: e.resource,
      request: { method: 'POST', url: e.resource.resourceType },
    })),
  };
}

function dated(resource: DemoEntry['resource']): string | undefined {
  const r = resource as Observation;
  return r.effectiveDateTime ?? r.effectivePeriod?.end ?? r.effectivePeriod?.start;
}

export function demoRecord(options: DemoRecordOptions): DemoRecord {
  const now = options.now ?? Date.now();
  const referenceMs = parseDate(options.referenceDate);
  const days = yearOfDays(referenceMs, options.days ?? 365);
  const writer = new RecordWriter(options.patientId, new Rng(options.seed, 707));
  const notFuture = (e: DemoEntry): boolean => {
    const when = dated(e.resource);
    return when === undefined || Date.parse(when.length === 10 ? `${when}T23:59:59Z` : when) <= now;
  };
  const bundles: Bundle[] = [];
  for (let from = 0; from < days.length; from += CHUNK_DAYS) {
    const chunk = days.slice(from, from + CHUNK_DAYS);
    const readings = chunk.flatMap((day) =>
      vitalsOf(options.patientId, day, days.length, options.seed).map((r) => writer.entry(r))
    );
    const logs = chunk.flatMap((day) => [
      ...mealsOf(writer, day, options.seed),
      ...activityOf(writer, day, days.length, options.seed),
    ]);
    const entries = [...readings, ...logs].filter(notFuture);
    const last = chunk[chunk.length - 1];
    if (last && entries.length > 0) {
      const end = Math.min(now, last.dayMs + DAY_MS - 1);
      entries.push(insightOf(writer, insightText(from / CHUNK_DAYS), readings, end));
    }
    if (entries.length > 0) {
      bundles.push(transaction(entries));
    }
  }
  const first = days[0];
  const care: DemoEntry[] = [];
  if (first) {
    const goals = goalsOf(writer, days);
    care.push(
      writer.entry(heightOf(options.patientId, first)),
      ...goals,
      ...carePlanOf(writer, days, goals),
      ...labsOf(writer, days, options.seed),
      ...symptomsOf(writer, options.patientId, days, options.seed),
      ...historyOf(writer, options.patientId, days)
    );
  }
  bundles.push(transaction(care.filter(notFuture)));
  return { bundles, counts: countTypes(bundles), period: span(days) };
}

function span(days: ReturnType<typeof yearOfDays>): { start: string; end: string } {
  return { start: formatDate(days[0]?.dayMs ?? 0), end: formatDate(days[days.length - 1]?.dayMs ?? 0) };
}

function countTypes(bundles: readonly Bundle[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of bundles.flatMap((b) => b.entry ?? [])) {
    const type = entry.resource?.resourceType ?? 'unknown';
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

const INSIGHTS = [
  'Your resting heart rate is trending down',
  'You walked more this month than last',
  'Fasting glucose was steadier on days you walked after dinner',
  'Your blood pressure averaged lower than last month',
  'You slept longer on days with a workout',
];

function insightText(month: number): string {
  return INSIGHTS[month % INSIGHTS.length] as string;
}
