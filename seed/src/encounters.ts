/**
 * Turns one planned visit into resources: the optional fulfilled Appointment, the Encounter, an
 * acute diagnosis and prescription, vital signs and lab panels, all cross-referenced.
 */
import type {
  Appointment,
  Condition,
  Encounter,
  Organization,
  Patient,
  Practitioner,
  Reference,
} from '@medplum/fhirtypes';
import { appointmentResource, type AppointmentKind } from './care';
import { acuteConditionResource, medicationRequestResource, type ClinicalContext } from './clinical';
import { ENCOUNTER_CLASSES, ENCOUNTER_TYPES, SYSTEM, codeable, coding, type Concept } from './codes';
import type { EntryList } from './entries';
import { addLabPanel, addVitalSigns, type MeasurementContext } from './observations';
import type { PatientProfile } from './patient';
import type { Physiology } from './physiology';
import type { ChronicPlan, VisitKind, VisitPlan } from './plan';
import type { Rng } from './prng';
import type { OrganizationDefinition, PractitionerDefinition } from './providers';
import type { Interval } from './timeline';
import { DAY_MS, HOUR_MS, MINUTE_MS, formatDateTime } from './time';

export interface GenerationContext {
  readonly rng: Rng;
  readonly entries: EntryList;
  readonly profile: PatientProfile;
  readonly physiology: Physiology;
  readonly referenceMs: number;
  readonly patient: Reference<Patient>;
  readonly practitioners: ReadonlyMap<PractitionerDefinition, Reference<Practitioner>>;
  readonly organizations: ReadonlyMap<OrganizationDefinition, Reference<Organization>>;
  readonly chronicConditions: ReadonlyMap<ChronicPlan, Reference<Condition>>;
}

export function clinicalContext(context: GenerationContext): ClinicalContext {
  return {
    rng: context.rng,
    patient: context.patient,
    utcOffset: context.profile.city.utcOffset,
    referenceMs: context.referenceMs,
  };
}

function lookup<K, V>(map: ReadonlyMap<K, V>, key: K, what: string): V {
  const value = map.get(key);
  if (value === undefined) {
    throw new Error(`No bundle entry for ${what}`);
  }
  return value;
}

const ENCOUNTER_STYLE: Readonly<
  Record<VisitKind, { classCode: Concept; appointment: AppointmentKind; bookedDays: [number, number] }>
> = {
  wellness: { classCode: ENCOUNTER_CLASSES.ambulatory, appointment: 'CHECKUP', bookedDays: [14, 90] },
  followup: { classCode: ENCOUNTER_CLASSES.ambulatory, appointment: 'FOLLOWUP', bookedDays: [7, 60] },
  acute: { classCode: ENCOUNTER_CLASSES.ambulatory, appointment: 'ROUTINE', bookedDays: [0, 1] },
  emergency: { classCode: ENCOUNTER_CLASSES.emergency, appointment: 'WALKIN', bookedDays: [0, 0] },
  telehealth: { classCode: ENCOUNTER_CLASSES.virtual, appointment: 'ROUTINE', bookedDays: [1, 14] },
};

function encounterType(visit: VisitPlan, child: boolean): Concept {
  switch (visit.kind) {
    case 'wellness':
      return child ? ENCOUNTER_TYPES.wellChild : ENCOUNTER_TYPES.generalExam;
    case 'followup':
      return ENCOUNTER_TYPES.followUp;
    case 'acute':
      return ENCOUNTER_TYPES.symptom;
    case 'emergency':
      return ENCOUNTER_TYPES.emergency;
    case 'telehealth':
      return ENCOUNTER_TYPES.telephone;
  }
}

interface EncounterRefs {
  readonly practitioner: Reference<Practitioner>;
  readonly organization: Reference<Organization>;
  readonly appointment?: Reference<Appointment>;
  readonly reason?: Reference<Condition>;
  readonly diagnosis?: Reference<Condition>;
}

function encounterResource(context: GenerationContext, visit: VisitPlan, interval: Interval, refs: EncounterRefs) {
  const offset = context.profile.city.utcOffset;
  const period = { start: formatDateTime(interval.start, offset), end: formatDateTime(interval.end, offset) };
  const encounter: Encounter = {
    resourceType: 'Encounter',
    status: 'finished',
    class: coding(ENCOUNTER_STYLE[visit.kind].classCode),
    type: [codeable(encounterType(visit, context.profile.age < 18))],
    subject: context.patient,
    participant: [
      {
        type: [{ coding: [{ system: SYSTEM.participationType, code: 'PPRF', display: 'primary performer' }] }],
        period,
        individual: refs.practitioner,
      },
    ],
    ...(refs.appointment ? { appointment: [refs.appointment] } : {}),
    period,
    ...(refs.reason ? { reasonReference: [refs.reason] } : {}),
    ...(refs.diagnosis
      ? {
          diagnosis: [
            {
              condition: refs.diagnosis,
              use: { coding: [{ system: SYSTEM.diagnosisRole, code: 'billing', display: 'Billing' }] },
              rank: 1,
            },
          ],
        }
      : {}),
    serviceProvider: refs.organization,
  };
  return encounter;
}

