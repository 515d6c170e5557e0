import type {
  CarePlan,
  CodeableConcept,
  Condition,
  DiagnosticReport,
  Goal,
  Observation,
  ObservationReferenceRange,
  Resource,
} from '@medplum/fhirtypes';
import { component, ucum } from '../../../server/src/wellness/examples';
import { validRecord } from '../../../server/src/wellness/record-examples';
import type { RecordRefs } from '../../../server/src/wellness/record-examples';
import { CARE_PLAN_ADHERENCE_EXTENSION, HALE_LOG_CODE, MEAL_TYPE_SYSTEM } from '../../../server/src/wellness/records';
import { CARE_PLAN_PHASE_EXTENSION } from '../../../server/src/wellness/summary';
import { Rng } from '../prng';
import { DAY_MS, MINUTE_MS, formatDate, formatDateTime } from '../time';
import type { DemoDay } from './vitals';

/**
 * The demo person's care record beside the measurements: meals, workouts, a symptom, goals, a care plan and
 * quarterly labs. Like the measurements, each starts from the server's conformant example of its profile
 * (wellness/record-examples.ts) with the demo's values; references between them are urn:uuid fullUrls,
 * resolved by the transaction that writes them.
 */

export interface DemoEntry {
  fullUrl: string;
  resource: Resource;
}

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const at = (ms: number): string => formatDateTime(ms, 0);
const round = (value: number, digits = 0): number => Number(value.toFixed(digits));
const concept = (system: string, code: string, display?: string): CodeableConcept => ({
  coding: [{ system, code, ...(display ? { display } : {}) }],
});

export class RecordWriter {
  constructor(
    private readonly patientId: string,
    private readonly rng: Rng
  ) {}

  entry(resource: Resource): DemoEntry {
    return { fullUrl: `urn:uuid:${this.rng.uuid()}`, resource };
  }

  /** validRecord needs ids only for references the demo sets itself. */
  example<T extends Resource>(key: Parameters<typeof validRecord>[0]): T {
    const refs: RecordRefs = { patientId: this.patientId, conditionId: 'unused', observationId: 'unused' };
    return validRecord(key, refs) as T;
  }
}

const MEALS: readonly { type: string; minutes: number; kcal: number; notes: readonly string[] }[] = [
  {
    type: 'breakfast',
    minutes: 7 * 60 + 30,
    kcal: 420,
    notes: ['Porridge with berries', 'Eggs on toast', 'Yoghurt and muesli'],
  },
  { type: 'lunch', minutes: 12 * 60 + 30, kcal: 620, notes: ['Chicken salad', 'Lentil soup and bread', 'Sushi'] },
  { type: 'dinner', minutes: 19 * 60, kcal: 720, notes: ['Salmon, rice and greens', 'Vegetable curry', 'Pasta'] },
];

/** Breakfast, lunch and dinner, and sometimes a snack. */
export function mealsOf(w: RecordWriter, day: DemoDay, seed: number): DemoEntry[] {
  const rng = new Rng(seed, 202, day.index);
  const meals = rng.chance(0.4)
    ? [...MEALS, { type: 'snack', minutes: 15 * 60 + 30, kcal: 180, notes: ['An apple and nuts'] }]
    : MEALS;
  return meals.map((meal) => {
    const kcal = round(rng.normal(meal.kcal, meal.kcal * 0.12));
    const food = w.example<Observation>('foodLog');
    return w.entry({
      ...food,
      effectiveDateTime: at(day.dayMs + (meal.minutes + rng.int(-20, 20)) * MINUTE_MS),
      valueQuantity: ucum(kcal, 'kcal'),
      note: [{ text: rng.pick(meal.notes) }],
      component: [
        { code: concept(HALE_LOG_CODE, 'meal-type'), valueCodeableConcept: concept(MEAL_TYPE_SYSTEM, meal.type) },
        component(HALE_LOG_CODE, 'carbohydrate-intake', ucum(round((kcal * 0.5) / 4), 'g')),
        component(HALE_LOG_CODE, 'protein-intake', ucum(round((kcal * 0.2) / 4), 'g')),
        component(HALE_LOG_CODE, 'fat-intake', ucum(round((kcal * 0.3) / 9), 'g')),
      ],
    } satisfies Observation);
  });
}

const ACTIVITIES: readonly { name: string; kcalPerMin: number; metresPerMin?: number; stepsPerMin?: number }[] = [
  { name: 'Walking', kcalPerMin: 4.5, metresPerMin: 85, stepsPerMin: 110 },
  { name: 'Running', kcalPerMin: 10.5, metresPerMin: 170, stepsPerMin: 160 },
  { name: 'Cycling', kcalPerMin: 8, metresPerMin: 350 },
  { name: 'Swimming', kcalPerMin: 9 },
  { name: 'Yoga', kcalPerMin: 3 },
];

