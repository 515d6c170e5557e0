/**
 * Puts the planned history on the calendar: visit times spread over a span sized to the number
 * of visits (sicker patients are seen more often), condition onsets consistent with the visits
 * that diagnose them, and therapy start/switch dates that drive the physiological trends.
 */
import type { PatientProfile } from './patient';
import type { ChronicPlan, HistoryPlan, VisitKind } from './plan';
import type { DiseaseCourse } from './physiology';
import type { Rng } from './prng';
import { DAY_MS, MINUTE_MS, YEAR_MS, localTime } from './time';

export interface Interval {
  readonly start: number;
  readonly end: number;
}

export interface TherapyDates {
  readonly start: number;
  /** When the first drug was replaced by the escalation drug. */
  readonly switched?: number;
}

export interface Timeline {
  readonly visits: Interval[];
  readonly onsets: Map<ChronicPlan, number>;
  readonly therapies: Map<ChronicPlan, TherapyDates>;
  readonly futureAppointments: Interval[];
  /** Start of the recorded history (first visit, or the reference date when there is none). */
  readonly historyStart: number;
}

/** Local clinic hours (minutes after midnight) and visit length range (minutes) per visit kind. */
const SCHEDULE: Readonly<Record<VisitKind, { hours: [number, number]; minutes: [number, number] }>> = {
  wellness: { hours: [8 * 60, 16 * 60], minutes: [30, 45] },
  followup: { hours: [8 * 60, 16 * 60 + 30], minutes: [15, 30] },
  acute: { hours: [8 * 60, 17 * 60], minutes: [15, 30] },
  emergency: { hours: [0, 23 * 60 + 45], minutes: [120, 360] },
  telehealth: { hours: [9 * 60, 17 * 60], minutes: [10, 20] },
};

const MIN_ONSET_AGE: Readonly<Record<ChronicPlan['definition']['kind'], number>> = {
  hypertension: 25,
  diabetes: 25,
  hyperlipidemia: 25,
  asthma: 2,
  obesity: 18,
};

function visitInterval(rng: Rng, kind: VisitKind, dayMs: number, utcOffset: number): Interval {
  const { hours, minutes } = SCHEDULE[kind];
  const startMinute = rng.int(hours[0] / 15, hours[1] / 15) * 15;
  const start = localTime(dayMs, startMinute, utcOffset);
  return { start, end: start + rng.int(minutes[0], minutes[1]) * MINUTE_MS };
}

/**
 * Visits are spread evenly (with jitter inside each slot) over a span ending two days before the
 * reference date; the span shrinks so that no visit precedes birth (or age 12 for adults).
 */
function layOutVisits(rng: Rng, profile: PatientProfile, plan: HistoryPlan, referenceMs: number): Interval[] {
  const count = plan.visits.length;
  if (count === 0) {
    return [];
  }
  const meanIntervalDays = Math.max(14, 365 / (1.5 + 1.5 * plan.chronic.length));
  // Visits are planned for the patient's current age group, so adults' records start at 12 at the earliest.
  const earliest = profile.birthMs + (profile.age >= 18 ? 12 * YEAR_MS : 30 * DAY_MS);
  const availableDays = (referenceMs - earliest) / DAY_MS;
  const spanDays = Math.max(1, Math.min(count * meanIntervalDays * rng.float(0.8, 1.2), availableDays));
  // Two days of margin keep even a late-night, six-hour emergency visit before the reference date.
  const end = referenceMs - 2 * DAY_MS;
  const slot = (spanDays * DAY_MS) / count;
  return plan.visits.map((visit, i) => {
    const dayMs = end - spanDays * DAY_MS + (i + rng.float(0.1, 0.9)) * slot;
    return visitInterval(rng, visit.kind, dayMs, profile.city.utcOffset);
  });
}

function preHistoryOnset(rng: Rng, profile: PatientProfile, chronic: ChronicPlan, historyStart: number): number {
  const upper = Math.max(profile.birthMs + DAY_MS, historyStart - 30 * DAY_MS);
  const earliest = profile.birthMs + MIN_ONSET_AGE[chronic.definition.kind] * YEAR_MS;
  let lower = Math.max(earliest, upper - 15 * YEAR_MS);
  if (lower > upper) {
    lower = Math.max(profile.birthMs + DAY_MS, upper - 2 * YEAR_MS);
  }
  return Math.floor(rng.float(lower, upper) / DAY_MS) * DAY_MS;
}

function therapyDates(rng: Rng, chronic: ChronicPlan, onset: number, referenceMs: number): TherapyDates {
  const start = chronic.diagnosedAt === 'pre' ? onset + rng.int(0, 60) * DAY_MS : onset;
  if (!chronic.switched) {
    return { start };
  }
  const latest = referenceMs - 7 * DAY_MS;
  const earliest = start + 90 * DAY_MS;
  const switched = earliest < latest ? rng.float(earliest, latest) : (start + latest) / 2;
  return { start, switched: Math.floor(switched / MINUTE_MS) * MINUTE_MS };
}

export function layOutTimeline(rng: Rng, profile: PatientProfile, plan: HistoryPlan, referenceMs: number): Timeline {
  const visits = layOutVisits(rng, profile, plan, referenceMs);
  const historyStart = visits[0]?.start ?? referenceMs;
  const onsets = new Map<ChronicPlan, number>();
  const therapies = new Map<ChronicPlan, TherapyDates>();
  for (const chronic of plan.chronic) {
    const diagnosis = chronic.diagnosedAt === 'pre' ? undefined : visits[chronic.diagnosedAt];
    const onset = diagnosis?.start ?? preHistoryOnset(rng, profile, chronic, historyStart);
    onsets.set(chronic, onset);
    if (chronic.therapy.length > 0) {
      therapies.set(chronic, therapyDates(rng, chronic, onset, referenceMs));
    }
  }
  const futureAppointments = Array.from({ length: plan.futureAppointments }, () =>
    visitInterval(rng, 'followup', referenceMs + rng.int(3, 120) * DAY_MS, profile.city.utcOffset)
  ).sort((a, b) => a.start - b.start);
  return { visits, onsets, therapies, futureAppointments, historyStart };
}

export function diseaseCourses(plan: HistoryPlan, timeline: Timeline): DiseaseCourse[] {
  return plan.chronic.map((chronic) => ({
    kind: chronic.definition.kind,
    onsetMs: timeline.onsets.get(chronic) ?? 0,
    treatedFromMs: timeline.therapies.get(chronic)?.start,
  }));
}
