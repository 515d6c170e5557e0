import { Text } from '@mantine/core';
import type { Appointment } from '@medplum/fhirtypes';
import type { ReactNode } from 'react';
import { conceptText, formatWhen } from '../ui/format';
import { ListSection } from '../ui/ListSection';

const STATUS: Partial<Record<Appointment['status'], string>> = {
  proposed: 'Requested',
  pending: 'Waiting for confirmation',
  booked: 'Booked',
};

/** Who the visit is with: the participants other than the patient, as the appointment names them. */
function withWhom(appt: Appointment, patientId: string): string {
  return (appt.participant ?? [])
    .map((p) => p.actor)
    .filter((a) => a && a.reference !== `Patient/${patientId}`)
    .map((a) => a?.display ?? '')
    .filter(Boolean)
    .join(', ');
}

/** The next appointments, soonest first. */
export function Appointments({
  appointments,
  patientId,
}: {
  appointments: Appointment[];
  patientId: string;
}): ReactNode {
  const what = (a: Appointment): string =>
    a.description ?? (a.serviceType?.[0] ? conceptText(a.serviceType[0], 'Appointment') : 'Appointment');
  return (
    <ListSection
      id="appointments"
      title="Upcoming appointments"
      items={appointments}
      empty="No upcoming appointments."
      keyOf={(a, i) => a.id ?? String(i)}
      label={(a) => `${what(a)}, ${formatWhen(a.start)}`}
      render={(appt) => {
        const who = withWhom(appt, patientId);
        return (
          <>
            <Text fw={700}>
              <time dateTime={appt.start}>{formatWhen(appt.start)}</time>
            </Text>
            <Text size="sm">
              {what(appt)}
              {who && ` with ${who}`} · {STATUS[appt.status] ?? appt.status}
            </Text>
          </>
        );
      }}
    />
  );
}
