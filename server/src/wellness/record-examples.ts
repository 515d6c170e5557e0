import type {
  CarePlan,
  CodeableConcept,
  DiagnosticReport,
  Goal,
  Observation,
  ObservationComponent,
  Resource,
} from '@medplum/fhirtypes';
import { OBSERVATION_CATEGORY_SYSTEM, WELLNESS_CATEGORY_SYSTEM } from '../access/consent/vocabulary';
import { component, ucum } from './examples';
import { LOINC } from './measurements';
import type { RECORD_PROFILES } from './records';
import { CARE_PLAN_ADHERENCE_EXTENSION, DIAGNOSTIC_SERVICE_SECTION, HALE_LOG_CODE, MEAL_TYPE_SYSTEM } from './records';
import { CARE_PLAN_PHASE_EXTENSION } from './summary';

/** Test support: a conformant example of each care-record profile, and ways to break each, naming the element. */

export type RecordKey = keyof typeof RECORD_PROFILES;

export interface RecordRefs {
  patientId: string;
  conditionId: string;
  observationId: string;
}

const SNOMED = 'http://snomed.info/sct';
const concept = (system: string, code: string, display?: string): CodeableConcept => ({
  coding: [{ system, code, ...(display ? { display } : {}) }],
});
const category = (system: string, code: string): CodeableConcept[] => [concept(system, code)];

export function validRecord(key: RecordKey, refs: RecordRefs): Resource {
  const subject = { reference: `Patient/${refs.patientId}` };
  const obs = (code: CodeableConcept, rest: Partial<Observation>): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code,
    subject,
    effectiveDateTime: '2026-03-02T12:30:00Z',
    ...rest,
  });
  switch (key) {
    case 'foodLog':
      return obs(concept(LOINC, '9052-2', 'Calorie intake total'), {
        category: category(WELLNESS_CATEGORY_SYSTEM, 'nutrition'),
        valueQuantity: ucum(640, 'kcal'),
        note: [{ text: 'Chicken salad and a bread roll' }],
        component: [
          { code: concept(HALE_LOG_CODE, 'meal-type'), valueCodeableConcept: concept(MEAL_TYPE_SYSTEM, 'lunch') },
          component(HALE_LOG_CODE, 'carbohydrate-intake', ucum(62, 'g')),
          component(HALE_LOG_CODE, 'protein-intake', ucum(38, 'g')),
          component(HALE_LOG_CODE, 'fat-intake', ucum(24, 'g')),
        ],
      });
    case 'activityLog':
      return obs(concept(LOINC, '73985-4', 'Exercise activity'), {
        category: category(OBSERVATION_CATEGORY_SYSTEM, 'activity'),
        effectiveDateTime: undefined,
        effectivePeriod: { start: '2026-03-02T06:30:00Z', end: '2026-03-02T07:15:00Z' },
        valueCodeableConcept: { text: 'Running' },
        component: [
          component(LOINC, '55411-3', ucum(45, 'min')),
          component(LOINC, '41981-2', ucum(480, 'kcal')),
          component(HALE_LOG_CODE, 'activity-distance', ucum(7800, 'm')),
          component(LOINC, '55423-8', ucum(8900, '{steps}')),
        ],
      });
    case 'symptomLog':
      return obs(concept(LOINC, '75325-1', 'Symptom'), {
        category: category(WELLNESS_CATEGORY_SYSTEM, 'wellness'),
        focus: [{ reference: `Condition/${refs.conditionId}` }],
        valueCodeableConcept: concept(SNOMED, '25064002', 'Headache'),
        component: [
          { code: concept(HALE_LOG_CODE, 'symptom-severity'), valueCodeableConcept: concept(SNOMED, '6736007') },
        ],
      });
    case 'insight':
      return obs(concept(HALE_LOG_CODE, 'insight'), {
        category: category(WELLNESS_CATEGORY_SYSTEM, 'wellness'),
        valueString: 'Your resting heart rate fell 4 /min this month',
        derivedFrom: [{ reference: `Observation/${refs.observationId}` }],
      });
    case 'labResult':
      return obs(concept(LOINC, '2093-3', 'Cholesterol [Mass/volume] in Serum or Plasma'), {
        category: category(OBSERVATION_CATEGORY_SYSTEM, 'laboratory'),
        valueQuantity: ucum(232, 'mg/dL'),
        referenceRange: [{ low: ucum(125, 'mg/dL'), high: ucum(200, 'mg/dL') }],
      });
    case 'labReport':
      return {
        resourceType: 'DiagnosticReport',
        status: 'final',
        category: category(DIAGNOSTIC_SERVICE_SECTION, 'LAB'),
        code: concept(LOINC, '57698-3', 'Lipid panel with direct LDL - Serum or Plasma'),
        subject,
        effectiveDateTime: '2026-03-01T08:00:00Z',
        issued: '2026-03-02T09:00:00Z',
        result: [{ reference: `Observation/${refs.observationId}` }],
      } satisfies DiagnosticReport;
    case 'goal':
      return {
        resourceType: 'Goal',
        lifecycleStatus: 'active',
        achievementStatus: concept('http://terminology.hl7.org/CodeSystem/goal-achievement', 'in-progress'),
        description: { text: 'Weigh 70 kg or less by June' },
        subject,
        target: [
          {
            measure: concept(LOINC, '29463-7'),
            detailQuantity: { ...ucum(70, 'kg'), comparator: '<=' },
            dueDate: '2026-06-30',
          },
        ],
      } satisfies Goal;
    case 'carePlan':
      return {
        resourceType: 'CarePlan',
        status: 'active',
        intent: 'plan',
        subject,
        period: { start: '2026-03-01', end: '2026-05-01' },
        activity: [
          {
            extension: [
              { url: CARE_PLAN_PHASE_EXTENSION, valueString: 'Weeks 1-4: build the habit' },
              { url: CARE_PLAN_ADHERENCE_EXTENSION, valueQuantity: ucum(71, '%') },
            ],
            detail: { status: 'in-progress', description: 'A 30-minute walk every day' },
          },
          {
            extension: [{ url: CARE_PLAN_PHASE_EXTENSION, valueString: 'Weeks 5-8: build up' }],
            detail: { status: 'not-started', description: 'Three runs a week' },
          },
        ],
      } satisfies CarePlan;
  }
}

