import type { Appointment, Bundle, Schedule, Slot } from '@medplum/fhirtypes';
import type { DemoApi } from './api';

/**
 * The demo's appointments and messages, made through the workflow operations a patient and a provider use (REST
 * writes of Appointments and messages are refused to anyone but a backend service): the provider opens a
 * schedule and generates slots for the coming four weeks, the patient books two visits and the provider confirms
 * the first; the patient asks a question by secure message and the provider answers. Slots must lie in the
 * future, so these are placed from the moment of the run, not from the reference date.
 */

export interface DemoVisits {
  appointments: number;
  messages: number;
}

const TIME_ZONE = 'Pacific/Auckland';
const DAY_MS = 86_400_000;

export async function visitsAndMessages(
  api: DemoApi,
  tokens: { provider: string; patient: string },
  ids: { practitionerId: string; patientId: string },
  now = Date.now()
): Promise<DemoVisits> {
  const schedule = await api.request<Schedule>(tokens.provider, 'POST', '/Schedule', {
    resourceType: 'Schedule',
    active: true,
    actor: [{ reference: `Practitioner/${ids.practitionerId}` }],
    comment: 'Clinic hours, Wellington',
  } satisfies Schedule);
  const date = (offsetDays: number): string => new Date(now + offsetDays * DAY_MS).toISOString().slice(0, 10);
  await api.operation(tokens.provider, `/Schedule/${schedule.id}/$generate-slots`, [
    { name: 'start', valueDate: date(1) },
    { name: 'end', valueDate: date(28) },
    { name: 'timezone', valueCode: TIME_ZONE },
    { name: 'slotMinutes', valueInteger: 30 },
    {
      name: 'availability',
      part: [
        ...['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => ({ name: 'day', valueCode: day })),
        { name: 'start', valueTime: '09:00:00' },
        { name: 'end', valueTime: '12:30:00' },
      ],
    },
  ]);
  const free = await api.request<Bundle<Slot>>(
    tokens.patient,
    'GET',
    `/Slot?schedule=Schedule/${schedule.id}&status=free&_sort=start&_count=40`
  );
  const slots = (free.entry ?? []).flatMap((e) => (e.resource?.id ? [e.resource.id] : []));
  const booked: Appointment[] = [];
  for (const [slot, reason] of [
    [slots[2], 'Review of my blood pressure and the care plan'],
    [slots[slots.length - 1], 'Lab results follow-up'],
  ] as const) {
    if (slot) {
      const made = await api.operation(tokens.patient, '/Appointment/$book', [
        { name: 'slot', valueReference: { reference: `Slot/${slot}` } },
        { name: 'reason', valueString: reason },
      ]);
      const appointment = made.get('return');
      if (appointment?.resourceType !== 'Appointment') {
        throw new Error('$book answered without an Appointment');
      }
      booked.push(appointment);
    }
  }
  if (booked[0]?.id) {
    await api.operation(tokens.provider, `/Appointment/${booked[0].id}/$confirm`, []);
  }
  const sent = await api.operation(tokens.patient, '/Communication/$send-message', [
    { name: 'recipient', valueReference: { reference: `Practitioner/${ids.practitionerId}` } },
    { name: 'topic', valueString: 'My morning blood pressure' },
    { name: 'text', valueString: 'My readings are lower since I started walking. Should I keep measuring every day?' },
  ]);
  const thread = sent.get('thread');
  await api.operation(tokens.provider, '/Communication/$send-message', [
    { name: 'thread', valueReference: { reference: `Communication/${thread?.id}` } },
    {
      name: 'text',
      valueString: 'Great progress. Twice a week is enough now; we will look at the trend at your visit.',
    },
  ]);
  return { appointments: booked.length, messages: 2 };
}
