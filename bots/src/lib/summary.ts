/**
 * The weekly summary's text (markdown): blood pressure, glucose and weight with their trends, steps, sleep, and
 * adherence (Tasks and CarePlan activities completed). Pure: the bot fetches, this writes.
 */
import type { CarePlan, Coding, Observation, Task } from '@medplum/fhirtypes';
import { codingIn, DAY_MS } from './fhir';
import { effectiveTime, quantityOf } from './observations';
import { round, unitOf, valueIn } from './quantity';
import type { Point } from './stats';
import { slopePerDay, summarize } from './stats';
import { LOINC, LOINC_CODE } from './vocabulary';

const loinc = (...codes: string[]): Coding[] => codes.map((code) => ({ system: LOINC, code }));

export const SUMMARY_CODES = {
  bp: loinc(LOINC_CODE.bpPanel, '55284-4'),
  glucose: loinc(LOINC_CODE.glucoseBlood, LOINC_CODE.glucoseSerum, LOINC_CODE.fastingGlucose),
  weight: loinc(LOINC_CODE.bodyWeight),
  steps: loinc(LOINC_CODE.steps, LOINC_CODE.stepsPedometer),
  sleep: loinc(LOINC_CODE.sleepDuration),
};

export const ALL_SUMMARY_CODES: readonly Coding[] = Object.values(SUMMARY_CODES).flat();

export interface WeekData {
  readonly from: Date;
  readonly to: Date;
  readonly observations: readonly Observation[];
  readonly tasks: readonly Task[];
  readonly carePlans: readonly CarePlan[];
}

const fmt = (n: number, digits = 1): string => round(n, digits).toLocaleString('en');

const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** The readings of these codes as points, in `unit` (undefined: the value as given, e.g. a step count). */
function points(
  observations: readonly Observation[],
  codes: readonly Coding[],
  unit: string | undefined,
  component?: Coding,
  glucose = false
): Point[] {
  return observations
    .filter((o) => codes.some((c) => codingIn(o.code, c)))
    .flatMap((o) => {
      const t = effectiveTime(o);
      const q = quantityOf(o, component);
      const v = unit === undefined ? q?.value : valueIn(q, unit, glucose);
      return t === undefined || v === undefined ? [] : [{ t, v }];
    })
    .sort((a, b) => a.t - b.t);
}

function trend(ps: readonly Point[], unit: string): string {
  const slope = ps.length >= 3 ? slopePerDay(ps) : undefined;
  return slope === undefined ? '' : `; trend ${slope >= 0 ? '+' : ''}${fmt(slope, 2)} ${unit} a day`;
}

function bloodPressure(data: WeekData): string | undefined {
  const sys = points(data.observations, SUMMARY_CODES.bp, 'mm[Hg]', { system: LOINC, code: LOINC_CODE.systolic });
  const dia = points(data.observations, SUMMARY_CODES.bp, 'mm[Hg]', { system: LOINC, code: LOINC_CODE.diastolic });
  const s = summarize(sys);
  const d = summarize(dia);
  if (!s || !d) {
    return undefined;
  }
  return (
    `- **Blood pressure:** ${count(s.count, 'reading', 'readings')}, average ${fmt(s.mean, 0)}/${fmt(d.mean, 0)} mmHg ` +
    `(systolic ${s.min}–${s.max}, diastolic ${d.min}–${d.max})${trend(sys, 'mmHg systolic')}`
  );
}

/** A measurement in the unit of its latest reading (mmol/L or mg/dL glucose, kg or lb). */
function measurement(data: WeekData, title: string, codes: readonly Coding[], glucose = false): string | undefined {
  const latest = [...data.observations]
    .reverse()
    .find((o) => codes.some((c) => codingIn(o.code, c)) && o.valueQuantity);
  const unit = unitOf(latest?.valueQuantity);
  if (!unit) {
    return undefined;
  }
  const ps = points(data.observations, codes, unit, undefined, glucose);
  const s = summarize(ps);
  const label = latest?.valueQuantity?.unit ?? unit;
  if (!s) {
    return undefined;
  }
  const range = ` (lowest ${fmt(s.min)}, highest ${fmt(s.max)})`;
  return s.count === 1
    ? `- **${title}:** 1 reading, ${fmt(s.first)} ${label}`
    : `- **${title}:** ${s.count} readings, ${fmt(s.first)} to ${fmt(s.last)} ${label}${range}${trend(ps, label)}`;
}

function steps(data: WeekData): string | undefined {
  const byDay = new Map<number, number>();
  for (const p of points(data.observations, SUMMARY_CODES.steps, undefined)) {
    const day = Math.floor(p.t / DAY_MS);
    byDay.set(day, (byDay.get(day) ?? 0) + p.v);
  }
  if (byDay.size === 0) {
    return undefined;
  }
  const total = [...byDay.values()].reduce((a, b) => a + b, 0);
  return `- **Steps:** ${count(byDay.size, 'day', 'days')} recorded, ${fmt(total / byDay.size, 0)} a day on average (total ${fmt(total, 0)})`;
}

const hoursMinutes = (minutes: number): string => `${Math.floor(minutes / 60)} h ${Math.round(minutes % 60)} min`;

function sleep(data: WeekData): string | undefined {
  const s = summarize(points(data.observations, SUMMARY_CODES.sleep, 'min'));
  if (!s) {
    return undefined;
  }
  return s.count === 1
    ? `- **Sleep:** 1 night, ${hoursMinutes(s.mean)}`
    : `- **Sleep:** ${s.count} nights, ${hoursMinutes(s.mean)} on average (shortest ${hoursMinutes(s.min)}, longest ${hoursMinutes(s.max)})`;
}

const NOT_COUNTED = new Set(['cancelled', 'rejected', 'entered-in-error', 'draft']);

function adherence(data: WeekData): string[] {
  const lines: string[] = [];
  const tasks = data.tasks.filter((t) => !NOT_COUNTED.has(t.status));
  if (tasks.length > 0) {
    const done = tasks.filter((t) => t.status === 'completed').length;
    lines.push(`- **Tasks:** ${done} of ${tasks.length} completed (${Math.round((100 * done) / tasks.length)}%)`);
  }
  const activities = data.carePlans
    .flatMap((c) => c.activity ?? [])
    .map((a) => a.detail?.status)
    .filter((s): s is NonNullable<typeof s> => s !== undefined && !NOT_COUNTED.has(s) && s !== 'unknown');
  if (activities.length > 0) {
    const done = activities.filter((s) => s === 'completed').length;
    lines.push(`- **Care plan activities:** ${done} of ${activities.length} completed`);
  }
  return lines;
}

/** The summary in markdown, or undefined when the week holds nothing to summarize. */
export function renderSummary(data: WeekData): string | undefined {
  const lines = [
    bloodPressure(data),
    measurement(data, 'Glucose', SUMMARY_CODES.glucose, true),
    measurement(data, 'Weight', SUMMARY_CODES.weight),
    steps(data),
    sleep(data),
    ...adherence(data),
  ].filter((l): l is string => l !== undefined);
  if (lines.length === 0) {
    return undefined;
  }
  const day = (d: Date): string => d.toISOString().slice(0, 10);
  return [`# Weekly summary`, '', `${day(data.from)} to ${day(data.to)}`, '', ...lines, ''].join('\n');
}
