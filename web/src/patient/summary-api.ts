import type {
  Appointment,
  Bundle,
  CarePlan,
  CodeableConcept,
  Flag,
  Goal,
  Observation,
  Parameters,
  ParametersParameter,
  Quantity,
} from '@medplum/fhirtypes';
import { medplum } from '../session';
import { newestFirst } from './vitals-api';

/** How one goal target stands: what it measures, the latest reading of that, and whether it meets the target. */
export interface GoalProgress {
  measure?: CodeableConcept;
  value?: Quantity;
  achieved?: boolean;
}

export interface DashboardSummary {
  vitals: Observation[];
  goals: { goal: Goal; progress: GoalProgress[] }[];
  carePlans: { plan: CarePlan; phase?: string }[];
  alerts: Flag[];
  appointments: Appointment[];
  unreadMessages: number;
  /** Sharing categories withheld from the caller (none for the patient themself). */
  withheld: string[];
}

const part = (p: ParametersParameter, name: string): ParametersParameter | undefined =>
  p.part?.find((x) => x.name === name);

/**
 * The whole dashboard in one request: Patient/{id}/$summary (docs/wellness.md) answers the latest vitals, goals
 * with progress, care plans with their phase, active alerts, the next appointments and the unread count.
 */
export async function dashboardSummary(patientId: string): Promise<DashboardSummary> {
  const answer = await medplum.get<Parameters>(medplum.fhirUrl('Patient', patientId, '$summary'));
  const params = answer.parameter ?? [];
  const named = (name: string): ParametersParameter[] => params.filter((p) => p.name === name);
  const vitals = newestFirst(named('vitals')[0]?.resource as Bundle<Observation> | undefined);
  return {
    vitals,
    goals: named('goal').flatMap((p) => {
      const goal = part(p, 'goal')?.resource as Goal | undefined;
      const progress = (p.part ?? [])
        .filter((x) => x.name === 'progress')
        .map((x) => ({
          measure: part(x, 'measure')?.valueCodeableConcept,
          value: part(x, 'value')?.valueQuantity,
          achieved: part(x, 'achieved')?.valueBoolean,
        }));
      return goal ? [{ goal, progress }] : [];
    }),
    carePlans: named('carePlan').flatMap((p) => {
      const plan = part(p, 'carePlan')?.resource as CarePlan | undefined;
      return plan ? [{ plan, phase: part(p, 'phase')?.valueString }] : [];
    }),
    alerts: named('alert').flatMap((p) => (p.resource ? [p.resource as Flag] : [])),
    appointments: named('appointment').flatMap((p) => (p.resource ? [p.resource as Appointment] : [])),
    unreadMessages: named('unreadMessages')[0]?.valueInteger ?? 0,
    withheld: named('withheld').flatMap((p) => (p.valueCoding?.code ? [p.valueCoding.code] : [])),
  };
}
