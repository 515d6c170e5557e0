import type { WithId } from '@medplum/core';
import { formatHumanName } from '@medplum/core';
import type { Appointment, Bundle, Patient } from '@medplum/fhirtypes';
import { forbiddenBecause } from '../fhir/errors';
import type { SchedulingContext } from './caller';
import { checkWindow } from './find-slots';
import { idOf, searchAll } from './store';

/** What a provider's day or week lists: bookings and how they ended, not holds or waitlist entries. */
export const AGENDA_STATUSES = ['pending', 'booked', 'arrived', 'checked-in', 'fulfilled', 'noshow', 'cancelled'];

/**
 * Appointment/$agenda: the appointments a provider takes part in (as their Practitioner or any of their active
 * PractitionerRoles — the schedule's actors, which every booking names) starting in [start, end), in start order.
 * The provider needs to know who is coming even without a Consent to the patient's record, as the workflow
 * operations answer them with the Appointment they act on; so the list is read by the system repository and each
 * patient participant carries the patient's name as its display — the name only, nothing else of the record.
 */
export async function agenda(
  ctx: SchedulingContext,
  input: { start: string; end: string }
): Promise<Bundle<WithId<Appointment>>> {
  if (ctx.caller.identities.size === 0) {
    throw forbiddenBecause('The agenda lists a provider’s own appointments (a Practitioner or PractitionerRole user)');
  }
  const { from, to } = checkWindow(input.start, input.end);
  const w = { start: new Date(from).toISOString(), end: new Date(to).toISOString() };
  const appointments = await searchAll<Appointment>(
    ctx.system,
    `Appointment?actor=${[...ctx.caller.identities].join(',')}&date=ge${w.start}&date=lt${w.end}` +
      `&status=${AGENDA_STATUSES.join(',')}&_sort=date`
  );
  const patientIds = new Set(
    appointments
      .flatMap((a) => (a.participant ?? []).map((p) => p.actor?.reference ?? ''))
      .filter((r) => r.startsWith('Patient/'))
      .map(idOf)
  );
  const names = new Map<string, string>();
  if (patientIds.size > 0) {
    for (const p of await searchAll<Patient>(ctx.system, `Patient?_id=${[...patientIds].join(',')}`)) {
      names.set(`Patient/${p.id}`, formatHumanName(p.name?.[0]) || 'A patient');
    }
  }
  const named = appointments.map((a) => ({
    ...a,
    participant: (a.participant ?? []).map((p) => {
      const name = p.actor?.reference ? names.get(p.actor.reference) : undefined;
      return name && p.actor ? { ...p, actor: { ...p.actor, display: name } } : p;
    }),
  }));
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: named.length,
    entry: named.map((resource) => ({ resource, search: { mode: 'match' } })),
  };
}
