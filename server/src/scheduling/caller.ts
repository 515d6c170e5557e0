import { OperationOutcomeError, isNotFound, notFound } from '@medplum/core';
import type { WithId } from '@medplum/core';
import type { Appointment, PractitionerRole, Reference, Schedule } from '@medplum/fhirtypes';
import type { AccessTokenClaims } from '../auth/types';
import { forbiddenBecause } from '../fhir/errors';
import { HaleRepository } from '../storage/repository';
import { searchAll } from './store';
import { workflowPolicy } from './write-guard';

/** Who is asking, as far as scheduling cares. */
export interface SchedulingCaller {
  claims: AccessTokenClaims;
  /** A backend service with system/ scopes: it may act on any schedule and for any patient. */
  system: boolean;
  /** The patient whose token this is (fhirUser Patient/…): they book for themself. */
  patientId?: string;
  /** A provider's identities: their Practitioner and PractitionerRoles (a schedule naming any is theirs). */
  identities: ReadonlySet<string>;
}

/** Everything a scheduling workflow runs with. */
export interface SchedulingContext {
  caller: SchedulingCaller;
  /** The caller's own repository (their access policy). */
  repo: HaleRepository;
  /** A repository without access control: the workflows check who may do what themselves. */
  system: HaleRepository;
  now: Date;
}

/** The context of one scheduling request: the caller's repository and a system one. */
export async function schedulingContext(repo: HaleRepository, system: HaleRepository): Promise<SchedulingContext> {
  const claims = repo.ctx.caller;
  if (!claims) {
    throw forbiddenBecause('Scheduling acts for a signed-in user or a system client');
  }
  // The operations keep the workflow's rules, so they write under the caller's policy without the REST guard.
  const own = new HaleRepository({ ...repo.ctx, access: workflowPolicy(repo.ctx.access) });
  return { caller: await schedulingCaller(claims, system), repo: own, system, now: new Date() };
}

export async function schedulingCaller(claims: AccessTokenClaims, system: HaleRepository): Promise<SchedulingCaller> {
  const isSystem = claims.scope.split(' ').some((s) => s.startsWith('system/'));
  const [type, id] = (claims.fhirUser ?? '').split('/');
  const identities = new Set<string>();
  if (id && type === 'Practitioner') {
    identities.add(`Practitioner/${id}`);
    for (const role of await searchAll<PractitionerRole>(system, `PractitionerRole?practitioner=Practitioner/${id}`)) {
      if (role.active !== false) {
        identities.add(`PractitionerRole/${role.id}`);
      }
    }
  } else if (id && type === 'PractitionerRole') {
    identities.add(`PractitionerRole/${id}`);
    const role = await system.readResource<PractitionerRole>('PractitionerRole', id).catch(() => undefined);
    if (role?.practitioner?.reference) {
      identities.add(role.practitioner.reference);
    }
  }
  return { claims, system: isSystem, patientId: type === 'Patient' ? id : undefined, identities };
}

/** True when the caller manages this schedule: a system client, or a provider the schedule names. */
export function managesSchedule(caller: SchedulingCaller, schedule: Schedule): boolean {
  return caller.system || (schedule.actor ?? []).some((a) => a.reference && caller.identities.has(a.reference));
}

export function assertManages(caller: SchedulingCaller, schedule: Schedule): void {
  if (!managesSchedule(caller, schedule)) {
    throw forbiddenBecause('Only the provider the schedule belongs to (or a system client) may do this');
  }
}

/**
 * The patient a booking is for. A patient books for themself (a `patient` naming someone else is
 * refused); the provider of the schedule and system clients name the patient, and the Appointment
 * is then written under the caller's own access policy (a provider needs the patient's Consent).
 */
export function bookingPatient(
  caller: SchedulingCaller,
  schedule: Schedule | undefined,
  given: Reference | undefined
): string {
  const named = given?.reference;
  if (named !== undefined && !/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(named)) {
    throw forbiddenBecause("'patient' must be a Patient reference (Patient/<id>)");
  }
  const namedId = named?.slice('Patient/'.length);
  if (caller.patientId) {
    if (namedId !== undefined && namedId !== caller.patientId) {
      throw forbiddenBecause('A patient books only for themself');
    }
    return caller.patientId;
  }
  if (!schedule) {
    throw new Error('bookingPatient needs the schedule for a caller who is not the patient');
  }
  assertManages(caller, schedule);
  if (!namedId) {
    throw forbiddenBecause("A provider or system client names the patient ('patient')");
  }
  return namedId;
}

/** The patient an appointment is for (its Patient participant). */
export function patientOf(appointment: Appointment): string | undefined {
  const ref = appointment.participant?.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor?.reference;
  return ref?.slice('Patient/'.length);
}

/** The schedule an appointment was made on (Appointment.supportingInformation, set by every workflow). */
export function scheduleRefOf(appointment: Appointment): string | undefined {
  return appointment.supportingInformation?.find((r) => r.reference?.startsWith('Schedule/'))?.reference;
}

export type Party = 'patient' | 'provider' | 'system';

/** Whether the caller's own access lets them read the resource: a bystander's refusal is then 403, else 404. */
export function readableBy(repo: HaleRepository, type: 'Appointment' | 'Task', id: string): Promise<boolean> {
  return repo.readResource(type, id).then(
    () => true,
    (err: unknown) => {
      if (err instanceof OperationOutcomeError && isNotFound(err.outcome)) {
        return false;
      }
      throw err;
    }
  );
}

/**
 * Loads an appointment for a workflow step and says in which capacity the caller acts on it: its
 * patient, the provider of its schedule, or a system client. Anyone else gets 404 when they
 * cannot read it (its existence is the patient's business) and 403 when a Consent shows it to them.
 */
export async function appointmentParty(
  ctx: SchedulingContext,
  id: string
): Promise<{ appointment: WithId<Appointment>; schedule: WithId<Schedule> | undefined; party: Party }> {
  const appointment = await ctx.system.readResource<Appointment>('Appointment', id);
  const scheduleRef = scheduleRefOf(appointment);
  const schedule = scheduleRef ? await ctx.system.readReference<Schedule>({ reference: scheduleRef }) : undefined;
  if (ctx.caller.system) {
    return { appointment, schedule, party: 'system' };
  }
  if (ctx.caller.patientId && ctx.caller.patientId === patientOf(appointment)) {
    return { appointment, schedule, party: 'patient' };
  }
  if (schedule && managesSchedule(ctx.caller, schedule)) {
    return { appointment, schedule, party: 'provider' };
  }
  throw (await readableBy(ctx.repo, 'Appointment', id))
    ? forbiddenBecause("Only the appointment's patient or the provider of its schedule may do this")
    : new OperationOutcomeError(notFound);
}