/** A workout on about four days a week, more often as the year goes on. */
export function activityOf(w: RecordWriter, day: DemoDay, days: number, seed: number): DemoEntry[] {
  const rng = new Rng(seed, 303, day.index);
  if (!rng.chance(0.35 + 0.3 * (day.index / days))) {
    return [];
  }
  const kind = rng.pick(ACTIVITIES);
  const minutes = rng.int(25, 60);
  const start = day.dayMs + rng.int(6 * 60, 18 * 60) * MINUTE_MS;
  const activity = w.example<Observation>('activityLog');
  return [
    w.entry({
      ...activity,
      effectivePeriod: { start: at(start), end: at(start + minutes * MINUTE_MS) },
      valueCodeableConcept: { text: kind.name },
      component: [
        component(LOINC, '55411-3', ucum(minutes, 'min')),
        component(LOINC, '41981-2', ucum(round(minutes * kind.kcalPerMin), 'kcal')),
        ...(kind.metresPerMin
          ? [component(HALE_LOG_CODE, 'activity-distance', ucum(minutes * kind.metresPerMin, 'm'))]
          : []),
        ...(kind.stepsPerMin ? [component(LOINC, '55423-8', ucum(minutes * kind.stepsPerMin, '{steps}'))] : []),
      ],
    } satisfies Observation),
  ];
}

/** A recurring headache (a Condition) with a few symptom logs pointing at it. */
export function symptomsOf(w: RecordWriter, patientId: string, days: readonly DemoDay[], seed: number): DemoEntry[] {
  const rng = new Rng(seed, 404);
  const first = days[0];
  if (!first) {
    return [];
  }
  const condition = w.entry({
    resourceType: 'Condition',
    clinicalStatus: concept('http://terminology.hl7.org/CodeSystem/condition-clinical', 'active'),
    verificationStatus: concept('http://terminology.hl7.org/CodeSystem/condition-ver-status', 'provisional'),
    category: [concept('http://terminology.hl7.org/CodeSystem/condition-category', 'problem-list-item')],
    code: concept(SNOMED, '25064002', 'Headache'),
    subject: { reference: `Patient/${patientId}` },
    onsetDateTime: at(first.dayMs + 10 * 60 * MINUTE_MS),
  } satisfies Condition);
  const logs = rng.sample(days, 12).map((day) => {
    const symptom = w.example<Observation>('symptomLog');
    return w.entry({
      ...symptom,
      effectiveDateTime: at(day.dayMs + rng.int(9 * 60, 20 * 60) * MINUTE_MS),
      focus: [{ reference: condition.fullUrl }],
      component: [
        {
          code: concept(HALE_LOG_CODE, 'symptom-severity'),
          // SNOMED CT severities: mild, moderate.
          valueCodeableConcept: concept(SNOMED, rng.chance(0.7) ? '255604002' : '6736007'),
        },
      ],
    } satisfies Observation);
  });
  return [condition, ...logs];
}

interface LabTest {
  code: string;
  display: string;
  unit: string;
  start: number;
  end: number;
  sd: number;
  low?: number;
  high?: number;
}

/** A lipid panel with HbA1c: LDL and HbA1c start high and come down over the year. */
const LABS: readonly LabTest[] = [
  {
    code: '2093-3',
    display: 'Cholesterol [Mass/volume] in Serum or Plasma',
    unit: 'mg/dL',
    start: 232,
    end: 196,
    sd: 6,
    low: 125,
    high: 200,
  },
  { code: '2085-9', display: 'HDL Cholesterol', unit: 'mg/dL', start: 42, end: 50, sd: 3, low: 40 },
  { code: '18262-6', display: 'LDL Cholesterol (direct)', unit: 'mg/dL', start: 152, end: 118, sd: 6, high: 130 },
  {
    code: '2571-8',
    display: 'Triglyceride [Mass/volume] in Serum or Plasma',
    unit: 'mg/dL',
    start: 180,
    end: 140,
    sd: 10,
    high: 150,
  },
  {
    code: '4548-4',
    display: 'Hemoglobin A1c/Hemoglobin.total in Blood',
    unit: '%',
    start: 6.3,
    end: 5.8,
    sd: 0.1,
    high: 5.7,
  },
];

function range(test: LabTest): ObservationReferenceRange[] {
  return [
    {
      ...(test.low !== undefined ? { low: ucum(test.low, test.unit) } : {}),
      ...(test.high !== undefined ? { high: ucum(test.high, test.unit) } : {}),
    },
  ];
}

