import { Text } from '@mantine/core';
import type { Appointment } from '@medplum/fhirtypes';
import type { ReactNode } from 'react';
import { otherParticipants, statusWords, visitWhat } from '../appointments/appointment-words';
import { formatWhen } from '../ui/format';
import { ListSection } from '../ui/ListSection';

/** The next appointments, soonest first. */
export function Appointments({
  appointments,
  patientId,
}: {
  appointments: Appointment[];
  patientId: string;
}): ReactNode {
  const what = visitWhat;
  return (
    <ListSection
      id="appointments"
      title="Upcoming appointments"
      items={appointments}
      empty="No upcoming appointments."
      keyOf={(a, i) => a.id ?? String(i)}
      label={(a) => `${what(a)}, ${formatWhen(a.start)}`}
      render={(appt) => {
        const who = otherParticipants(appt, `Patient/${patientId}`);
        return (
          <>
            <Text fw={700}>
              <time dateTime={appt.start}>{formatWhen(appt.start)}</time>
            </Text>
            <Text size="sm">
              {what(appt)}
              {who && ` with ${who}`} · {statusWords(appt)}
            </Text>
          </>
        );
      }}
    />
  );
}
