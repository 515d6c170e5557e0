import type { Appointment, Bundle, Parameters, Slot, Task } from '@medplum/fhirtypes';
import { medplum } from '../session';
import { namesOf } from '../ui/names';
import { otherParticipants } from './appointment-words';

/*
 * Appointments through Hale's scheduling operations (docs/scheduling.md). The portal lists and shows; every step
 * ($cancel, $reschedule, $confirm, the slots $find-slots offers) is the server's, with its rules and refusals.
 */

const RESCHEDULE = 'http://hl7.org/fhir/CodeSystem/task-code|change';
/** Holds and waiting-list places are not visits yet; the patient's screens for those are elsewhere. */
const NOT_VISITS = new Set(['proposed', 'waitlist', 'entered-in-error']);
const COMING = new Set(['pending', 'booked', 'arrived', 'checked-in']);

export interface PatientVisit {
  appointment: Appointment;
  /** Who it is with, by name. */
  with: string;
  /** The Schedule it was booked on (where another time is looked for). */
  scheduleId?: string;
  /** A reschedule request waiting for an answer: the time asked for. */
  requested?: string;
}

export interface PatientVisits {
  upcoming: PatientVisit[];
  past: PatientVisit[];
}

const idOf = (reference: string | undefined): string => (reference ?? '').split('/')[1] ?? '';

/** The patient's appointments, upcoming soonest first and past newest first, with pending reschedule requests. */
export async function myVisits(patientId: string, now = Date.now()): Promise<PatientVisits> {
  const [appointments, requests] = await Promise.all([
    medplum.searchResources('Appointment', { patient: `Patient/${patientId}`, _sort: '-date', _count: '200' }),
    medplum.searchResources('Task', { patient: `Patient/${patientId}`, code: RESCHEDULE, status: 'requested' }),
  ]);
  const slotIds = requests.map((t) => idOf(t.input?.[0]?.valueReference?.reference)).filter(Boolean);
  const [names, slots] = await Promise.all([
    namesOf(
      appointments
        .flatMap((a) => (a.participant ?? []).map((p) => p.actor?.reference ?? ''))
        .filter((r) => !r.startsWith('Patient/'))
    ),
    slotIds.length ? medplum.searchResources('Slot', { _id: slotIds.join(',') }) : Promise.resolve([] as Slot[]),
  ]);
  const requestedStart = new Map<string, string | undefined>();
  for (const task of requests as Task[]) {
    const slot = slots.find((s) => s.id === idOf(task.input?.[0]?.valueReference?.reference));
    requestedStart.set(task.focus?.reference ?? '', slot?.start);
  }
  const visits = appointments
    .filter((a) => !NOT_VISITS.has(a.status))
    .map((appointment) => ({
      appointment,
      with: otherParticipants(appointment, `Patient/${patientId}`, names),
      scheduleId: idOf(appointment.supportingInformation?.find((r) => r.reference?.startsWith('Schedule/'))?.reference),
      requested: requestedStart.get(`Appointment/${appointment.id}`),
    }));
  const coming = (v: PatientVisit): boolean =>
    COMING.has(v.appointment.status) && Date.parse(v.appointment.end ?? v.appointment.start ?? '') > now;
  return { upcoming: visits.filter(coming).reverse(), past: visits.filter((v) => !coming(v)) };
}

/** The times the visit's schedule offers in the next two weeks (Schedule/$find-slots). */
export async function otherTimes(scheduleId: string, now = new Date()): Promise<Slot[]> {
  const end = new Date(now.getTime() + 14 * 86_400_000);
  const url = medplum.fhirUrl('Schedule', scheduleId, '$find-slots');
  url.search = new URLSearchParams({ start: now.toISOString(), end: end.toISOString() }).toString();
  const bundle = await medplum.get<Bundle<Slot>>(url);
  return (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
}

function params(parameter: Parameters['parameter']): Parameters {
  return { resourceType: 'Parameters', parameter };
}

export async function cancelVisit(appointmentId: string, reason: string): Promise<void> {
  await medplum.post(
    medplum.fhirUrl('Appointment', appointmentId, '$cancel'),
    params([{ name: 'reason', valueString: reason }])
  );
}

/** Asks for the visit to move to `slotId`; the other side answers ($reschedule-decision). */
export async function askToReschedule(appointmentId: string, slotId: string, reason: string): Promise<void> {
  await medplum.post(
    medplum.fhirUrl('Appointment', appointmentId, '$reschedule'),
    params([
      { name: 'slot', valueReference: { reference: `Slot/${slotId}` } },
      ...(reason ? [{ name: 'reason', valueString: reason }] : []),
    ])
  );
}

/** The provider's appointments starting in [start, end) (Appointment/$agenda), each patient named. */
export async function agenda(start: Date, end: Date): Promise<Appointment[]> {
  const url = medplum.fhirUrl('Appointment', '$agenda');
  url.search = new URLSearchParams({ start: start.toISOString(), end: end.toISOString() }).toString();
  const bundle = await medplum.get<Bundle<Appointment>>(url);
  return (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
}

export async function confirmVisit(appointmentId: string): Promise<void> {
  await medplum.post(medplum.fhirUrl('Appointment', appointmentId, '$confirm'), params([]));
}
