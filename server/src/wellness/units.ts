/**
 * UCUM conversions to the units Hale stores measurements in. Only the pairs the measurement profiles accept are
 * here: a conversion is right for the measurement that accepts it (mmol/L to mg/dL is glucose's molar mass).
 */

interface Target {
  /** Quantity.unit written with the converted value (the human-readable form). */
  display: string;
  /** Decimals a converted value is rounded to: finer than any device reports, coarse enough to hide float noise. */
  decimals: number;
  from: Readonly<Record<string, (value: number) => number>>;
}

const times =
  (factor: number) =>
  (value: number): number =>
    value * factor;
const same = times(1);

/** 1 mmol/L of glucose (180.156 g/mol) is 18.016 mg/dL, the factor the bots use too. */
export const GLUCOSE_MG_DL_PER_MMOL_L = 18.016;

const TARGETS: Readonly<Record<string, Target>> = {
  kg: {
    display: 'kg',
    decimals: 2,
    from: {
      g: times(0.001),
      '[lb_av]': times(0.45359237),
      '[oz_av]': times(0.028349523125),
      '[stone_av]': times(6.35029318),
    },
  },
  cm: {
    display: 'cm',
    decimals: 1,
    from: { m: times(100), mm: times(0.1), '[in_i]': times(2.54), '[ft_i]': times(30.48) },
  },
  Cel: { display: '°C', decimals: 2, from: { '[degF]': (f) => ((f - 32) * 5) / 9, K: (k) => k - 273.15 } },
  'mg/dL': { display: 'mg/dL', decimals: 0, from: { 'mmol/L': times(GLUCOSE_MG_DL_PER_MMOL_L), 'g/L': times(100) } },
  'mm[Hg]': { display: 'mmHg', decimals: 0, from: { kPa: times(7.500615) } },
  '/min': {
    display: '/min',
    decimals: 1,
    from: { '{beats}/min': same, '{beat}/min': same, '{breaths}/min': same, '{breath}/min': same },
  },
  '%': { display: '%', decimals: 1, from: { '1': times(100) } },
  ms: { display: 'ms', decimals: 1, from: { s: times(1000) } },
  min: { display: 'min', decimals: 1, from: { s: times(1 / 60), h: times(60) } },
  kcal: { display: 'kcal', decimals: 1, from: { kJ: times(1 / 4.184), '[Cal]': same, cal: times(0.001) } },
  '{steps}': { display: 'steps', decimals: 0, from: { '1': same, '{count}': same } },
  'kg/m2': { display: 'kg/m2', decimals: 1, from: {} },
};

/** The display unit Hale writes for a stored unit. */
export function displayOf(unit: string): string {
  return TARGETS[unit]?.display ?? unit;
}

/**
 * `value` in `from` as a value in `to`, rounded; undefined when Hale has no such conversion. A rename (an
 * annotation such as {beats}/min) keeps the value exactly.
 */
export function convert(value: number, from: string, to: string): number | undefined {
  const target = TARGETS[to];
  const fn = target?.from[from];
  if (!target || !fn) {
    return undefined;
  }
  if (fn === same) {
    return value;
  }
  const scale = 10 ** target.decimals;
  return Math.round(fn(value) * scale) / scale;
}

/** True when Hale can convert `from` to `to` (every unit a measurement profile accepts must be). */
export function canConvert(from: string, to: string): boolean {
  return TARGETS[to]?.from[from] !== undefined;
}
