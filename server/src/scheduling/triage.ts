import type { WithId } from '@medplum/core';
import { OperationOutcomeError, notFound } from '@medplum/core';
import type { Appointment, Bundle, Schedule, Slot, Task } from '@medplum/fhirtypes';
import { forbiddenBecause } from '../fhir/errors';
import type { HaleRepository } from '../storage/repository';
import { cancelLapsedHolds, newAppointment } from './appointments';
import type { Party, SchedulingContext } from './caller';
import { managesSchedule, readableBy } from './caller';
import { assertListed } from './marketplace';
import { notification } from './notice';
import { RULES, refused } from './rules';
import { assertBookable, busySlot, effectiveStatus } from './slot-state';
import { lockKey, lockSlot, lockTask, searchAll } from './store';
import { HALE_TASK_CODE_SYSTEM, VISIT_REQUEST_ANSWERED, VISIT_REQUEST_CODE, VISIT_REQUESTED } from './vocabulary';
import { openRequestsQuery, partType, rankOf, severityOf } from './visit-request';
import { isVisitRequest } from './write-guard';

/**
 * Triage of visit requests (docs/scheduling.md "Visit requests"): the provider a request is
 * addressed to accepts it by booking one of their slots for the patient, declines it with a reason,
 * or redirects it to another listed provider; the patient may withdraw it while it waits. Every
 * step locks the Task's row (after the slot's, in the workflows' lock order) and decides on what it
 * then reads, so of concurrent answers to one request exactly one takes effect and the others get
 * 409 visit-request-closed.
 */
export type TriageDecision =
  | { decision: 'accept'; slotId: string }
  | { decision: 'decline'; reason: string }
  | { decision: 'redirect'; to: string; reason: string };

const closed = (): Error =>
  refused(RULES.visitRequestClosed, 'The visit request was already answered, withdrawn or redirected');

/**
 * The request and the caller's part in it: its patient, the provider it is addressed to, or a
 * system client. Anyone else gets 404 (a request's existence is the patient's business), or 403
 * when a Consent shows them the Task.
 */
async function requestParty(ctx: SchedulingContext, id: string): Promise<{ task: WithId<Task>; party: Party }> {
  const task = await ctx.system.readResource<Task>('Task', id);
  if (!isVisitRequest(task)) {
    throw new OperationOutcomeError(notFound);
  }
  if (ctx.caller.system) {
    return { task, party: 'system' };
  }
  if (ctx.caller.patientId && task.for?.reference === `Patient/${ctx.caller.patientId}`) {
    return { task, party: 'patient' };
  }
  if (ctx.caller.identities.has(task.owner?.reference ?? '')) {
    return { task, party: 'provider' };
  }
  throw (await readableBy(ctx.repo, 'Task', id))
    ? forbiddenBecause('Only the patient and the provider a visit request is addressed to may act on it')
    : new OperationOutcomeError(notFound);
}

/** The locked request, refused unless it still waits with the provider it was read with. */
async function lockOpen(tx: HaleRepository, read: WithId<Task>): Promise<WithId<Task>> {
  const task = await lockTask(tx, read.id);
  if (task.status !== 'requested' || task.owner?.reference !== read.owner?.reference) {
    throw closed();
  }
  return task;
}

function tellPatient(tx: HaleRepository, task: WithId<Task>, text: string): Promise<unknown> {
  const patient = task.for?.reference ?? '';
  return tx.createResource(
    notification({ category: VISIT_REQUEST_ANSWERED, recipient: patient, patient, about: `Task/${task.id}`, text })
  );
}

const closedTask = (task: WithId<Task>, now: Date, changes: Partial<Task>): WithId<Task> => ({
  ...task,
  ...changes,
  lastModified: now.toISOString(),
});

/** Accepting books one of the provider's slots for the patient (booked: the provider has accepted). */
async function accept(
  ctx: SchedulingContext,
  read: WithId<Task>,
  slotId: string
): Promise<{ task: WithId<Task>; appointment: WithId<Appointment> }> {
  const slot = await ctx.system.readResource<Slot>('Slot', slotId);
  const schedule = await ctx.system.readReference<Schedule>(slot.schedule);
  if (!managesSchedule(ctx.caller, schedule)) {
    throw forbiddenBecause('Accepting a visit request books a slot on one of your own schedules');
  }
  const patientId = (read.for?.reference ?? '').slice('Patient/'.length);
  return ctx.system.withTransaction(async (tx) => {
    const locked = await lockSlot(tx, slot.id);
    const task = await lockOpen(tx, read);
    assertBookable(locked, schedule, ctx.now);
    if (effectiveStatus(locked, ctx.now) !== 'free') {
      throw refused(RULES.slotNotFree, 'The slot is not free: it is booked or held by someone else');
    }
    await cancelLapsedHolds(tx, locked, ctx.now);
    const pending = newAppointment({
      slot: locked,
      schedule,
      patientId,
      status: 'pending',
      reason: task.reasonCode?.text,
      now: ctx.now,
    });
    const appointment = await tx.createResource<Appointment>({
      ...pending,
      status: 'booked',
      participant: pending.participant.map((p) => ({ ...p, status: 'accepted' })),
    });
    await tx.updateResource(busySlot(locked));
    const done = await tx.updateResource(
      closedTask(task, ctx.now, {
        status: 'completed',
        businessStatus: { text: 'accepted' },
        output: [{ type: partType('appointment'), valueReference: { reference: `Appointment/${appointment.id}` } }],
      })
    );
    await tellPatient(tx, done, 'Your visit request was accepted and a visit is booked. Sign in to see it.');
    return { task: done, appointment };
  });
}

