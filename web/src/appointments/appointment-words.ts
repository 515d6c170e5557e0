import type { Appointment } from '@medplum/fhirtypes';
import { conceptText } from '../ui/format';

/** An appointment's status in words, for patients and providers alike. */
export const STATUS_WORDS: Partial<Record<Appointment['status'], string>> = {
  proposed: 'Requested',
  pending: 'Waiting for confirmation',
  booked: 'Booked',
  arrived: 'Arrived',
  'checked-in': 'Checked in',
  fulfilled: 'Done',
  cancelled: 'Cancelled',
  noshow: 'Missed',
  waitlist: 'On the waiting list',
};

export function statusWords(appt: Appointment): string {
  return STATUS_WORDS[appt.status] ?? appt.status;
}

/** What the visit is: its description, else its service type. */
export function visitWhat(appt: Appointment): string {
  return appt.description ?? (appt.serviceType?.[0] ? conceptText(appt.serviceType[0], 'Appointment') : 'Appointment');
}

/** The participants other than `me` (a reference), by the names given (else the appointment's own displays). */
export function otherParticipants(appt: Appointment, me: string, names?: Map<string, string>): string {
  return (appt.participant ?? [])
    .map((p) => p.actor)
    .filter((a) => a && a.reference !== me)
    .map((a) => (a?.reference ? names?.get(a.reference) : undefined) ?? a?.display ?? '')
    .filter(Boolean)
    .join(', ');
}