function addAppointment(
  context: GenerationContext,
  visit: VisitPlan,
  interval: Interval,
  practitioner: Reference<Practitioner>
) {
  const style = ENCOUNTER_STYLE[visit.kind];
  return context.entries.add(
    appointmentResource(
      { patient: context.patient, utcOffset: context.profile.city.utcOffset },
      {
        kind: style.appointment,
        status: 'fulfilled',
        interval,
        // A newborn's first visits cannot have been booked before the birth.
        bookedDaysAhead: Math.min(
          context.rng.int(style.bookedDays[0], style.bookedDays[1]),
          Math.floor((interval.start - context.profile.birthMs) / DAY_MS)
        ),
        description: encounterType(visit, context.profile.age < 18).display.replace(/ \(procedure\)$/, ''),
        practitioner,
      }
    )
  );
}

/** The acute diagnosis and, if planned, its prescription; courses longer than the history stay active. */
function addAcuteCare(
  context: GenerationContext,
  visit: VisitPlan,
  interval: Interval,
  refs: { encounter: Reference<Encounter>; condition: Reference<Condition>; practitioner: Reference<Practitioner> }
): void {
  const acute = visit.acute;
  if (!acute) {
    return;
  }
  const clinical = clinicalContext(context);
  const days = context.rng.int(acute.minDays, acute.maxDays);
  const visitRefs = { start: interval.start, encounter: refs.encounter, practitioner: refs.practitioner };
  context.entries.add(acuteConditionResource(clinical, acute.condition, visitRefs, days), { ref: refs.condition });
  if (visit.medication) {
    const finished = interval.start + 14 * DAY_MS < context.referenceMs;
    context.entries.add(
      medicationRequestResource(clinical, {
        medication: visit.medication,
        status: finished ? 'completed' : 'active',
        authoredMs: interval.end - 5 * MINUTE_MS,
        requester: refs.practitioner,
        reason: refs.condition,
        encounter: refs.encounter,
      })
    );
  }
}

function addMeasurements(
  context: GenerationContext,
  visit: VisitPlan,
  interval: Interval,
  refs: { encounter: Reference<Encounter>; organization: Reference<Organization> }
): void {
  const offset = context.profile.city.utcOffset;
  const vitalsAt = interval.start + 5 * MINUTE_MS;
  const base: Omit<MeasurementContext, 'effective' | 'issued' | 'ms'> = {
    patient: context.patient,
    encounter: refs.encounter,
    performer: refs.organization,
    sex: context.profile.sex,
  };
  const febrile = visit.acute?.febrile === true && context.rng.chance(0.7);
  addVitalSigns(
    context.entries,
    context.physiology,
    visit.vitals,
    { ...base, effective: formatDateTime(vitalsAt, offset), issued: formatDateTime(vitalsAt, offset), ms: vitalsAt },
    { unwell: visit.acute !== undefined, febrile }
  );
  const drawnAt = interval.start + 20 * MINUTE_MS;
  for (const panel of visit.panels) {
    const issuedAt = drawnAt + context.rng.int(2, 30) * HOUR_MS;
    addLabPanel(context.entries, context.physiology, panel, {
      ...base,
      effective: formatDateTime(drawnAt, offset),
      issued: formatDateTime(issuedAt, offset),
      ms: drawnAt,
    });
  }
}

export function addVisit(context: GenerationContext, visit: VisitPlan, interval: Interval): void {
  const practitioner = lookup(context.practitioners, visit.practitioner, 'a practitioner');
  const organization = lookup(context.organizations, visit.organization, 'an organization');
  const appointment = visit.appointment ? addAppointment(context, visit, interval, practitioner) : undefined;
  const encounter = context.entries.reserve<Encounter>();
  const diagnosis = visit.acute ? context.entries.reserve<Condition>() : undefined;
  const reason = visit.focus ? context.chronicConditions.get(visit.focus) : diagnosis;
  context.entries.add(
    encounterResource(context, visit, interval, { practitioner, organization, appointment, reason, diagnosis }),
    { ref: encounter }
  );
  if (diagnosis) {
    addAcuteCare(context, visit, interval, { encounter, condition: diagnosis, practitioner });
  }
  addMeasurements(context, visit, interval, { encounter, organization });
}