async function decline(ctx: SchedulingContext, read: WithId<Task>, reason: string): Promise<WithId<Task>> {
  return ctx.system.withTransaction(async (tx) => {
    const task = await lockOpen(tx, read);
    const done = await tx.updateResource(
      closedTask(task, ctx.now, {
        status: 'rejected',
        businessStatus: { text: 'declined' },
        statusReason: { text: reason },
      })
    );
    await tellPatient(tx, done, 'Your visit request has an answer. Sign in to see it.');
    return done;
  });
}

/** Redirecting hands the request, as it is, to another listed provider, who is then the one to answer it. */
async function redirect(ctx: SchedulingContext, read: WithId<Task>, to: string, reason: string): Promise<WithId<Task>> {
  if (to === read.owner?.reference) {
    throw refused(RULES.redirectToSelf, 'The request is already with that provider');
  }
  const patient = read.for?.reference ?? '';
  await assertListed(ctx.system, to, patient.slice('Patient/'.length));
  return ctx.system.withTransaction(async (tx) => {
    const task = await lockOpen(tx, read);
    await lockKey(tx, `visit-request:${patient}|${to}`);
    if ((await searchAll<Task>(tx, openRequestsQuery(patient, to))).length > 0) {
      throw refused(RULES.visitRequestOpen, 'The patient already has a visit request waiting for that provider');
    }
    const by = ctx.caller.claims.fhirUser ?? task.owner?.reference;
    const moved = await tx.updateResource(
      closedTask(task, ctx.now, {
        owner: { reference: to },
        businessStatus: { text: 'redirected' },
        note: [
          ...(task.note ?? []),
          { ...(by ? { authorReference: { reference: by } } : {}), time: ctx.now.toISOString(), text: reason },
        ],
      })
    );
    await tx.createResource(
      notification({
        category: VISIT_REQUESTED,
        recipient: to,
        patient,
        about: `Task/${task.id}`,
        text: 'You have a new visit request. Sign in to review it.',
      })
    );
    await tellPatient(tx, moved, 'Your visit request was passed to another provider. Sign in to see it.');
    return moved;
  });
}

/** Task/{id}/$triage: the provider's answer (a system client may answer for them). */
export async function triageRequest(
  ctx: SchedulingContext,
  id: string,
  input: TriageDecision
): Promise<{ task: WithId<Task>; appointment?: WithId<Appointment> }> {
  const { task, party } = await requestParty(ctx, id);
  if (party === 'patient') {
    throw forbiddenBecause('A visit request is answered by the provider it is addressed to');
  }
  switch (input.decision) {
    case 'accept':
      return accept(ctx, task, input.slotId);
    case 'decline':
      return { task: await decline(ctx, task, input.reason) };
    case 'redirect':
      return { task: await redirect(ctx, task, input.to, input.reason) };
  }
}

/** Task/{id}/$withdraw: the patient takes back a request that still waits. */
export async function withdrawRequest(ctx: SchedulingContext, id: string, reason?: string): Promise<WithId<Task>> {
  const { task: read, party } = await requestParty(ctx, id);
  if (party === 'provider') {
    throw forbiddenBecause('Only the patient withdraws a visit request; the provider declines it');
  }
  return ctx.system.withTransaction(async (tx) => {
    const task = await lockOpen(tx, read);
    return tx.updateResource(
      closedTask(task, ctx.now, {
        status: 'cancelled',
        businessStatus: { text: 'withdrawn' },
        statusReason: { text: reason ?? 'Withdrawn by the patient' },
      })
    );
  });
}

/**
 * Task/$visit-requests: a provider's requests addressed to them (their Practitioner or any of
 * their active roles), a patient's own; waiting ones only unless `all`. Most severe first, then
 * oldest first: a triage queue.
 */
export async function visitRequests(ctx: SchedulingContext, all: boolean): Promise<Bundle<WithId<Task>>> {
  const status = all ? '' : '&status=requested';
  const base = `Task?code=${HALE_TASK_CODE_SYSTEM}|${VISIT_REQUEST_CODE}${status}&_sort=authored-on`;
  let query: string;
  if (ctx.caller.patientId) {
    query = `${base}&patient=Patient/${ctx.caller.patientId}`;
  } else if (ctx.caller.identities.size > 0) {
    query = `${base}&owner=${[...ctx.caller.identities].join(',')}`;
  } else if (ctx.caller.system) {
    query = base;
  } else {
    throw forbiddenBecause('Visit requests are listed for a patient or a provider');
  }
  const tasks = (await searchAll<Task>(ctx.system, query)).sort(
    (a, b) => rankOf(severityOf(b)) - rankOf(severityOf(a))
  );
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: tasks.length,
    entry: tasks.map((resource) => ({ resource, search: { mode: 'match' } })),
  };
}
