/**
 * Conditions, MedicationRequests and AllergyIntolerances. Status codes always come from the
 * required CodeSystems (condition-clinical, allergyintolerance-verification, ...), and statuses are
 * consistent with dates: a condition is 'resolved' only once its abatement date has passed.
 */
import type {
  AllergyIntolerance,
  CodeableConcept,
  Condition,
  Dosage,
  Encounter,
  MedicationRequest,
  Patient,
  Practitioner,
  Reference,
} from '@medplum/fhirtypes';
import { ROUTES, SYSTEM, codeable, type AllergyDefinition, type Concept, type Medication } from './codes';
import type { Rng } from './prng';
import { DAY_MS, formatDateTime } from './time';

export interface ClinicalContext {
  readonly rng: Rng;
  readonly patient: Reference<Patient>;
  readonly utcOffset: number;
  readonly referenceMs: number;
}

function statusConcept(system: string, code: string, display: string): CodeableConcept {
  return { coding: [{ system, code, display }] };
}

const CONDITION_CLINICAL = {
  active: statusConcept(SYSTEM.conditionClinical, 'active', 'Active'),
  resolved: statusConcept(SYSTEM.conditionClinical, 'resolved', 'Resolved'),
};
const CONDITION_CONFIRMED = statusConcept(SYSTEM.conditionVerification, 'confirmed', 'Confirmed');
const CONDITION_CATEGORY = {
  problemList: statusConcept(SYSTEM.conditionCategory, 'problem-list-item', 'Problem List Item'),
  encounterDiagnosis: statusConcept(SYSTEM.conditionCategory, 'encounter-diagnosis', 'Encounter Diagnosis'),
};

/** A long-standing problem-list condition, active since its onset. */
export function chronicConditionResource(
  context: ClinicalContext,
  concept: Concept,
  onsetMs: number,
  asserter: Reference<Practitioner>
): Condition {
  const onset = formatDateTime(onsetMs, context.utcOffset);
  return {
    resourceType: 'Condition',
    clinicalStatus: CONDITION_CLINICAL.active,
    verificationStatus: CONDITION_CONFIRMED,
    category: [CONDITION_CATEGORY.problemList],
    code: codeable(concept),
    subject: context.patient,
    onsetDateTime: onset,
    recordedDate: onset,
    asserter,
  };
}

/** An encounter diagnosis that resolves after `days`; it stays active if that is after the reference date. */
export function acuteConditionResource(
  context: ClinicalContext,
  concept: Concept,
  visit: { start: number; encounter: Reference<Encounter>; practitioner: Reference<Practitioner> },
  days: number
): Condition {
  const onsetMs = visit.start - context.rng.int(0, 3) * DAY_MS;
  const abatementMs = visit.start + days * DAY_MS;
  const resolved = abatementMs < context.referenceMs;
  return {
    resourceType: 'Condition',
    clinicalStatus: resolved ? CONDITION_CLINICAL.resolved : CONDITION_CLINICAL.active,
    verificationStatus: CONDITION_CONFIRMED,
    category: [CONDITION_CATEGORY.encounterDiagnosis],
    code: codeable(concept),
    subject: context.patient,
    encounter: visit.encounter,
    onsetDateTime: formatDateTime(onsetMs, context.utcOffset),
    ...(resolved ? { abatementDateTime: formatDateTime(abatementMs, context.utcOffset) } : {}),
    recordedDate: formatDateTime(visit.start, context.utcOffset),
    asserter: visit.practitioner,
  };
}

function dosage(medication: Medication): Dosage {
  const route = ROUTES[medication.route];
  return {
    sequence: 1,
    text: medication.instructions,
    ...(medication.perDay === undefined
      ? { asNeededBoolean: true }
      : { timing: { repeat: { frequency: medication.perDay, period: 1, periodUnit: 'd' } } }),
    route: codeable(route),
  };
}

export interface PrescriptionInput {
  readonly medication: Medication;
  readonly status: 'active' | 'completed' | 'stopped';
  readonly authoredMs: number;
  readonly requester: Reference<Practitioner>;
  readonly reason: Reference<Condition>;
  readonly encounter?: Reference<Encounter>;
}

export function medicationRequestResource(context: ClinicalContext, input: PrescriptionInput): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    status: input.status,
    intent: 'order',
    category: [
      {
        coding: [{ system: SYSTEM.medicationRequestCategory, code: 'community', display: 'Community' }],
      },
    ],
    medicationCodeableConcept: codeable(input.medication.concept),
    subject: context.patient,
    ...(input.encounter ? { encounter: input.encounter } : {}),
    authoredOn: formatDateTime(input.authoredMs, context.utcOffset),
    requester: input.requester,
    reasonReference: [input.reason],
    dosageInstruction: [dosage(input.medication)],
  };
}

const ALLERGY_CLINICAL = {
  active: statusConcept(SYSTEM.allergyClinical, 'active', 'Active'),
  resolved: statusConcept(SYSTEM.allergyClinical, 'resolved', 'Resolved'),
};
const ALLERGY_VERIFICATION = {
  confirmed: statusConcept(SYSTEM.allergyVerification, 'confirmed', 'Confirmed'),
  unconfirmed: statusConcept(SYSTEM.allergyVerification, 'unconfirmed', 'Unconfirmed'),
};

export function allergyResource(
  context: ClinicalContext,
  definition: AllergyDefinition,
  recordedMs: number,
  recorder: Reference<Practitioner>
): AllergyIntolerance {
  const { rng } = context;
  const isAnaphylaxis = (reaction: Concept) => reaction.code === '39579001';
  // Criticality is about the potential harm of the substance; severity describes the reaction seen.
  const anaphylaxis = definition.reactions.some(isAnaphylaxis);
  const manifestation = rng.chance(0.5) ? definition.reactions : definition.reactions.slice(0, 1);
  return {
    resourceType: 'AllergyIntolerance',
    clinicalStatus: rng.chance(0.95) ? ALLERGY_CLINICAL.active : ALLERGY_CLINICAL.resolved,
    verificationStatus: rng.chance(0.8) ? ALLERGY_VERIFICATION.confirmed : ALLERGY_VERIFICATION.unconfirmed,
    type: definition.category === 'medication' && !anaphylaxis && rng.chance(0.3) ? 'intolerance' : 'allergy',
    category: [definition.category],
    criticality: anaphylaxis ? 'high' : rng.pick(['low', 'low', 'unable-to-assess'] as const),
    code: codeable(definition.code),
    patient: context.patient,
    recordedDate: formatDateTime(recordedMs, context.utcOffset),
    recorder,
    reaction: [
      {
        manifestation: manifestation.map((r) => codeable(r)),
        severity: manifestation.some(isAnaphylaxis) ? 'severe' : rng.pick(['mild', 'moderate'] as const),
      },
    ],
  };
}
