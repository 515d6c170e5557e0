import { Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { formatWhen } from '../ui/format';
import { ListSection } from '../ui/ListSection';
import type { DashboardSummary } from './summary-api';

/** Active care plans and the phase each is in (what $summary names from the current activity). */
export function CarePlans({ plans }: { plans: DashboardSummary['carePlans'] }): ReactNode {
  return (
    <ListSection
      id="care-plans"
      title="Care plans"
      items={plans}
      empty="No active care plan."
      keyOf={(p, i) => p.plan.id ?? String(i)}
      label={(p) => p.plan.title ?? 'Care plan'}
      render={({ plan, phase }) => (
        <>
          <Text fw={700}>{plan.title ?? plan.description ?? 'Care plan'}</Text>
          <Text size="sm">{phase ? `Current phase: ${phase}` : 'No phase in progress.'}</Text>
          {plan.period?.start && (
            <Text size="sm" c="dark.6">
              Since {formatWhen(plan.period.start)}
              {plan.period.end ? `, until ${formatWhen(plan.period.end)}` : ''}
            </Text>
          )}
        </>
      )}
    />
  );
}
