/**
 * Care coordination resources: CarePlans with their Goals for chronic conditions, and
 * Appointments (fulfilled ones behind past visits, booked ones in the future).
 */
import type { Appointment, CarePlan, Condition, Goal, Patient, Practitioner, Reference } from '@medplum/fhirtypes';
import { CARE_PLAN_CATEGORY, SYSTEM, codeable, type ChronicDefinition } from './codes';
import type { Interval } from './timeline';
import { DAY_MS, MINUTE_MS, formatDateTime, formatLocalDate } from './time';

export interface CareContext {
  readonly patient: Reference<Patient>;
  readonly utcOffset: number;
}

export function goalResource(
  context: CareContext,
  definition: ChronicDefinition,
  startMs: number,
  dueMs: number,
  condition: Reference<Condition>
): Goal {
  const target = definition.goal;
  return {
    resourceType: 'Goal',
    lifecycleStatus: 'active',
    achievementStatus: {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/goal-achievement',
          code: 'in-progress',
          display: 'In Progress',
        },
      ],
    },
    description: { text: target.description },
    subject: context.patient,
    startDate: formatLocalDate(startMs, context.utcOffset),
    target: [
      {
        measure: codeable(target.measure),
        detailQuantity: {
          value: target.value,
          comparator: target.comparator,
          unit: target.unit,
          system: SYSTEM.ucum,
          code: target.ucum,
        },
        dueDate: formatLocalDate(dueMs, context.utcOffset),
      },
    ],
    addresses: [condition],
  };
}

export function carePlanResource(
  context: CareContext,
  definition: ChronicDefinition,
  startMs: number,
  refs: { condition: Reference<Condition>; goal: Reference<Goal>; author: Reference<Practitioner> }
): CarePlan {
  const specific = definition.carePlan.code === CARE_PLAN_CATEGORY.code ? [] : [codeable(definition.carePlan)];
  return {
    resourceType: 'CarePlan',
    status: 'active',
    intent: 'plan',
    category: [codeable(CARE_PLAN_CATEGORY), ...specific],
    title: `${definition.condition.display.replace(/ \((disorder|finding)\)$/, '')} care plan`,
    subject: context.patient,
    period: { start: formatDateTime(startMs, context.utcOffset) },
    author: refs.author,
    addresses: [refs.condition],
    goal: [refs.goal],
    activity: definition.activities.map((activity) => ({
      detail: { code: codeable(activity), status: 'in-progress', description: activity.display },
    })),
  };
}

export type AppointmentKind = 'CHECKUP' | 'FOLLOWUP' | 'ROUTINE' | 'WALKIN';

const APPOINTMENT_TYPES: Readonly<Record<AppointmentKind, string>> = {
  CHECKUP: 'A routine check-up, such as an annual physical',
  FOLLOWUP: 'A follow up visit from a previous appointment',
  ROUTINE: 'Routine appointment - default if not valued',
  WALKIN: 'A previously unscheduled walk-in visit',
};

export interface AppointmentInput {
  readonly kind: AppointmentKind;
  readonly status: 'booked' | 'fulfilled';
  readonly interval: Interval;
  /** How many days ahead of the visit it was booked. */
  readonly bookedDaysAhead: number;
  readonly description: string;
  readonly practitioner: Reference<Practitioner>;
}

export function appointmentResource(context: CareContext, input: AppointmentInput): Appointment {
  const { start, end } = input.interval;
  return {
    resourceType: 'Appointment',
    status: input.status,
    appointmentType: {
      coding: [{ system: SYSTEM.appointmentType, code: input.kind, display: APPOINTMENT_TYPES[input.kind] }],
    },
    description: input.description,
    start: formatDateTime(start, context.utcOffset),
    end: formatDateTime(end, context.utcOffset),
    minutesDuration: Math.round((end - start) / MINUTE_MS),
    created: formatDateTime(start - input.bookedDaysAhead * DAY_MS, context.utcOffset),
    participant: [
      { actor: context.patient, required: 'required', status: 'accepted' },
      { actor: input.practitioner, required: 'required', status: 'accepted' },
    ],
  };
}
