/**
 * Evaluating a rule over the readings in its window. Pure: the caller fetches the Observations, this decides.
 */
import type { Observation } from '@medplum/fhirtypes';
import { effectiveTime, quantityOf } from '../observations';
import { round, unitOf, valueIn } from '../quantity';
import { slopePerDay } from '../stats';
import type { ClinicalRule } from './rule';
import { isGlucoseRule } from './rule';

export interface Reading {
  /** `Observation/id`. */
  readonly ref: string;
  readonly time: number;
  /** The value compared with the threshold, and with the second threshold (in their units). */
  readonly value?: number;
  readonly second?: number;
}

export interface Evaluation {
  readonly triggered: boolean;
  /** One line for people: what was seen and why it did or did not fire. */
  readonly summary: string;
  readonly readings: readonly Reading[];
  /** The readings that crossed (threshold operators), or the ones the finding rests on. */
  readonly hits: readonly Reading[];
  readonly slope?: number;
}

/** Trend thresholds are per day: `/min/d` compares readings in `/min`. */
function readingUnit(rule: ClinicalRule): string | undefined {
  const unit = unitOf(rule.threshold);
  const trend = rule.operator === 'trendUp' || rule.operator === 'trendDown';
  return trend && unit?.endsWith('/d') ? unit.slice(0, -2) : unit;
}

/** The Observation as a reading of this rule; values that do not convert to the rule's units are left out. */
export function toReading(rule: ClinicalRule, obs: Observation): Reading | undefined {
  const time = effectiveTime(obs);
  if (time === undefined || !obs.id) {
    return undefined;
  }
  const glucose = isGlucoseRule(rule);
  const unit = readingUnit(rule);
  const secondUnit = unitOf(rule.secondThreshold);
  const value = unit ? valueIn(quantityOf(obs, rule.component), unit, glucose) : undefined;
  const second = secondUnit ? valueIn(quantityOf(obs, rule.secondComponent), secondUnit, glucose) : undefined;
  return {
    ref: `Observation/${obs.id}`,
    time,
    ...(value === undefined ? {} : { value }),
    ...(second === undefined ? {} : { second }),
  };
}

const COMPARE: Record<'>' | '>=' | '<' | '<=', (a: number, b: number) => boolean> = {
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
};

const WORDS: Record<'>' | '>=' | '<' | '<=', string> = {
  '>': 'above',
  '>=': 'at or above',
  '<': 'below',
  '<=': 'at or below',
};

/**
 * Evaluates the rule. `readings` are the window's readings, oldest first; `current` is the reading that started
 * the evaluation (absent for the daily run of missing rules).
 */
export function evaluate(rule: ClinicalRule, readings: readonly Reading[], current?: Reading): Evaluation {
  switch (rule.operator) {
    case '>':
    case '>=':
    case '<':
    case '<=':
      return threshold(rule, rule.operator, readings, current);
    case 'increase':
    case 'decrease':
      return change(rule, readings, current);
    case 'trendUp':
    case 'trendDown':
      return trend(rule, readings);
    case 'missing':
      return missing(rule, readings);
  }
}

function limitText(rule: ClinicalRule): string {
  const first = rule.threshold?.value;
  const second = rule.secondThreshold?.value;
  const unit = rule.threshold?.unit ?? unitOf(rule.threshold) ?? '';
  return `${first}${second === undefined ? '' : `/${second}`} ${unit}`.trim();
}

function threshold(
  rule: ClinicalRule,
  op: '>' | '>=' | '<' | '<=',
  readings: readonly Reading[],
  current: Reading | undefined
): Evaluation {
  const t1 = rule.threshold?.value ?? 0;
  const t2 = rule.secondThreshold?.value;
  const crosses = (r: Reading): boolean =>
    (r.value !== undefined && COMPARE[op](r.value, t1)) ||
    (t2 !== undefined && r.second !== undefined && COMPARE[op](r.second, t2));
  const hits = readings.filter(crosses);
  // A reading that does not itself cross never fires the rule, even when earlier ones in the window did.
  const triggered = hits.length >= rule.occurrences && (current === undefined || crosses(current));
  const summary =
    `${hits.length} of ${readings.length} readings in ${rule.windowDays} days ${WORDS[op]} ${limitText(rule)}` +
    ` (fires at ${rule.occurrences}${current && !crosses(current) ? '; the new reading does not cross' : ''})`;
  return { triggered, summary, readings, hits };
}

function change(rule: ClinicalRule, readings: readonly Reading[], current: Reading | undefined): Evaluation {
  const limit = rule.threshold?.value ?? 0;
  const unit = rule.threshold?.unit ?? unitOf(rule.threshold) ?? '';
  const earlier = readings.filter((r) => r.value !== undefined && current && r.time < current.time);
  if (!current || current.value === undefined || earlier.length === 0) {
    return {
      triggered: false,
      summary: `no earlier reading in ${rule.windowDays} days to compare with`,
      readings,
      hits: [],
    };
  }
  const up = rule.operator === 'increase';
  const base = earlier.reduce((a, b) =>
    (up ? (b.value ?? 0) < (a.value ?? 0) : (b.value ?? 0) > (a.value ?? 0)) ? b : a
  );
  const delta = (current.value - (base.value ?? 0)) * (up ? 1 : -1);
  const summary = `${up ? 'up' : 'down'} ${round(delta, 2)} ${unit} from the ${up ? 'lowest' : 'highest'} reading in ${rule.windowDays} days (fires at ${limit})`;
  return { triggered: delta >= limit, summary, readings, hits: [base, current] };
}

function trend(rule: ClinicalRule, readings: readonly Reading[]): Evaluation {
  const points = readings.flatMap((r) => (r.value === undefined ? [] : [{ t: r.time, v: r.value }]));
  const needed = Math.max(rule.occurrences, 2);
  const slope = points.length >= needed ? slopePerDay(points) : undefined;
  const limit = rule.threshold?.value ?? 0;
  const unit = rule.threshold?.unit ?? unitOf(rule.threshold) ?? '';
  if (slope === undefined) {
    return {
      triggered: false,
      summary: `${points.length} readings in ${rule.windowDays} days; a trend needs ${needed}`,
      readings,
      hits: [],
    };
  }
  const triggered = rule.operator === 'trendUp' ? slope >= limit : slope <= -limit;
  const summary = `least-squares slope ${round(slope, 3)} ${unit} over ${points.length} readings in ${rule.windowDays} days (fires at ${rule.operator === 'trendUp' ? '' : '-'}${limit})`;
  return { triggered, summary, readings, hits: triggered ? readings : [], slope };
}

function missing(rule: ClinicalRule, readings: readonly Reading[]): Evaluation {
  const triggered = readings.length < rule.occurrences;
  const summary = `${readings.length} readings in ${rule.windowDays} days (fires below ${rule.occurrences})`;
  return { triggered, summary, readings, hits: [] };
}
