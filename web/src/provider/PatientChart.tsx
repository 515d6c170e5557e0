import { Alert, List, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { LatestVitals } from '../patient/LatestVitals';
import { latestVitals } from '../patient/vitals-api';
import { CATEGORIES, categoryLabel } from '../sharing/sharing-api';
import { ErrorText } from '../ui/ErrorText';
import { useLoad } from '../ui/useLoad';
import { sharedUntil } from './MyPatients';
import { myPatients } from './provider-api';

/**
 * /patients/:id: what this patient shares with the provider now, and — named, not hidden — what they do not.
 * Hale filters every read by the patient's Consents, so the vitals shown are exactly the shared ones.
 */
export default function PatientChart({ patientId }: { patientId: string }): ReactNode {
  const chart = useLoad(async () => {
    const patient = (await myPatients()).find((p) => p.id === patientId);
    return { patient, vitals: patient?.categories.includes('vitals') ? await latestVitals(patientId) : [] };
  }, [patientId]);
  if (chart.error) {
    return <ErrorText error={chart.error} />;
  }
  if (!chart.data) {
    return null;
  }
  const { patient, vitals } = chart.data;
  if (!patient) {
    return (
      <Stack>
        <Title order={1}>Patient chart</Title>
        <Alert color="gray" role="status" title="Nothing is shared with you">
          This person does not share any part of their record with you now. You can ask them to share it.
        </Alert>
      </Stack>
    );
  }
  const notShared = CATEGORIES.filter((c) => !patient.categories.includes(c.code));
  return (
    <Stack gap="lg">
      <Title order={1}>{patient.name}</Title>
      <Text>
        Shared with you: {patient.categories.map(categoryLabel).join(', ').toLowerCase()}, {sharedUntil(patient)}.
      </Text>
      {patient.categories.includes('vitals') && (
        <section aria-labelledby="chart-vitals">
          <Title order={2} size="h3" id="chart-vitals" mb="sm">
            Latest vital signs
          </Title>
          <LatestVitals readings={vitals} empty="No vital signs recorded." />
        </section>
      )}
      {notShared.length > 0 && (
        <Alert color="gray" title="Not shared with you" role="note">
          <Text>{patient.name} has not shared these parts of their record with you; they are not shown here:</Text>
          <List>
            {notShared.map((c) => (
              <List.Item key={c.code}>{c.label}</List.Item>
            ))}
          </List>
        </Alert>
      )}
    </Stack>
  );
}
