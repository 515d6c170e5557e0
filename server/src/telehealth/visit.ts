import type { WithId } from '@medplum/core';
import { OperationOutcomeError, notFound } from '@medplum/core';
import type { Appointment, Encounter, Parameters } from '@medplum/fhirtypes';
import { forbiddenBecause } from '../fhir/errors';
import type { SchedulingContext } from '../scheduling/caller';
import { patientOf, readableBy } from '../scheduling/caller';
import { RULES, refused } from '../scheduling/rules';
import { lockAppointment, searchAll } from '../scheduling/store';
import type { HaleRepository } from '../storage/repository';
import type { TelehealthConfig } from './config';
import { ACT_CODE_SYSTEM, VIRTUAL_CODE, isVirtual, withJoinLink } from './join-link';
import { attachOneOffRelationships, endOneOffRelationships } from './one-off';

/**
 * A visit's life (docs/scheduling.md "Visits and telehealth"): $start-visit opens its Encounter
 * (class VR for a virtual appointment, AMB otherwise) and moves the Appointment booked → arrived;
 * $finish-visit closes the Encounter and moves it arrived → fulfilled, ending the one-off
 * relationships the visit was for. Both lock the Appointment's row and decide on what they then read,
 * so of two finishes at once one finishes the Encounter and the other is refused.
 */

type VisitParty = 'patient' | 'provider' | 'system';

