import { Button, Checkbox, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { ReactNode } from 'react';
import { errorSentence } from '../errors';
import { ErrorText } from '../ui/ErrorText';
import { formatWhen } from '../ui/format';
import { useLoad } from '../ui/useLoad';
import type { AccessEntry } from './access-log-api';
import { accessLog } from './access-log-api';

function sentenceOf(e: AccessEntry): string {
  const basis = e.basis ? `, under ${e.basis}` : '';
  return e.refused ? `${e.who} tried to see ${e.what} and was refused` : `${e.who} ${e.action} ${e.what}${basis}`;
}

/**
 * /access-log: who read or changed my record, newest first, from the AuditEvents in my compartment. The
 * patient's own activity (every screen they open is audited too) is hidden unless asked for, so a provider's
 * read is not buried under the patient's own.
 */
export default function AccessLog({ patientId }: { patientId: string }): ReactNode {
  const first = useLoad(() => accessLog(patientId), [patientId]);
  const [more, setMore] = useState<{ entries: AccessEntry[]; next?: string } | undefined>();
  const [moreError, setMoreError] = useState<string>();
  const [mine, setMine] = useState(false);
  const entries = [...(first.data?.entries ?? []), ...(more?.entries ?? [])];
  const next = more ? more.next : first.data?.next;
  const shown = entries.filter((e) => mine || !e.self);
  const loadMore = (): void => {
    if (!next) {
      return;
    }
    accessLog(patientId, next).then(
      (page) => setMore({ entries: [...(more?.entries ?? []), ...page.entries], next: page.next }),
      (err: unknown) => setMoreError(errorSentence(err))
    );
  };
  return (
    <Stack gap="md">
      <Title order={1}>Who saw my record</Title>
      <Text>
        Every time someone reads or changes your record, Hale writes it down. This is that list, newest first.
      </Text>
      <Checkbox label="Show my own activity too" checked={mine} onChange={(e) => setMine(e.currentTarget.checked)} />
      <ErrorText error={first.error ?? moreError} />
      {first.data && shown.length === 0 && (
        <Text role="status">{mine ? 'Nothing is recorded yet.' : 'Nobody else has opened your record.'}</Text>
      )}
      {shown.length > 0 && (
        <Table.ScrollContainer minWidth={320}>
          <Table striped>
            <Table.Caption>Access to your record, newest first</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">When</Table.Th>
                <Table.Th scope="col">What happened</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {shown.map((e) => (
                <Table.Tr key={e.id}>
                  <Table.Td>
                    <time dateTime={e.when}>{formatWhen(e.when)}</time>
                  </Table.Td>
                  <Table.Td>{sentenceOf(e)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {next && (
        <Group>
          <Button variant="default" onClick={loadMore}>
            Show older entries
          </Button>
        </Group>
      )}
    </Stack>
  );
}
