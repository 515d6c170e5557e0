import { Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { categoryLabel } from '../sharing/sharing-api';
import { ErrorText } from '../ui/ErrorText';
import { Link } from '../ui/Shell';
import { useLoad } from '../ui/useLoad';
import type { SharedPatient } from './provider-api';
import { myPatients } from './provider-api';

export function sharedUntil(p: SharedPatient): string {
  return p.openEnded || !p.until
    ? 'until they end it'
    : `until ${new Date(p.until).toLocaleDateString(undefined, { dateStyle: 'medium' })}`;
}

/** /patients: the people who share with this provider now, what and until when. */
export default function MyPatients(): ReactNode {
  const patients = useLoad(myPatients, []);
  return (
    <Stack gap="md">
      <Title order={1}>My patients</Title>
      <ErrorText error={patients.error} />
      {patients.data?.length === 0 && <Text c="dimmed">Nobody shares their record with you at the moment.</Text>}
      <Stack component="ul" gap="sm" style={{ listStyle: 'none', padding: 0 }}>
        {patients.data?.map((p) => (
          <Paper withBorder p="sm" component="li" key={p.id}>
            <Link to={`/patients/${p.id}`}>{p.name}</Link>
            <Text size="sm">
              Shares {p.categories.map(categoryLabel).join(', ').toLowerCase()} {sharedUntil(p)}
            </Text>
          </Paper>
        ))}
      </Stack>
    </Stack>
  );
}
