/**
 * Plans a patient's history before any resource is built: which chronic conditions, allergies,
 * immunizations and visits there are, and what each visit records. Every planned item has a known
 * resource cost, so the plan can be fitted to the requested bundle size exactly: patient-level
 * items are trimmed when the budget is small, and visits are added until the budget is spent.
 */
import {
  ACUTE,
  ALLERGIES,
  CHRONIC,
  PENICILLINS,
  type AcuteDefinition,
  type AllergyDefinition,
  type ChronicDefinition,
  type ChronicKind,
  type Medication,
} from './codes';
import type { ScheduledDose } from './immunizations';
import { panelSize, type PanelKey, type VitalKey } from './measures';
import type { PatientProfile } from './patient';
import type { Physiology } from './physiology';
import type { Rng } from './prng';
import {
  ORGANIZATIONS,
  practitionersAt,
  practitionersWith,
  type OrganizationDefinition,
  type PractitionerDefinition,
  type Specialty,
} from './providers';

export interface ChronicPlan {
  readonly definition: ChronicDefinition;
  /** Visit index at which the condition is diagnosed, or 'pre' if it predates the recorded history. */
  diagnosedAt: number | 'pre';
  readonly therapy: readonly Medication[];
  /** The first drug was stopped and replaced by the definition's escalation drug. */
  readonly switched: boolean;
  carePlan: boolean;
}

export type VisitKind = 'wellness' | 'followup' | 'acute' | 'emergency' | 'telehealth';

export interface VisitPlan {
  kind: VisitKind;
  practitioner: PractitionerDefinition;
  organization: OrganizationDefinition;
  focus?: ChronicPlan;
  acute?: AcuteDefinition;
  medication?: Medication;
  vitals: VitalKey[];
  /** Ordered most important first, because trimming drops from the end. */
  panels: PanelKey[];
  appointment: boolean;
}

export interface HistoryPlan {
  readonly chronic: ChronicPlan[];
  readonly allergies: AllergyDefinition[];
  readonly immunizations: ScheduledDose[];
  futureAppointments: number;
  readonly visits: VisitPlan[];
  /** Directory entries the bundle must include, in first-use order. */
  readonly providers: Set<PractitionerDefinition | OrganizationDefinition>;
  /** Entries each directory member costs: 1 when inlined as conditional creates, 0 when referenced. */
  readonly providerCost: 0 | 1;
}

/** Patient, primary-care organisation and practitioner (when inlined), plus at least one Encounter. */
export const MINIMUM_RESOURCES = 4;

function chronicProbability(kind: ChronicKind, age: number, obese: boolean): number {
  const clamp = (value: number, max: number) => Math.min(max, Math.max(0, value));
  switch (kind) {
    case 'hypertension':
      return age < 18 ? 0 : clamp(0.012 * (age - 25), 0.6) + (obese ? 0.1 : 0);
    case 'diabetes':
      return age < 18 ? 0 : clamp(0.006 * (age - 30), 0.25) + (obese ? 0.12 : 0);
    case 'hyperlipidemia':
      return age < 18 ? 0 : clamp(0.009 * (age - 30), 0.45);
    case 'asthma':
      return age < 18 ? 0.12 : 0.08;
    case 'obesity':
      return age >= 18 && obese ? 1 : 0;
  }
}

function chooseChronic(rng: Rng, profile: PatientProfile, obese: boolean): ChronicPlan[] {
  const plans: ChronicPlan[] = [];
  for (const definition of Object.values(CHRONIC)) {
    if (!rng.chance(chronicProbability(definition.kind, profile.age, obese))) {
      continue;
    }
    const therapy = definition.therapies.length > 0 ? rng.pick(definition.therapies) : [];
    const escalation = definition.escalation;
    const switched = escalation !== undefined && therapy.length > 0 && !therapy.includes(escalation) && rng.chance(0.3);
    plans.push({
      definition,
      diagnosedAt: rng.chance(0.55) ? 'pre' : rng.int(0, 8),
      therapy,
      switched,
      carePlan: plans.length < 2 && rng.chance(0.8),
    });
  }
  return plans;
}

function chooseAllergies(rng: Rng): AllergyDefinition[] {
  const count = rng.weighted([
    [0, 60],
    [1, 25],
    [2, 10],
    [3, 5],
  ]);
  return rng.sample(ALLERGIES, count);
}

export function chronicCost(plan: ChronicPlan): number {
  return 1 + plan.therapy.length + (plan.switched ? 1 : 0) + (plan.carePlan ? 2 : 0);
}

function baseCost(plan: HistoryPlan): number {
  const chronic = plan.chronic.reduce((sum, c) => sum + chronicCost(c), 0);
  const directory = plan.providerCost * plan.providers.size;
  return 1 + directory + chronic + plan.allergies.length + plan.immunizations.length + plan.futureAppointments;
}

function dropOldestImmunization(plan: HistoryPlan): boolean {
  return plan.immunizations.shift() !== undefined;
}