/** Every three months: the lab's results and the report that groups them (flags H/L are the server's to derive). */
export function labsOf(w: RecordWriter, days: readonly DemoDay[], seed: number): DemoEntry[] {
  const rng = new Rng(seed, 505);
  const out: DemoEntry[] = [];
  for (const day of days.filter((d) => d.index % 91 === 14)) {
    const p = day.index / Math.max(1, days.length - 1);
    const drawn = day.dayMs + 8 * 60 * MINUTE_MS;
    const results = LABS.map((test) => {
      const result = w.example<Observation>('labResult');
      const digits = test.unit === '%' ? 1 : 0;
      return w.entry({
        ...result,
        code: concept(LOINC, test.code, test.display),
        effectiveDateTime: at(drawn),
        issued: new Date(drawn + DAY_MS).toISOString(),
        valueQuantity: ucum(round(rng.normal(test.start + (test.end - test.start) * p, test.sd), digits), test.unit),
        referenceRange: range(test),
      } satisfies Observation);
    });
    const report = w.example<DiagnosticReport>('labReport');
    out.push(
      ...results,
      w.entry({
        ...report,
        code: concept(LOINC, '24331-1', 'Lipid panel - Serum or Plasma'),
        effectiveDateTime: at(drawn),
        issued: new Date(drawn + DAY_MS).toISOString(),
        result: results.map((r) => ({ reference: r.fullUrl })),
      } satisfies DiagnosticReport)
    );
  }
  return out;
}

/** Goals set at the start of the year, due at its end: one achieved already, the others in progress. */
export function goalsOf(w: RecordWriter, days: readonly DemoDay[]): DemoEntry[] {
  const first = days[0];
  const last = days[days.length - 1];
  if (!first || !last) {
    return [];
  }
  const goal = w.example<Goal>('goal');
  const due = formatDate(last.dayMs + 90 * DAY_MS);
  const start = formatDate(first.dayMs);
  const make = (text: string, code: string, quantity: Goal['target'], achievement: string): DemoEntry =>
    w.entry({
      ...goal,
      startDate: start,
      achievementStatus: concept('http://terminology.hl7.org/CodeSystem/goal-achievement', achievement),
      description: { text },
      target: quantity?.map((t) => ({ ...t, measure: concept(LOINC, code), dueDate: due })),
    } satisfies Goal);
  return [
    make(
      'Weigh 80 kg or less',
      '29463-7',
      [{ detailQuantity: { ...ucum(80, 'kg'), comparator: '<=' } }],
      'in-progress'
    ),
    make(
      'Walk 10,000 steps a day',
      '55423-8',
      [{ detailQuantity: { ...ucum(10000, '{steps}'), comparator: '>=' } }],
      'improving'
    ),
    make(
      'Blood pressure under 130/85',
      '8480-6',
      [{ detailQuantity: { ...ucum(130, 'mm[Hg]'), comparator: '<' } }],
      'achieved'
    ),
    make(
      'Fasting glucose under 100 mg/dL',
      '2339-0',
      [{ detailQuantity: { ...ucum(100, 'mg/dL'), comparator: '<' } }],
      'in-progress'
    ),
  ];
}

/** A year-long plan in three phases; the current phase is the one in progress. */
export function carePlanOf(w: RecordWriter, days: readonly DemoDay[], goals: readonly DemoEntry[]): DemoEntry[] {
  const first = days[0];
  const last = days[days.length - 1];
  if (!first || !last) {
    return [];
  }
  const plan = w.example<CarePlan>('carePlan');
  const phase = (
    name: string,
    status: 'completed' | 'in-progress',
    description: string,
    adherence: number
  ): NonNullable<CarePlan['activity']>[number] => ({
    extension: [
      { url: CARE_PLAN_PHASE_EXTENSION, valueString: name },
      { url: CARE_PLAN_ADHERENCE_EXTENSION, valueQuantity: ucum(adherence, '%') },
    ],
    detail: { status, description },
  });
  return [
    w.entry({
      ...plan,
      title: 'Heart health: weight, blood pressure and glucose',
      period: { start: formatDate(first.dayMs), end: formatDate(last.dayMs + 90 * DAY_MS) },
      goal: goals.map((g) => ({ reference: g.fullUrl })),
      activity: [
        phase('Months 1-4: build the habit', 'completed', 'A 30-minute walk every day', 82),
        phase('Months 5-9: build up', 'completed', 'Three runs or rides a week; fewer takeaways', 74),
        phase('Months 10-15: keep it up', 'in-progress', '10,000 steps a day and a weekly weigh-in', 68),
      ],
    } satisfies CarePlan),
  ];
}

/** A monthly insight derived from that month's readings. */
export function insightOf(w: RecordWriter, text: string, from: readonly DemoEntry[], effective: number): DemoEntry {
  const insight = w.example<Observation>('insight');
  return w.entry({
    ...insight,
    effectiveDateTime: at(effective),
    valueString: text,
    derivedFrom: from.slice(0, 5).map((e) => ({ reference: e.fullUrl })),
  } satisfies Observation);
}
