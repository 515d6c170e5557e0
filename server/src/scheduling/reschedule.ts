import type { WithId } from '@medplum/core';
import { OperationOutcomeError, conflict } from '@medplum/core';
import type { Appointment, Practitioner, PractitionerRole, Reference, Schedule, Slot, Task } from '@medplum/fhirtypes';
import { forbiddenBecause } from '../fhir/errors';
import type { HaleRepository } from '../storage/repository';
import { cancelLapsedHolds, placedOn } from './appointments';
import type { Party, SchedulingContext } from './caller';
import { appointmentParty, patientOf } from './caller';
import { RULES, refused } from './rules';
import { assertBookable, busySlot, effectiveStatus, freeSlot, heldSlot, holdExpiry } from './slot-state';
import { activeAppointmentsOn, assertUnchanged, idOf, lockAppointment, lockSlots, searchAll } from './store';
import { RESCHEDULE_INPUT, RESCHEDULE_TASK_CODE, TASK_CODE_SYSTEM } from './vocabulary';
import { releaseSlot } from './waitlist';

/**
 * A reschedule is a Task (code task-code#change, focus the Appointment, input the new Slot) so the
 * request has its own requester, owner, reason and status while the Appointment keeps its time
 * until the other side approves. The new slot is held meanwhile (busy-tentative until the Task's
 * restriction.period.end), with no Appointment on it, so no one else can take it.
 */
const RESCHEDULABLE: readonly Appointment['status'][] = ['pending', 'booked'];

export function openRescheduleRequest(repo: HaleRepository, appointmentId: string): Promise<WithId<Task> | undefined> {
  return searchAll<Task>(
    repo,
    `Task?focus=Appointment/${appointmentId}&code=${TASK_CODE_SYSTEM}|${RESCHEDULE_TASK_CODE}&status=requested`
  ).then((tasks) => tasks[0]);
}

const requestedSlot = (task: Task): string => idOf(task.input?.[0]?.valueReference?.reference);

function sharesActor(a: Schedule, b: Schedule): boolean {
  const refs = new Set((a.actor ?? []).map((x) => x.reference));
  return (b.actor ?? []).some((x) => refs.has(x.reference));
}

/** Appointment/{id}/$reschedule: asks to move a pending or booked appointment to `slot`, holding it meanwhile. */
export async function requestReschedule(
  ctx: SchedulingContext,
  input: { id: string; slot: Reference; reason?: string; minutes: number }
): Promise<WithId<Task>> {
  const { appointment, schedule, party } = await appointmentParty(ctx, input.id);
  const newSlotId = idOf(input.slot.reference);
  const target = await ctx.repo.readResource<Slot>('Slot', newSlotId);
  const targetSchedule = await ctx.system.readReference<Schedule>(target.schedule);
  if (!schedule || !sharesActor(schedule, targetSchedule)) {
    throw refused(RULES.rescheduleOtherSchedule, 'The new slot must be with the same provider as the appointment');
  }
  const expires = new Date(ctx.now.getTime() + input.minutes * 60_000);
  return ctx.system.withTransaction(async (tx) => {
    const slots = await lockSlots(tx, [newSlotId]);
    const slot = slots.get(newSlotId) as WithId<Slot>;
    const current = await lockAppointment(tx, appointment.id);
    if (!RESCHEDULABLE.includes(current.status)) {
      throw refused(RULES.illegalTransition, `An appointment in status '${current.status}' cannot be rescheduled`);
    }
    if (await openRescheduleRequest(tx, current.id)) {
      throw refused(RULES.reschedulePending, 'The appointment already has a reschedule request waiting for an answer');
    }
    assertBookable(slot, targetSchedule, ctx.now);
    if (effectiveStatus(slot, ctx.now) !== 'free') {
      throw refused(RULES.slotNotFree, 'The new slot is not free: it is booked or held by someone else');
    }
    await cancelLapsedHolds(tx, slot, ctx.now);
    await tx.updateResource(heldSlot(slot, expires));
    const patient = { reference: `Patient/${patientOf(current)}` };
    // The provider side of the appointment: the person on it (a place or service cannot answer).
    const provider = current.participant.find((p) =>
      /^(Practitioner|PractitionerRole)\//.test(p.actor?.reference ?? '')
    )?.actor as Reference<Practitioner | PractitionerRole> | undefined;
    return tx.createResource<Task>({
      resourceType: 'Task',
      status: 'requested',
      intent: 'proposal',
      code: {
        coding: [{ system: TASK_CODE_SYSTEM, code: RESCHEDULE_TASK_CODE, display: 'Change the focal resource' }],
      },
      description: 'Reschedule the appointment',
      focus: { reference: `Appointment/${current.id}` },
      for: patient,
      authoredOn: ctx.now.toISOString(),
      requester:
        party === 'patient'
          ? patient
          : ctx.caller.claims.fhirUser
            ? { reference: ctx.caller.claims.fhirUser }
            : provider,
      owner: party === 'patient' ? provider : patient,
      restriction: { period: { end: expires.toISOString() } },
      ...(input.reason ? { reasonCode: { text: input.reason } } : {}),
      input: [
        {
          type: { coding: [{ system: RESCHEDULE_INPUT, code: 'slot' }] },
          valueReference: { reference: `Slot/${slot.id}` },
        },
      ],
    });
  });
}

