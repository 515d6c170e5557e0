import { Badge, Group, Text } from '@mantine/core';
import type { GoalTarget } from '@medplum/fhirtypes';
import type { ReactNode } from 'react';
import { conceptText, formatQuantity } from '../ui/format';
import { ListSection } from '../ui/ListSection';
import type { DashboardSummary, GoalProgress } from './summary-api';

function targetText(target: GoalTarget | undefined): string {
  const range = target?.detailRange;
  const low = formatQuantity(range?.low);
  const high = formatQuantity(range?.high);
  if (low || high) {
    return low && high ? `${low} to ${high}` : low ? `at least ${low}` : `at most ${high}`;
  }
  return formatQuantity(target?.detailQuantity);
}

function ProgressLine({ progress, target }: { progress: GoalProgress; target?: GoalTarget }): ReactNode {
  const what = conceptText(progress.measure, 'Measure');
  const goal = targetText(target);
  return (
    <Group gap="xs">
      <Text size="sm">
        {what}
        {goal && `: target ${goal}`}
        {progress.value ? `, latest ${formatQuantity(progress.value)}` : ', no reading yet'}
      </Text>
      {progress.achieved !== undefined && (
        // Darker than Mantine's green.9 / orange.9, which give white text less than 4.5:1.
        <Badge color={progress.achieved ? '#1e6b30' : '#a33c0a'} variant="filled">
          {progress.achieved ? 'On target' : 'Not yet'}
        </Badge>
      )}
    </Group>
  );
}

/** Active goals, each target with the latest reading of what it measures and whether it meets it. */
export function Goals({ goals }: { goals: DashboardSummary['goals'] }): ReactNode {
  return (
    <ListSection
      id="goals"
      title="Goals"
      items={goals}
      empty="No goals set yet."
      keyOf={(g, i) => g.goal.id ?? String(i)}
      label={(g) => conceptText(g.goal.description, 'Goal')}
      render={({ goal, progress }) => {
        const measured = (goal.target ?? []).filter((t) => t.measure);
        return (
          <>
            <Text fw={700}>{conceptText(goal.description, 'Goal')}</Text>
            {progress.map((p, i) => (
              <ProgressLine key={i} progress={p} target={measured[i]} />
            ))}
          </>
        );
      }}
    />
  );
}
