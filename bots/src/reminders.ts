/**
 * Appointment reminders (cron, e.g. every 15 minutes): a notification to each patient or related person on a
 * booked Appointment 24 hours and 2 hours before its start. Each reminder is sent once: it is a Communication
 * about the Appointment keyed by the appointment, its start, the offset and the recipient, so a rescheduled
 * appointment is reminded of again and a repeated run queues nothing. When a run finds both due (the appointment
 * was booked less than 2 hours ahead, or runs were missed), only the nearer one is sent. Whether the person gets
 * reminders at all, and on which channel, is their preference (the dispatcher applies it).
 */
import type { BotEvent, MedplumClient } from '@medplum/core';
import type { Appointment } from '@medplum/fhirtypes';
import type { BotContext } from './lib/fhir';
import { addMs, contextOf, inputOf, instantOf, isCronInput, refOf, searchAll, typeOf } from './lib/fhir';
import { queueNotification } from './lib/notify';

const HOUR_MS = 60 * 60 * 1000;

/** Reminder offsets before the start, nearest first. */
export const REMINDER_HOURS = [2, 24] as const;

export interface ReminderResult {
  readonly queued: readonly string[];
}

export async function handler(medplum: MedplumClient, event: BotEvent): Promise<ReminderResult> {
  const ctx = contextOf(medplum, event);
  const one = inputOf<Appointment>(event, 'Appointment');
  if (!one && !isCronInput(event.input)) {
    return { queued: [] };
  }
  const horizon = addMs(ctx.now, Math.max(...REMINDER_HOURS) * HOUR_MS);
  const appointments = one
    ? [one]
    : await searchAll(medplum, 'Appointment', [
        ['status', 'booked'],
        ['date', `gt${ctx.now.toISOString()}`],
        ['date', `le${horizon.toISOString()}`],
      ]);
  const queued: string[] = [];
  for (const appointment of appointments) {
    queued.push(...(await remind(ctx, appointment)));
  }
  return { queued };
}

/** The offset (hours) of the reminder due now, or undefined. */
export function dueReminder(start: number, now: number): number | undefined {
  if (start <= now) {
    return undefined;
  }
  return REMINDER_HOURS.find((hours) => now >= start - hours * HOUR_MS);
}

async function remind(ctx: BotContext, appointment: Appointment): Promise<string[]> {
  const start = instantOf(appointment.start);
  const hours = start === undefined ? undefined : dueReminder(start, ctx.now.getTime());
  if (appointment.status !== 'booked' || hours === undefined) {
    return [];
  }
  const patient = appointment.participant?.find((p) => typeOf(p.actor) === 'Patient')?.actor;
  const recipients = (appointment.participant ?? []).filter(
    (p) => p.status !== 'declined' && ['Patient', 'RelatedPerson'].includes(typeOf(p.actor) ?? '')
  );
  const queued: string[] = [];
  for (const participant of recipients) {
    const recipient = participant.actor?.reference ?? '';
    const communication = await queueNotification(ctx.medplum, {
      key: `reminder/${refOf(appointment)}/${appointment.start}/${hours}h/${recipient}`,
      recipient: { reference: recipient },
      category: 'appointment-reminder',
      text: hours === 2 ? 'Your appointment starts in about 2 hours.' : 'You have an appointment within the next day.',
      about: [{ reference: refOf(appointment) }],
      ...(patient?.reference ? { subject: { reference: patient.reference } } : {}),
    });
    queued.push(refOf(communication));
  }
  return queued;
}