/** The patient answers a provider's request, the provider a patient's; a system client either. */
function assertMayDecide(party: Party, task: Task): void {
  const byPatient = task.requester?.reference?.startsWith('Patient/') ?? false;
  if (party === 'system' || (byPatient ? party === 'provider' : party === 'patient')) {
    return;
  }
  throw forbiddenBecause('A reschedule request is answered by the other side of the appointment');
}

/** The requested slot is still held for this request: busy-tentative until the Task's deadline, no appointment on it. */
async function stillHeld(ctx: SchedulingContext, tx: HaleRepository, slot: WithId<Slot>, task: Task): Promise<boolean> {
  return (
    effectiveStatus(slot, ctx.now) === 'busy-tentative' &&
    holdExpiry(slot) === Date.parse(task.restriction?.period?.end ?? '') &&
    (await activeAppointmentsOn(tx, slot.id)).length === 0
  );
}

/** Frees the slot a request held (if it still holds it) and closes the request. The caller holds the slots' locks. */
export async function withdrawReschedule(
  ctx: SchedulingContext,
  tx: HaleRepository,
  task: WithId<Task>,
  slots: ReadonlyMap<string, WithId<Slot>>,
  why: string,
  status: 'rejected' | 'cancelled' = 'cancelled'
): Promise<WithId<Task>> {
  const slot = slots.get(requestedSlot(task));
  if (slot && (await stillHeld(ctx, tx, slot, task))) {
    await tx.updateResource(freeSlot(slot));
  }
  return tx.updateResource<Task>({ ...task, status, statusReason: { text: why }, lastModified: ctx.now.toISOString() });
}

/**
 * Appointment/{id}/$reschedule-decision: approving moves the appointment to the held slot (→ busy)
 * and frees the old one (offered to the waitlist); declining frees the held slot.
 */
export async function decideReschedule(
  ctx: SchedulingContext,
  input: { id: string; approve: boolean; reason?: string }
): Promise<{ appointment: WithId<Appointment>; task: WithId<Task> }> {
  const { appointment, party } = await appointmentParty(ctx, input.id);
  const request = await openRescheduleRequest(ctx.system, appointment.id);
  if (!request) {
    throw refused(RULES.noRescheduleRequest, 'The appointment has no reschedule request waiting for an answer');
  }
  assertMayDecide(party, request);
  const oldSlotIds = (appointment.slot ?? []).map((s) => idOf(s.reference));
  return ctx.system.withTransaction(async (tx) => {
    const slots = await lockSlots(tx, [...oldSlotIds, requestedSlot(request)]);
    const current = assertUnchanged(appointment, await lockAppointment(tx, appointment.id));
    const task = await tx.readResource<Task>('Task', request.id);
    if (task.status !== 'requested') {
      throw new OperationOutcomeError(conflict('The reschedule request was answered meanwhile'));
    }
    if (!input.approve) {
      const declined = await withdrawReschedule(ctx, tx, task, slots, input.reason ?? 'Declined', 'rejected');
      return { appointment: current, task: declined };
    }
    const target = slots.get(requestedSlot(task)) as WithId<Slot>;
    if (!RESCHEDULABLE.includes(current.status)) {
      throw refused(RULES.illegalTransition, `An appointment in status '${current.status}' cannot be rescheduled`);
    }
    if (!(await stillHeld(ctx, tx, target, task)) || Date.parse(target.start) <= ctx.now.getTime()) {
      throw refused(RULES.slotNotFree, 'The hold on the new slot has lapsed; ask again with a free slot');
    }
    const moved = await tx.updateResource(placedOn(current, target));
    await tx.updateResource(busySlot(target));
    for (const id of oldSlotIds) {
      const old = slots.get(id);
      if (old) {
        await releaseSlot(ctx, tx, old, `Appointment/${current.id}`);
      }
    }
    const done = await tx.updateResource<Task>({
      ...task,
      status: 'completed',
      lastModified: ctx.now.toISOString(),
      output: [
        {
          type: { coding: [{ system: RESCHEDULE_INPUT, code: 'slot' }] },
          valueReference: { reference: `Slot/${target.id}` },
        },
      ],
    });
    return { appointment: moved, task: done };
  });
}
