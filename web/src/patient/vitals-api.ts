import type { Bundle, Observation, Parameters } from '@medplum/fhirtypes';
import { medplum } from '../session';

/** The latest reading per vital-sign code (Observation/$lastn, docs/wellness.md), newest first. */
export async function latestVitals(patientId: string): Promise<Observation[]> {
  const url = medplum.fhirUrl('Observation', '$lastn');
  url.search = new URLSearchParams({ patient: patientId, category: 'vital-signs' }).toString();
  return newestFirst(await medplum.get<Bundle<Observation>>(url));
}

/** The readings of a $lastn Bundle, newest first. */
export function newestFirst(bundle: Bundle<Observation> | undefined): Observation[] {
  const readings = (bundle?.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
  return readings.sort((a, b) => (b.effectiveDateTime ?? '').localeCompare(a.effectiveDateTime ?? ''));
}

export interface DailyPoint {
  day: string;
  [series: string]: number | string;
}

export interface SeriesSpec {
  /** The code asked of $stats. */
  code: string;
  /** The component code when the series is one part of a panel (systolic of a blood pressure). */
  component?: string;
  name: string;
  color: string;
}

/** Daily averages of each series over the last `days` days, in the browser's time zone (Observation/$stats). */
export async function dailyAverages(patientId: string, series: SeriesSpec[], days: number): Promise<DailyPoint[]> {
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const start = new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
  const url = medplum.fhirUrl('Observation', '$stats');
  url.search = new URLSearchParams({
    patient: patientId,
    code: [...new Set(series.map((s) => `http://loinc.org|${s.code}`))].join(','),
    start,
    interval: 'day',
    timezone,
    statistic: 'average',
  }).toString();
  const answer = await medplum.get<Parameters>(url);
  const byDay = new Map<string, DailyPoint>();
  for (const stat of answer.parameter ?? []) {
    const part = (name: string) => stat.part?.find((p) => p.name === name);
    const code = part('code')?.valueCoding?.code;
    const component = part('component')?.valueCoding?.code;
    const spec = series.find((s) => s.code === code && s.component === component);
    const startOfDay = part('period')?.valuePeriod?.start;
    const average = part('average')?.valueDecimal;
    if (!spec || !startOfDay || average === undefined) {
      continue;
    }
    const day = new Date(startOfDay).toLocaleDateString(undefined, {
      day: 'numeric',
      month: 'short',
      timeZone: timezone,
    });
    const point = byDay.get(startOfDay) ?? { day };
    point[spec.name] = Math.round(average * 10) / 10;
    byDay.set(startOfDay, point);
  }
  return [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, p]) => p);
}
