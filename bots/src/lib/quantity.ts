import type { Quantity } from '@medplum/fhirtypes';
import { UCUM } from './vocabulary';

/** UCUM units the bots convert between, as [dimension, factor to the dimension's first unit]. */
const UNITS: Record<string, readonly [string, number]> = {
  kg: ['mass', 1],
  g: ['mass', 0.001],
  '[lb_av]': ['mass', 0.45359237],
  m: ['length', 1],
  cm: ['length', 0.01],
  mm: ['length', 0.001],
  '[in_i]': ['length', 0.0254],
  '[ft_i]': ['length', 0.3048],
  'mm[Hg]': ['pressure', 1],
  '/min': ['rate', 1],
  '{beats}/min': ['rate', 1],
  '{beat}/min': ['rate', 1],
  ms: ['duration', 1],
  s: ['duration', 1000],
  min: ['duration', 60_000],
  h: ['duration', 3_600_000],
  'kg/m2': ['bmi', 1],
  'mg/dL': ['mass-concentration', 1],
  'g/L': ['mass-concentration', 100],
  'mmol/L': ['substance-concentration', 1],
};

/** Glucose's molar mass: 1 mmol/L of glucose is 18.016 mg/dL. Other analytes are not converted across. */
const GLUCOSE_MG_DL_PER_MMOL_L = 18.016;

/** A unit's UCUM code: Quantity.code when the system is UCUM (or absent), else the display unit. */
export function unitOf(q: Quantity | undefined): string | undefined {
  if (!q) {
    return undefined;
  }
  if (q.code && (!q.system || q.system === UCUM)) {
    return q.code;
  }
  return q.unit;
}

/**
 * The quantity's value in `target` units, or undefined when the units do not convert. `glucose` allows mmol/L to
 * and from mg/dL (only right for glucose).
 */
export function valueIn(q: Quantity | undefined, target: string, glucose = false): number | undefined {
  const value = q?.value;
  const unit = unitOf(q);
  if (value === undefined || !unit) {
    return undefined;
  }
  if (unit === target) {
    return value;
  }
  const from = UNITS[unit];
  const to = UNITS[target];
  if (!from || !to) {
    return undefined;
  }
  if (from[0] === to[0]) {
    return (value * from[1]) / to[1];
  }
  if (!glucose) {
    return undefined;
  }
  if (from[0] === 'substance-concentration' && to[0] === 'mass-concentration') {
    return (value * from[1] * GLUCOSE_MG_DL_PER_MMOL_L) / to[1];
  }
  if (from[0] === 'mass-concentration' && to[0] === 'substance-concentration') {
    return (value * from[1]) / GLUCOSE_MG_DL_PER_MMOL_L / to[1];
  }
  return undefined;
}

export function ucum(value: number, code: string, unit = code): Quantity {
  return { value, unit, system: UCUM, code };
}

/** Rounds for display and storage: derived values keep no more digits than their inputs carry. */
export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
