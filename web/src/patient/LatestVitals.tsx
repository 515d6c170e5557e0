import { SimpleGrid, Paper, Text, Title } from '@mantine/core';
import type { Observation } from '@medplum/fhirtypes';
import type { ReactNode } from 'react';
import { formatWhen } from '../ui/format';
import { formatReading, readingLabel } from './measurements';

/** The latest reading of each vital sign, as cards. */
export function LatestVitals({ readings, empty }: { readings: Observation[]; empty: string }): ReactNode {
  if (readings.length === 0) {
    return <Text c="dimmed">{empty}</Text>;
  }
  return (
    <SimpleGrid cols={{ base: 1, xs: 2, sm: 3 }} component="ul" style={{ listStyle: 'none', padding: 0 }}>
      {readings.map((obs) => (
        <Paper withBorder p="sm" key={obs.id} component="li" aria-label={readingLabel(obs)}>
          <Title order={3} size="h5">
            {readingLabel(obs)}
          </Title>
          <Text size="xl" fw={700}>
            {formatReading(obs)}
          </Text>
          <Text size="sm" c="dimmed">
            {formatWhen(obs.effectiveDateTime ?? obs.effectivePeriod?.start)}
          </Text>
        </Paper>
      ))}
    </SimpleGrid>
  );
}
