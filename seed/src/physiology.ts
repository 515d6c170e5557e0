/**
 * A small per-patient physiological model: personal baselines plus age, disease and treatment
 * effects, so a patient's measurements form plausible trends (an HbA1c that climbs before a
 * diabetes diagnosis and falls after metformin starts) rather than independent noise.
 */
import type { ChronicKind } from './codes';
import { ANALYTES, type AnalyteKey } from './measures';
import type { PatientProfile } from './patient';
import type { Rng } from './prng';
import { DAY_MS, yearsBetween } from './time';

export interface DiseaseCourse {
  readonly kind: ChronicKind;
  readonly onsetMs: number;
  /** When the first therapy started; undefined when untreated. */
  readonly treatedFromMs?: number;
}

/** CDC-like median heights (cm) at ages 0-18, by sex. */
const MEDIAN_HEIGHT: Readonly<Record<'male' | 'female', readonly number[]>> = {
  male: [50, 76, 87, 96, 103, 110, 116, 122, 128, 133, 138, 143, 149, 156, 164, 170, 174, 175, 176],
  female: [49, 74, 86, 95, 102, 109, 115, 121, 127, 133, 138, 144, 151, 157, 160, 162, 162, 163, 163],
};

/** Median BMI by age: the childhood dip and adolescent rise, then slow adult gain until 60. */
function medianBmi(age: number): number {
  if (age < 6) {
    return 16.4 - 0.2 * age;
  }
  if (age < 18) {
    return 15.2 + 0.5 * (age - 6);
  }
  return 21.2 + 0.18 * (Math.min(age, 60) - 18) - 0.08 * Math.max(0, age - 70);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

interface Burden {
  readonly severity: number;
  readonly treatment: number;
}

type EffectInput = { readonly diabetes: Burden; readonly lipids: Burden; readonly age: number };

/**
 * How established (severity) and treated (treatment) diseases shift lab values: diabetes raises
 * glucose, HbA1c and triglycerides; statins pull LDL most of the way back down.
 */
const DISEASE_EFFECTS: Partial<Record<AnalyteKey, (input: EffectInput) => number>> = {
  glucose: ({ diabetes }) => 70 * diabetes.severity - 40 * diabetes.treatment,
  hba1c: ({ diabetes }) => 3 * diabetes.severity - 1.5 * diabetes.treatment,
  ldl: ({ lipids }) => 65 * lipids.severity - 55 * lipids.treatment,
  triglycerides: ({ diabetes, lipids }) => 45 * lipids.severity + 35 * diabetes.severity - 25 * lipids.treatment,
  hdl: ({ diabetes, lipids }) => -6 * lipids.severity - 4 * diabetes.severity,
  creatinine: ({ diabetes, age }) => 0.12 * diabetes.severity + Math.max(0, age - 60) * 0.004,
};

export class Physiology {
  private readonly heightFactor: number;
  private readonly bmiOffset: number;
  /** Personal adult BMI trend (kg/m2 per year) on top of the population's slow gain with age. */
  private readonly bmiDrift: number;
  private readonly systolicOffset: number;
  private readonly diastolicOffset: number;
  private readonly heartRateOffset: number;
  private readonly analyteBase = new Map<AnalyteKey, number>();
  private courses: readonly DiseaseCourse[] = [];

  constructor(
    private readonly rng: Rng,
    private readonly profile: PatientProfile
  ) {
    this.heightFactor = clamp(rng.normal(1, 0.04), 0.88, 1.12);
    this.bmiOffset = clamp(rng.normal(0.5, 4.5), -6, 18);
    this.bmiDrift = rng.normal(0, 0.3);
    this.systolicOffset = rng.normal(0, 8);
    this.diastolicOffset = rng.normal(0, 5);
    this.heartRateOffset = rng.normal(0, 7);
    for (const key of Object.keys(ANALYTES) as AnalyteKey[]) {
      const definition = ANALYTES[key];
      this.analyteBase.set(key, rng.normal(definition.mean[profile.sex], definition.sd));
    }
  }

  /** Disease courses are known only once the history is laid out, after the baselines are drawn. */
  setCourses(courses: readonly DiseaseCourse[]): void {
    this.courses = courses;
  }

  ageAt(ms: number): number {
    return yearsBetween(this.profile.birthMs, ms);
  }

  heightCm(ms: number): number {
    const age = this.ageAt(ms);
    const table = MEDIAN_HEIGHT[this.profile.sex];
    const whole = Math.min(Math.floor(age), table.length - 1);
    const low = table[whole] ?? 50;
    const high = table[Math.min(whole + 1, table.length - 1)] ?? low;
    const median = age >= table.length - 1 ? high : low + (high - low) * (age - whole);
    const shrink = Math.max(0, age - 60) * 0.1;
    return median * this.heightFactor - shrink;
  }

  /** The personal offset weighs less in young children, whose BMI varies less. */
  bmi(ms: number): number {
    const age = this.ageAt(ms);
    const weight = age < 10 ? 0.4 : age < 20 ? 0.4 + 0.06 * (age - 10) : 1;
    // The drift is anchored at the reference date and frozen before age 20, so it never jumps.
    const drift = this.bmiDrift * (Math.max(age, 20) - Math.max(this.profile.age, 20));
    return clamp(medianBmi(age) + this.bmiOffset * weight + drift, 13.5, 60);
  }

  /** Measured weight: the BMI-implied weight plus day-to-day variation. */
  weightKg(ms: number): number {
    const metres = this.heightCm(ms) / 100;
    return Math.max(8, this.bmi(ms) * metres * metres + this.rng.normal(0, 0.5));
  }

  /**
   * How far a disease has progressed at `ms` (0 = absent, 1 = established) and how much of the
   * full treatment effect applies (ramping over 6 months from the first prescription).
   */
  private burden(kind: ChronicKind, ms: number): Burden {
    const course = this.courses.find((c) => c.kind === kind);
    if (!course) {
      return { severity: 0, treatment: 0 };
    }
    const severity = clamp(1 + (ms - course.onsetMs) / (365 * DAY_MS), 0, 1);
    const treatment =
      course.treatedFromMs === undefined ? 0 : clamp((ms - course.treatedFromMs) / (180 * DAY_MS), 0, 1);
    return { severity, treatment };
  }

  bloodPressure(ms: number): [number, number] {
    const age = this.ageAt(ms);
    const { severity, treatment } = this.burden('hypertension', ms);
    const disease = [28 * severity - 18 * treatment, 14 * severity - 9 * treatment];
    if (age < 18) {
      return [
        90 + 1.5 * age + this.systolicOffset * 0.5 + this.rng.normal(0, 5),
        55 + age + this.diastolicOffset * 0.5 + this.rng.normal(0, 4),
      ];
    }
    const bmiEffect = (this.bmi(ms) - 25) * 0.6;
    return [
      112 + 0.35 * (age - 30) + bmiEffect + this.systolicOffset + (disease[0] ?? 0) + this.rng.normal(0, 6),
      72 + 0.1 * (age - 30) + bmiEffect * 0.5 + this.diastolicOffset + (disease[1] ?? 0) + this.rng.normal(0, 4),
    ];
  }

  heartRate(ms: number, unwell: boolean): number {
    const age = this.ageAt(ms);
    const base = age < 18 ? 118 - 2.6 * age : 72;
    return clamp(base + this.heartRateOffset + (unwell ? 14 : 0) + this.rng.normal(0, 5), 45, 160);
  }

  respiratoryRate(ms: number, unwell: boolean): number {
    const age = this.ageAt(ms);
    const base = age < 18 ? 28 - 0.7 * age : 15;
    return clamp(base + (unwell ? 4 : 0) + this.rng.normal(0, 1.5), 10, 40);
  }

  temperatureCel(febrile: boolean): number {
    return febrile ? this.rng.float(37.9, 39.4) : clamp(this.rng.normal(36.8, 0.25), 36, 37.5);
  }

  oxygenSaturation(ms: number, unwell: boolean): number {
    const asthma = this.burden('asthma', ms).severity;
    const base = 98 - asthma * 1.2 - (unwell ? 2.5 : 0);
    return clamp(base + this.rng.normal(0, 0.9), 86, 100);
  }

  /** A lab value, with disease and treatment effects; total cholesterol is derived (Friedewald). */
  analyte(key: AnalyteKey, ms: number): number {
    if (key === 'cholesterol') {
      return this.analyte('ldl', ms) + this.analyte('hdl', ms) + this.analyte('triglycerides', ms) / 5;
    }
    const definition = ANALYTES[key];
    const base = this.analyteBase.get(key) ?? definition.mean[this.profile.sex];
    const value = base + this.diseaseEffect(key, ms) + this.rng.normal(0, definition.noise);
    return Math.max(definition.noise > 0 ? 0.01 : 0, value);
  }

  private diseaseEffect(key: AnalyteKey, ms: number): number {
    const effect = DISEASE_EFFECTS[key];
    if (!effect) {
      return 0;
    }
    return effect({
      diabetes: this.burden('diabetes', ms),
      lipids: this.burden('hyperlipidemia', ms),
      age: this.ageAt(ms),
    });
  }
}
