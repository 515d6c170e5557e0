import '@mantine/charts/styles.css';
import { LineChart } from '@mantine/charts';
import { Paper, Text, Title, VisuallyHidden } from '@mantine/core';
import type { ReactNode } from 'react';
import { ErrorText } from '../ui/ErrorText';
import { useLoad } from '../ui/useLoad';
import type { SeriesSpec } from './vitals-api';
import { dailyAverages } from './vitals-api';

/** One chart of daily averages over the last 30 days, with a sentence for screen readers and empty periods. */
export function VitalsChart(props: {
  patientId: string;
  title: string;
  unit: string;
  series: SeriesSpec[];
  round: number;
}): ReactNode {
  const { patientId, title, unit, series, round } = props;
  const { data, error } = useLoad(() => dailyAverages(patientId, series, 30), [patientId, round]);
  return (
    <Paper withBorder p="md" component="section" aria-label={title}>
      <Title order={3} size="h4" mb="xs">
        {title}
      </Title>
      <ErrorText error={error} />
      {data && data.length === 0 && <Text c="dimmed">No readings in the last 30 days.</Text>}
      {data && data.length > 0 && (
        <>
          <VisuallyHidden>{`${title}, daily averages in ${unit} over ${data.length} days with readings.`}</VisuallyHidden>
          <LineChart
            h={200}
            data={data}
            dataKey="day"
            unit={` ${unit}`}
            series={series.map((s) => ({ name: s.name, color: s.color }))}
            withLegend={series.length > 1}
            connectNulls
          />
        </>
      )}
    </Paper>
  );
}
