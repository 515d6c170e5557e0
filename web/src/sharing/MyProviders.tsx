import { Button, Group, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { formatHumanName } from '@medplum/core';
import type { Practitioner } from '@medplum/fhirtypes';
import { useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { errorSentence } from '../errors';
import { ErrorText } from '../ui/ErrorText';
import { useLoad } from '../ui/useLoad';
import type { Share } from './sharing-api';
import { categoryLabel, findProviders, myShares, revokeShare, shareVitals } from './sharing-api';
import { formText } from '../form-text';

const SHARE_DAYS = 30;

function until(share: Share): string {
  return share.end
    ? `until ${new Date(share.end).toLocaleDateString(undefined, { dateStyle: 'medium' })}`
    : 'until you end it';
}

function providerName(p: Practitioner): string {
  return formatHumanName(p.name?.[0]) || `Practitioner ${p.id}`;
}

/** /providers: who the patient shares with, what and until when; share vital signs with a provider; end a share. */
export default function MyProviders({ patientId }: { patientId: string }): ReactNode {
  const shares = useLoad(() => myShares(patientId), [patientId]);
  const [error, setError] = useState<string>();
  const [found, setFound] = useState<Practitioner[]>();
  const [status, setStatus] = useState<string>();

  const act = (work: Promise<void>, done: string): void => {
    setError(undefined);
    work.then(
      () => {
        setStatus(done);
        shares.reload();
      },
      (err: unknown) => setError(errorSentence(err))
    );
  };

  const search = (e: FormEvent<HTMLElement>): void => {
    e.preventDefault();
    const name = formText(new FormData(e.currentTarget as HTMLFormElement), 'name').trim();
    setError(undefined);
    findProviders(name).then(setFound, (err: unknown) => setError(errorSentence(err)));
  };

  return (
    <Stack gap="lg">
      <Title order={1}>My providers</Title>
      <ErrorText error={error ?? shares.error} />
      {status && <Text role="status">{status}</Text>}
      <section aria-labelledby="sharing-now">
        <Title order={2} size="h3" id="sharing-now" mb="sm">
          Sharing now
        </Title>
        {shares.data?.length === 0 && <Text c="dimmed">You are not sharing your record with anyone.</Text>}
        <Stack component="ul" gap="sm" style={{ listStyle: 'none', padding: 0 }}>
          {shares.data?.map((share) => (
            <Paper withBorder p="sm" component="li" key={share.consent.id}>
              <Group justify="space-between">
                <div>
                  <Text fw={700}>{share.with}</Text>
                  <Text size="sm">
                    Sees {share.categories.map(categoryLabel).join(', ').toLowerCase() || 'nothing'} {until(share)}
                  </Text>
                </div>
                <Button
                  color="red.9"
                  variant="outline"
                  onClick={() =>
                    act(revokeShare(share.consent.id as string), `You stopped sharing with ${share.with}.`)
                  }
                  aria-label={`Stop sharing with ${share.with}`}
                >
                  Stop sharing
                </Button>
              </Group>
            </Paper>
          ))}
        </Stack>
      </section>
      <Paper withBorder p="md" component="section" aria-labelledby="share-new">
        <Title order={2} size="h3" id="share-new" mb="sm">
          Share your vital signs with a provider
        </Title>
        <Group component="form" onSubmit={search} align="flex-end">
          <TextInput name="name" label="Provider's name" required />
          <Button type="submit" variant="light">
            Find
          </Button>
        </Group>
        {found?.length === 0 && <Text mt="sm">No provider has that name.</Text>}
        <Stack component="ul" gap="xs" mt="sm" style={{ listStyle: 'none', padding: 0 }}>
          {found?.map((p) => (
            <Group component="li" key={p.id} justify="space-between">
              <Text>{providerName(p)}</Text>
              <Button
                onClick={() =>
                  act(
                    shareVitals(patientId, p, SHARE_DAYS),
                    `${providerName(p)} can see your vital signs for ${SHARE_DAYS} days.`
                  )
                }
                aria-label={`Share vital signs for ${SHARE_DAYS} days with ${providerName(p)}`}
              >
                Share vital signs for {SHARE_DAYS} days
              </Button>
            </Group>
          ))}
        </Stack>
      </Paper>
    </Stack>
  );
}