type Break = { what: string; change: (r: Resource) => Resource; elements: string[] };

const drop =
  <T extends Resource>(field: keyof T) =>
  (r: Resource): Resource => {
    const copy = { ...r } as T;
    delete copy[field];
    return copy;
  };
const withFields =
  (fields: Record<string, unknown>) =>
  (r: Resource): Resource => ({ ...r, ...fields });
/** A changed deep copy: the example itself is left as it is. */
const edit =
  <T extends Resource>(change: (copy: T) => void) =>
  (r: Resource): Resource => {
    const copy = structuredClone(r) as T;
    change(copy);
    return copy;
  };
const replaceComponent = (index: number, replacement: ObservationComponent): ((r: Resource) => Resource) =>
  edit<Observation>((o) => {
    (o.component ?? [])[index] = replacement;
  });

/** Ways to break each profile, and the elements the 400 names. */
export const RECORD_BREAKS: Record<RecordKey, Break[]> = {
  foodLog: [
    {
      what: 'energy in kJ',
      change: withFields({ valueQuantity: ucum(2680, 'kJ') }),
      elements: ['Observation.value[x]'],
    },
    {
      what: 'no meal type',
      change: (r) => ({ ...(r as Observation), component: (r as Observation).component?.slice(1) }),
      elements: ['Observation'],
    },
    {
      what: 'protein in oz',
      change: replaceComponent(2, component(HALE_LOG_CODE, 'protein-intake', ucum(1.3, '[oz_av]'))),
      elements: ['Observation.component[2]'],
    },
  ],
  activityLog: [
    {
      what: 'no activity type',
      change: drop<Observation>('valueCodeableConcept'),
      elements: ['Observation.value[x]'],
    },
    {
      what: 'duration in hours',
      change: replaceComponent(0, component(LOINC, '55411-3', ucum(0.75, 'h'))),
      elements: ['Observation.component[0]'],
    },
  ],
  symptomLog: [
    { what: 'no Condition', change: drop<Observation>('focus'), elements: ['Observation.focus'] },
    {
      what: 'a severity outside mild, moderate, severe',
      change: withFields({
        component: [{ code: concept(HALE_LOG_CODE, 'symptom-severity'), valueCodeableConcept: { text: 'bad' } }],
      }),
      elements: ['Observation.component[0]'],
    },
  ],
  insight: [
    {
      what: 'no readings it is derived from',
      change: drop<Observation>('derivedFrom'),
      elements: ['Observation.derivedFrom'],
    },
  ],
  labResult: [
    {
      what: 'a value without a UCUM unit',
      change: withFields({ valueQuantity: { value: 232, unit: 'mg/dL' } }),
      elements: ['Observation.value[x]'],
    },
    {
      what: 'an interpretation from another code system',
      change: withFields({ interpretation: [concept('https://lab.example.org/flags', 'HIGH')] }),
      elements: ['Observation.interpretation[0]'],
    },
  ],
  labReport: [
    { what: 'no results', change: drop<DiagnosticReport>('result'), elements: ['DiagnosticReport.result'] },
    { what: 'no issued time', change: drop<DiagnosticReport>('issued'), elements: ['DiagnosticReport.issued'] },
  ],
  goal: [
    {
      what: 'a target without a due date',
      change: edit<Goal>((g) => delete g.target?.[0]?.dueDate),
      elements: ['Goal.target[0].due[x]'],
    },
    {
      what: 'a target without a measure',
      change: edit<Goal>((g) => delete g.target?.[0]?.measure),
      // Goal.target[0] is R4's gol-1 (a target with a detail has a measure).
      elements: ['Goal.target[0]', 'Goal.target[0].measure'],
    },
  ],
  carePlan: [
    { what: 'no period', change: drop<CarePlan>('period'), elements: ['CarePlan.period'] },
    {
      what: 'an activity without its phase',
      change: edit<CarePlan>((p) => delete p.activity?.[1]?.extension),
      elements: ['CarePlan.activity[1]'],
    },
    {
      what: 'an adherence above 100 %',
      change: edit<CarePlan>((p) => {
        const adherence = p.activity?.[0]?.extension?.[1];
        if (adherence) {
          adherence.valueQuantity = ucum(140, '%');
        }
      }),
      elements: ['CarePlan.activity[0]'],
    },
  ],
};