/** The appointment's providers: its Practitioner and PractitionerRole participants. */
const providersOf = (appointment: Appointment): Set<string> =>
  new Set(
    (appointment.participant ?? [])
      .map((p) => p.actor?.reference ?? '')
      .filter((r) => /^(Practitioner|PractitionerRole)\//.test(r))
  );

/**
 * In which capacity the caller takes part: the patient, one of the providers, or a system client.
 * Anyone else is refused — 404 when they cannot read the appointment, 403 (not-a-participant) when
 * a Consent shows it to them.
 */
async function visitParty(
  ctx: SchedulingContext,
  id: string
): Promise<{ appointment: WithId<Appointment>; party: VisitParty }> {
  const appointment = await ctx.system.readResource<Appointment>('Appointment', id);
  if (ctx.caller.system) {
    return { appointment, party: 'system' };
  }
  if (ctx.caller.patientId && ctx.caller.patientId === patientOf(appointment)) {
    return { appointment, party: 'patient' };
  }
  if ([...providersOf(appointment)].some((r) => ctx.caller.identities.has(r))) {
    return { appointment, party: 'provider' };
  }
  throw (await readableBy(ctx.repo, 'Appointment', id))
    ? refused(RULES.notParticipant, "Only the appointment's participants may do this")
    : new OperationOutcomeError(notFound);
}

async function asProvider(ctx: SchedulingContext, id: string): Promise<WithId<Appointment>> {
  const { appointment, party } = await visitParty(ctx, id);
  if (party === 'patient') {
    throw forbiddenBecause('The visit is started and finished by its provider');
  }
  return appointment;
}

/** What a participant is answered: the appointment with its join link when it is a virtual visit and links are on. */
function shown(config: TelehealthConfig | undefined, appointment: WithId<Appointment>): WithId<Appointment> {
  return isVirtual(appointment) && config?.urlTemplate ? withJoinLink(config, appointment) : appointment;
}

const JOINABLE: readonly Appointment['status'][] = ['pending', 'booked', 'arrived', 'checked-in'];

/** Appointment/{id}/$join: a participant's join link of a virtual visit that has not ended. */
export async function joinVisit(
  ctx: SchedulingContext,
  config: TelehealthConfig | undefined,
  id: string
): Promise<WithId<Appointment>> {
  const { appointment } = await visitParty(ctx, id);
  if (!JOINABLE.includes(appointment.status)) {
    throw refused(
      RULES.illegalTransition,
      `An appointment in status '${appointment.status}' has no visit to join (allowed: ${JOINABLE.join(', ')})`
    );
  }
  return withJoinLink(config, appointment);
}

const START_FROM: readonly Appointment['status'][] = ['booked', 'checked-in'];

function openEncounter(appointment: WithId<Appointment>, patientId: string, now: Date): Encounter {
  const virtual = isVirtual(appointment);
  return {
    resourceType: 'Encounter',
    status: 'in-progress',
    class: virtual
      ? { system: ACT_CODE_SYSTEM, code: VIRTUAL_CODE, display: 'virtual' }
      : { system: ACT_CODE_SYSTEM, code: 'AMB', display: 'ambulatory' },
    ...(appointment.serviceType?.[0] ? { serviceType: appointment.serviceType[0] } : {}),
    subject: { reference: `Patient/${patientId}` },
    participant: [...providersOf(appointment)].map((reference) => ({
      type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PPRF' }] }],
      individual: { reference },
    })),
    appointment: [{ reference: `Appointment/${appointment.id}` }],
    period: { start: now.toISOString() },
    ...(appointment.reasonCode ? { reasonCode: appointment.reasonCode } : {}),
  };
}

const result = (parts: { appointment: Appointment; encounter: Encounter; relationships: string[] }): Parameters => ({
  resourceType: 'Parameters',
  parameter: [
    { name: 'appointment', resource: parts.appointment },
    { name: 'encounter', resource: parts.encounter },
    ...parts.relationships.map((reference) => ({ name: 'relationship', valueReference: { reference } })),
  ],
});

/** Appointment/{id}/$start-visit: the provider opens the visit's Encounter (booked → arrived). */
export async function startVisit(
  ctx: SchedulingContext,
  config: TelehealthConfig | undefined,
  id: string
): Promise<Parameters> {
  await asProvider(ctx, id);
  return ctx.system.withTransaction(async (tx) => {
    const current = await lockAppointment(tx, id);
    if (!START_FROM.includes(current.status)) {
      throw refused(
        RULES.illegalTransition,
        `A visit cannot be started from an appointment in status '${current.status}' (allowed from: ${START_FROM.join(', ')})`
      );
    }
    const patientId = patientOf(current);
    if (!patientId) {
      throw refused(RULES.illegalTransition, 'The appointment names no patient');
    }
    const encounter = await tx.createResource<Encounter>(openEncounter(current, patientId, ctx.now));
    const arrived = await tx.updateResource<Appointment>({ ...current, status: 'arrived' });
    const relationships = await attachOneOffRelationships(tx, patientId, providersOf(current), encounter.id);
    return result({ appointment: shown(config, arrived), encounter, relationships });
  });
}

async function openEncounterOf(tx: HaleRepository, appointmentId: string): Promise<WithId<Encounter> | undefined> {
  const open = await searchAll<Encounter>(tx, `Encounter?appointment=Appointment/${appointmentId}&status=in-progress`);
  return open[0];
}

/**
 * Appointment/{id}/$finish-visit: the provider closes the visit (arrived → fulfilled, the Encounter
 * finished) and the one-off relationships that named it end now.
 */
export async function finishVisit(ctx: SchedulingContext, id: string): Promise<Parameters> {
  await asProvider(ctx, id);
  return ctx.system.withTransaction(async (tx) => {
    const current = await lockAppointment(tx, id);
    if (current.status !== 'arrived') {
      throw START_FROM.includes(current.status) || current.status === 'pending'
        ? refused(RULES.visitNotStarted, 'The visit has not been started ($start-visit)')
        : refused(
            RULES.illegalTransition,
            `A visit cannot be finished from an appointment in status '${current.status}' (allowed from: arrived)`
          );
    }
    const encounter = await openEncounterOf(tx, current.id);
    if (!encounter) {
      throw refused(RULES.visitNotStarted, 'The appointment has no visit in progress');
    }
    const end = ctx.now.toISOString();
    const finished = await tx.updateResource<Encounter>({
      ...encounter,
      status: 'finished',
      period: { ...encounter.period, end },
    });
    const fulfilled = await tx.updateResource<Appointment>({ ...current, status: 'fulfilled' });
    const relationships = await endOneOffRelationships(tx, encounter.id, ctx.now);
    return result({ appointment: fulfilled, encounter: finished, relationships });
  });
}
