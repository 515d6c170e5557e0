import { Badge, Group, Text } from '@mantine/core';
import type { Flag } from '@medplum/fhirtypes';
import type { ReactNode } from 'react';
import { conceptText, formatWhen } from '../ui/format';
import { ListSection } from '../ui/ListSection';

const PRIORITY_EXT = 'http://hl7.org/fhir/StructureDefinition/flag-priority';
const PRIORITY: Record<string, string> = { PH: 'High priority', PM: 'Medium priority', PL: 'Low priority' };

function priorityOf(flag: Flag): string | undefined {
  const code = flag.extension?.find((e) => e.url === PRIORITY_EXT)?.valueCodeableConcept?.coding?.[0]?.code;
  return code ? PRIORITY[code] : undefined;
}

/**
 * Active alerts (Flags, such as the clinical rules engine raises): what and since when, in words; the priority is
 * text in a badge, never a colour alone. Not a live region: the list is part of the page, not a sudden event.
 */
export function Alerts({ alerts }: { alerts: Flag[] }): ReactNode {
  return (
    <ListSection
      id="alerts"
      title="Alerts"
      items={alerts}
      empty="No active alerts."
      keyOf={(f, i) => f.id ?? String(i)}
      label={(f) => conceptText(f.code, 'Alert')}
      render={(flag) => {
        const priority = priorityOf(flag);
        return (
          <>
            <Group gap="xs" justify="space-between">
              <Text fw={700}>{conceptText(flag.code, 'Alert')}</Text>
              {priority && (
                <Badge color={priority.startsWith('High') ? 'red.9' : 'gray.8'} variant="filled">
                  {priority}
                </Badge>
              )}
            </Group>
            {flag.period?.start && (
              <Text size="sm" c="dark.6">
                Since <time dateTime={flag.period.start}>{formatWhen(flag.period.start)}</time>
              </Text>
            )}
          </>
        );
      }}
    />
  );
}
