import { SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { ReactNode } from 'react';
import { ErrorText } from '../ui/ErrorText';
import { useLoad } from '../ui/useLoad';
import { Alerts } from './Alerts';
import { Appointments } from './Appointments';
import { CarePlans } from './CarePlans';
import { Goals } from './Goals';
import { LatestVitals } from './LatestVitals';
import { MeasurementForm } from './MeasurementForm';
import { VitalsChart } from './VitalsChart';
import { dashboardSummary } from './summary-api';

function unreadText(n: number): string {
  return n === 0 ? 'No unread messages.' : n === 1 ? 'You have 1 unread message.' : `You have ${n} unread messages.`;
}

/**
 * /dashboard: everything but the charts comes from one Patient/$summary; the 30-day charts ask $stats at the same
 * time, so after the sign-in's token exchange the screen is painted from one round of requests in parallel.
 */
export default function Dashboard({ patientId }: { patientId: string }): ReactNode {
  const [round, setRound] = useState(0);
  const summary = useLoad(() => dashboardSummary(patientId), [patientId, round]);
  const data = summary.data;
  return (
    <Stack gap="lg">
      <Title order={1}>My health</Title>
      <ErrorText error={summary.error} />
      {data && (
        <>
          <Alerts alerts={data.alerts} />
          <section aria-labelledby="latest">
            <Title order={2} size="h3" id="latest" mb="sm">
              Latest vital signs
            </Title>
            <LatestVitals readings={data.vitals} empty="No measurements yet. Add your first one below." />
          </section>
          <section aria-labelledby="messages">
            <Title order={2} size="h3" id="messages" mb="xs">
              Messages
            </Title>
            <Text>{unreadText(data.unreadMessages)}</Text>
          </section>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Goals goals={data.goals} />
            <CarePlans plans={data.carePlans} />
          </SimpleGrid>
          <Appointments appointments={data.appointments} patientId={patientId} />
        </>
      )}
      <MeasurementForm patientId={patientId} onSaved={() => setRound((r) => r + 1)} />
      <Title order={2} size="h3">
        The last 30 days
      </Title>
      <VitalsChart
        patientId={patientId}
        round={round}
        title="Blood pressure"
        unit="mmHg"
        series={[
          { code: '85354-9', component: '8480-6', name: 'Systolic', color: 'red.8' },
          { code: '85354-9', component: '8462-4', name: 'Diastolic', color: 'blue.8' },
        ]}
      />
      <VitalsChart
        patientId={patientId}
        round={round}
        title="Heart rate"
        unit="/min"
        series={[{ code: '8867-4', name: 'Heart rate', color: 'teal.8' }]}
      />
      <VitalsChart
        patientId={patientId}
        round={round}
        title="Weight"
        unit="kg"
        series={[{ code: '29463-7', name: 'Weight', color: 'grape.8' }]}
      />
    </Stack>
  );
}