function dropFutureAppointment(plan: HistoryPlan): boolean {
  if (plan.futureAppointments === 0) {
    return false;
  }
  plan.futureAppointments -= 1;
  return true;
}

function dropCarePlan(plan: HistoryPlan): boolean {
  const chronic = plan.chronic.findLast((c) => c.carePlan);
  if (!chronic) {
    return false;
  }
  chronic.carePlan = false;
  return true;
}

function dropAllergy(plan: HistoryPlan): boolean {
  return plan.allergies.pop() !== undefined;
}

function dropChronicCondition(plan: HistoryPlan): boolean {
  return plan.chronic.pop() !== undefined;
}

/** Drops the least essential patient-level items until at least one visit fits in the budget. */
function trimToBudget(plan: HistoryPlan, budget: number): void {
  const steps = [dropOldestImmunization, dropFutureAppointment, dropCarePlan, dropAllergy, dropChronicCondition];
  for (const step of steps) {
    while (baseCost(plan) > budget - 1 && step(plan)) {
      // each call removes one item
    }
  }
}

const IN_PERSON_VITALS: readonly VitalKey[] = [
  'bloodPressure',
  'heartRate',
  'respiratoryRate',
  'temperature',
  'oxygenSaturation',
  'weight',
  'height',
  'bmi',
];

function vitalsFor(rng: Rng, kind: VisitKind, child: boolean): VitalKey[] {
  const keep = (excluded: readonly VitalKey[]) => IN_PERSON_VITALS.filter((v) => !excluded.includes(v));
  switch (kind) {
    case 'wellness':
      return [...IN_PERSON_VITALS];
    case 'followup':
      return keep(child ? ['temperature'] : ['temperature', 'height']);
    case 'acute':
      return keep(['weight', 'height', 'bmi']);
    case 'emergency':
      return keep(['height', 'bmi']);
    case 'telehealth':
      return rng.chance(0.3) ? ['weight'] : [];
  }
}

function panelsFor(rng: Rng, visit: VisitPlan, profile: PatientProfile, active: ChronicPlan[]): PanelKey[] {
  const has = (kind: ChronicKind) => active.some((c) => c.definition.kind === kind);
  const panels: PanelKey[] = [];
  const add = (panel: PanelKey, probability: number) => rng.chance(probability) && panels.push(panel);
  switch (visit.kind) {
    case 'wellness':
      if (profile.age < 18) {
        add('cbc', 0.1);
        break;
      }
      add('hba1c', has('diabetes') ? 1 : 0);
      add('lipid', profile.age >= 35 || has('hyperlipidemia') ? 0.7 : 0.2);
      add('cmp', 0.6);
      add('cbc', 0.5);
      break;
    case 'followup':
      add('hba1c', visit.focus?.definition.kind === 'diabetes' ? 0.9 : 0);
      add('lipid', visit.focus?.definition.kind === 'hyperlipidemia' ? 0.7 : 0);
      add('bmp', visit.focus?.definition.kind === 'hypertension' || has('diabetes') ? 0.4 : 0);
      break;
    case 'acute':
      add('cbc', 0.15);
      break;
    case 'emergency':
      add('cbc', 0.6);
      add('bmp', 0.5);
      break;
    case 'telehealth':
      break;
  }
  return panels;
}

/** Specialists who see patients for a chronic condition, and how often the follow-up is with them. */
const SPECIALIST: Partial<Record<ChronicKind, readonly [Specialty, number]>> = {
  diabetes: ['endocrinology', 0.3],
  hypertension: ['cardiology', 0.15],
  hyperlipidemia: ['cardiology', 0.1],
  asthma: ['pulmonology', 0.25],
};

function hospital(): OrganizationDefinition {
  const found = ORGANIZATIONS.find((o) => o.kind === 'hospital');
  if (!found) {
    throw new Error('The provider directory has no hospital');
  }
  return found;
}

function careTeam(rng: Rng, kind: VisitKind, focus: ChronicPlan | undefined, profile: PatientProfile) {
  const primary = { practitioner: profile.pcp, organization: profile.clinic };
  const specialist = focus ? SPECIALIST[focus.definition.kind] : undefined;
  if (kind === 'emergency') {
    return { practitioner: rng.pick(practitionersWith('emergency')), organization: hospital() };
  }
  if (kind === 'followup' && specialist && rng.chance(specialist[1])) {
    return { practitioner: rng.pick(practitionersWith(specialist[0])), organization: hospital() };
  }
  if (kind === 'acute' && rng.chance(0.25)) {
    const urgentCare = ORGANIZATIONS.find((o) => o.kind === 'urgentCare');
    if (urgentCare) {
      return { practitioner: rng.pick(practitionersAt(urgentCare)), organization: urgentCare };
    }
  }
  return primary;
}

