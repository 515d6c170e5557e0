import { Stack, Title } from '@mantine/core';
import { useState } from 'react';
import type { ReactNode } from 'react';
import { ErrorText } from '../ui/ErrorText';
import { useLoad } from '../ui/useLoad';
import { LatestVitals } from './LatestVitals';
import { MeasurementForm } from './MeasurementForm';
import { VitalsChart } from './VitalsChart';
import { latestVitals } from './vitals-api';

/** /dashboard: the patient's latest vitals, 30-day charts, and a form to add a reading. */
export default function Dashboard({ patientId }: { patientId: string }): ReactNode {
  const [round, setRound] = useState(0);
  const latest = useLoad(() => latestVitals(patientId), [patientId, round]);
  return (
    <Stack gap="lg">
      <Title order={1}>My health</Title>
      <section aria-labelledby="latest">
        <Title order={2} size="h3" id="latest" mb="sm">
          Latest vital signs
        </Title>
        <ErrorText error={latest.error} />
        {latest.data && <LatestVitals readings={latest.data} empty="No measurements yet. Add your first one below." />}
      </section>
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
