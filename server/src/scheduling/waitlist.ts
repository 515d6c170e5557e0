import type { WithId } from '@medplum/core';
import type { Appointment, Communication, Period, Reference, Schedule, Slot } from '@medplum/fhirtypes';
import type { HaleRepository } from '../storage/repository';
import { asCaller, placedOn } from './appointments';
import type { SchedulingContext } from './caller';
import { bookingPatient, patientOf } from './caller';
import { RULES, refused } from './rules';
import { assertBookable, freeSlot, heldSlot, isBlocked } from './slot-state';
import { activeAppointmentsOn, lockKey, searchAll } from './store';
import { COMMUNICATION_CATEGORY, NOTIFICATION_CATEGORY_SYSTEM, SLOT_OFFERED } from './vocabulary';

/** How long a freed slot stays held for the waiting patient it is offered to. */
export const OFFER_HOLD_MINUTES = 60;

/**
 * The waitlist is Appointments in status `waitlist` (FHIR's own status for "to be scheduled when a
 * slot is available"), with the Schedule in supportingInformation and the wanted times in
 * requestedPeriod. Being Appointments they are in the patient's compartment and follow Consent
 * like any booking, and an offer simply moves the same resource on: waitlist → proposed (a hold)
 * → pending ($book). Order is first come, first served by Appointment.created.
 */
const waitlistKey = (scheduleId: string): string => `waitlist:Schedule/${scheduleId}`;

const waiting = (tx: HaleRepository, scheduleId: string, patientId?: string): Promise<WithId<Appointment>[]> =>
  searchAll<Appointment>(
    tx,
    `Appointment?status=waitlist&supporting-info=Schedule/${scheduleId}` +
      (patientId ? `&patient=Patient/${patientId}` : '')
  );

/** Schedule/{id}/$waitlist: the patient joins the schedule's waitlist for `period` (any time when absent). */
export async function joinWaitlist(
  ctx: SchedulingContext,
  input: { scheduleId: string; patient?: Reference; period?: Period; reason?: string }
): Promise<WithId<Appointment>> {
  const schedule = await ctx.repo.readResource<Schedule>('Schedule', input.scheduleId);
  const patientId = bookingPatient(ctx.caller, schedule, input.patient);
  if (schedule.active === false) {
    throw refused(RULES.scheduleClosed, 'The schedule is closed: it takes no waitlist entries');
  }
  return ctx.system.withTransaction(async (tx) => {
    await lockKey(tx, waitlistKey(schedule.id));
    if ((await waiting(tx, schedule.id, patientId)).length > 0) {
      throw refused(RULES.alreadyWaiting, 'The patient is already on the waitlist of this schedule');
    }
    const entry: Appointment = {
      resourceType: 'Appointment',
      status: 'waitlist',
      created: ctx.now.toISOString(),
      serviceType: schedule.serviceType,
      specialty: schedule.specialty,
      ...(input.period ? { requestedPeriod: [input.period] } : {}),
      ...(input.reason ? { reasonCode: [{ text: input.reason }] } : {}),
      supportingInformation: [{ reference: `Schedule/${schedule.id}` }],
      participant: [
        { actor: { reference: `Patient/${patientId}` }, required: 'required', status: 'accepted' },
        ...(schedule.actor ?? []).map((actor) => ({
          actor,
          required: 'required' as const,
          status: 'needs-action' as const,
        })),
      ],
    };
    return asCaller(ctx, tx, (callerTx) => callerTx.createResource(entry));
  });
}

/** The end of a Period bound as an instant (a bare date is the whole of that day, in UTC). */
function bound(value: string | undefined, end: boolean): number | undefined {
  if (!value) {
    return undefined;
  }
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  return end && value.length === 10 ? ms + 86_400_000 : ms;
}

function wants(entry: Appointment, slot: Slot): boolean {
  const periods = entry.requestedPeriod ?? [];
  const start = Date.parse(slot.start);
  const end = Date.parse(slot.end);
  return (
    periods.length === 0 ||
    periods.some((p) => (bound(p.start, false) ?? -Infinity) <= start && end <= (bound(p.end, true) ?? Infinity))
  );
}

/**
 * A slot freed by a cancellation or a reschedule goes to the first waiting patient who wants its
 * time: held for them for OFFER_HOLD_MINUTES (their waitlist Appointment becomes the proposed
 * appointment of the hold) and told by a notification Communication (status preparation) that the
 * notifications bot sends. With no one waiting the slot is simply free. The caller holds the slot's lock.
 */
export async function releaseSlot(
  ctx: SchedulingContext,
  tx: HaleRepository,
  slot: WithId<Slot>,
  releasedBy: string
): Promise<void> {
  const others = (await activeAppointmentsOn(tx, slot.id)).filter((a) => `Appointment/${a.id}` !== releasedBy);
  if (others.length > 0) {
    return; // the hold that is being released had lapsed and someone else has the slot now
  }
  const schedule = await tx.readReference<Schedule>(slot.schedule);
  let bookable = true;
  try {
    assertBookable(slot, schedule, ctx.now);
  } catch {
    bookable = false; // a past slot or a closed schedule: free, offered to no one
  }
  if (!bookable || isBlocked(slot)) {
    await tx.updateResource(freeSlot(slot));
    return;
  }
  await lockKey(tx, waitlistKey(schedule.id));
  const first = (await waiting(tx, schedule.id))
    .filter((e) => wants(e, slot))
    .sort((a, b) => (a.created ?? '').localeCompare(b.created ?? '') || a.id.localeCompare(b.id))[0];
  if (!first) {
    await tx.updateResource(freeSlot(slot));
    return;
  }
  const expires = new Date(ctx.now.getTime() + OFFER_HOLD_MINUTES * 60_000);
  const offered = await tx.updateResource(placedOn(first, slot, 'proposed'));
  await tx.updateResource(heldSlot(slot, expires));
  await tx.createResource(offerNotice(offered));
}

function offerNotice(offered: WithId<Appointment>): Communication {
  const patient = { reference: `Patient/${patientOf(offered)}` };
  return {
    resourceType: 'Communication',
    status: 'preparation',
    category: [
      { coding: [{ system: COMMUNICATION_CATEGORY, code: 'notification' }] },
      { coding: [{ system: NOTIFICATION_CATEGORY_SYSTEM, code: SLOT_OFFERED }] },
    ],
    priority: 'routine',
    recipient: [patient],
    subject: patient,
    about: [{ reference: `Appointment/${offered.id}` }],
    // PHI-free, like every notification: the time and the provider are shown only after sign-in.
    payload: [
      {
        contentString: `A time you were waiting for has become free and is held for you for ${OFFER_HOLD_MINUTES} minutes. Sign in to book it.`,
      },
    ],
  };
}