function acuteFor(rng: Rng, kind: VisitKind, profile: PatientProfile, allergies: readonly AllergyDefinition[]) {
  if (kind !== 'acute' && kind !== 'emergency') {
    return {};
  }
  const setting = kind === 'acute' ? 'clinic' : 'emergency';
  const candidates = ACUTE.filter((a) => a.setting === setting && profile.age >= a.ages[0] && profile.age <= a.ages[1]);
  const acute = rng.pick(candidates);
  const penicillinAllergic = allergies.some((a) => a.penicillin);
  const medication = rng.pick(acute.treatments) ?? undefined;
  // Nobody prescribes a penicillin to a patient with a recorded penicillin allergy.
  return medication && penicillinAllergic && PENICILLINS.has(medication) ? { acute } : { acute, medication };
}

function chooseKind(rng: Rng, index: number, profile: PatientProfile, active: ChronicPlan[]): VisitKind {
  return rng.weighted<VisitKind>([
    ['wellness', 1],
    ['followup', active.length * 0.9],
    ['acute', profile.age < 18 ? 1.3 : 0.7],
    ['emergency', 0.12],
    ['telehealth', index === 0 ? 0 : 0.35],
  ]);
}

function proposeVisit(rng: Rng, index: number, profile: PatientProfile, plan: HistoryPlan): VisitPlan {
  const active = plan.chronic.filter((c) => c.diagnosedAt === 'pre' || c.diagnosedAt <= index);
  const diagnosis = plan.chronic.find((c) => c.diagnosedAt === index);
  const kind = diagnosis ? 'followup' : chooseKind(rng, index, profile, active);
  const focus = kind === 'followup' ? (diagnosis ?? rng.pick(active)) : undefined;
  const visit: VisitPlan = {
    kind,
    ...careTeam(rng, kind, focus, profile),
    focus,
    ...acuteFor(rng, kind, profile, plan.allergies),
    vitals: vitalsFor(rng, kind, profile.age < 18),
    panels: [],
    appointment: rng.chance({ wellness: 0.95, followup: 0.85, acute: 0.3, emergency: 0, telehealth: 0.9 }[kind]),
  };
  visit.panels = panelsFor(rng, visit, profile, active);
  return visit;
}

/** Entries a visit adds for directory members not yet in the bundle. */
function newProviders(visit: VisitPlan, plan: HistoryPlan): number {
  const added = (plan.providers.has(visit.practitioner) ? 0 : 1) + (plan.providers.has(visit.organization) ? 0 : 1);
  return added * plan.providerCost;
}

export function visitCost(visit: VisitPlan): number {
  const panels = visit.panels.reduce((sum, panel) => sum + panelSize(panel), 0);
  const extras = (visit.appointment ? 1 : 0) + (visit.acute ? 1 : 0) + (visit.medication ? 1 : 0);
  return 1 + visit.vitals.length + panels + extras;
}

/** Shrinks a visit, least important parts first, until it fits the remaining budget. */
function fitVisit(visit: VisitPlan, profile: PatientProfile, plan: HistoryPlan, budget: number): void {
  if (1 + newProviders(visit, plan) > budget) {
    Object.assign(visit, { kind: 'telehealth', practitioner: profile.pcp, organization: profile.clinic });
    Object.assign(visit, { acute: undefined, medication: undefined, focus: undefined, vitals: [], panels: [] });
  }
  const cost = () => visitCost(visit) + newProviders(visit, plan);
  while (cost() > budget && visit.panels.pop() !== undefined) {
    // drop the least important panel
  }
  if (cost() > budget) {
    visit.appointment = false;
  }
  if (cost() > budget) {
    visit.medication = undefined;
  }
  while (cost() > budget && visit.vitals.pop() !== undefined) {
    // drop vitals from the least important end
  }
  if (cost() > budget) {
    visit.acute = undefined;
  }
}

export interface PlanInput {
  readonly rng: Rng;
  readonly profile: PatientProfile;
  readonly physiology: Physiology;
  readonly referenceMs: number;
  readonly immunizations: ScheduledDose[];
  readonly target: number;
  /** Whether directory members are bundle entries (conditional creates) or conditional references. */
  readonly inlineDirectory: boolean;
}

export function planHistory(input: PlanInput): HistoryPlan {
  const { rng, profile, physiology, referenceMs, immunizations, target, inlineDirectory } = input;
  const obese = physiology.bmi(referenceMs) >= 30;
  const plan: HistoryPlan = {
    chronic: chooseChronic(rng, profile, obese),
    allergies: chooseAllergies(rng),
    immunizations,
    futureAppointments: rng.int(1, 2),
    visits: [],
    providers: new Set([profile.clinic, profile.pcp]),
    providerCost: inlineDirectory ? 1 : 0,
  };
  trimToBudget(plan, target);
  let remaining = target - baseCost(plan);
  while (remaining > 0) {
    const visit = proposeVisit(rng, plan.visits.length, profile, plan);
    fitVisit(visit, profile, plan, remaining);
    remaining -= visitCost(visit) + newProviders(visit, plan);
    plan.providers.add(visit.organization).add(visit.practitioner);
    plan.visits.push(visit);
  }
  for (const chronic of plan.chronic) {
    if (chronic.diagnosedAt !== 'pre' && chronic.diagnosedAt >= plan.visits.length) {
      chronic.diagnosedAt = 'pre';
    }
  }
  return plan;
}
