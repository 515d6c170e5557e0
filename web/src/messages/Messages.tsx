import { Badge, Button, Group, Paper, Stack, Text, Textarea, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { errorSentence } from '../errors';
import { formText } from '../form-text';
import { ErrorText } from '../ui/ErrorText';
import { formatWhen } from '../ui/format';
import { ListSection } from '../ui/ListSection';
import { Link } from '../ui/Shell';
import { useLoad } from '../ui/useLoad';
import { useSubmit } from '../ui/useSubmit';
import type { ThreadSummary } from './messages-api';
import { markRead, myThreads, reply, threadMessages } from './messages-api';
import { refreshUnread } from './unread';

function unreadWords(n: number): string {
  return n === 1 ? '1 unread' : `${n} unread`;
}

/** /messages: the caller's threads, newest first, each with its unread count in words. */
function ThreadList({ me }: { me: string }): ReactNode {
  const threads = useLoad(() => myThreads(me), [me]);
  if (threads.error) {
    return <ErrorText error={threads.error} />;
  }
  const unread = threads.data?.unread ?? 0;
  return (
    <Stack gap="md">
      <Title order={1}>Messages</Title>
      {threads.data && (
        <Text role="status">
          {unread === 0 ? 'No unread messages.' : `You have ${unread} unread ${unread === 1 ? 'message' : 'messages'}.`}
        </Text>
      )}
      <ListSection<ThreadSummary>
        id="threads"
        title="Conversations"
        items={threads.data?.threads ?? []}
        empty={threads.loading ? 'Loading…' : 'No conversations yet.'}
        keyOf={(t) => t.id}
        label={(t) => `${t.topic}, with ${t.with}${t.unread ? `, ${unreadWords(t.unread)}` : ''}`}
        render={(t) => (
          <Group justify="space-between" wrap="wrap" gap="xs">
            <div>
              <Text fw={t.unread ? 700 : 400}>
                <Link to={`/messages/${t.id}`}>{t.topic}</Link>
              </Text>
              <Text size="sm" c="dimmed">
                With {t.with}
                {t.sent && (
                  <>
                    {' · started '}
                    <time dateTime={t.sent}>{formatWhen(t.sent)}</time>
                  </>
                )}
              </Text>
            </div>
            {t.unread > 0 && (
              <Badge color="red.9" variant="filled">
                {unreadWords(t.unread)}
              </Badge>
            )}
          </Group>
        )}
      />
    </Stack>
  );
}

/** /messages/:id: one thread, oldest first; opening it marks what was sent to the caller as read. */
function Thread({ me, threadId }: { me: string; threadId: string }): ReactNode {
  const messages = useLoad(() => threadMessages(threadId, me), [threadId, me]);
  const [status, setStatus] = useState<string>();
  const [readError, setReadError] = useState<string>();
  const { busy, error, run } = useSubmit();
  const loaded = messages.data !== undefined;

  useEffect(() => {
    if (loaded) {
      markRead(threadId).then(refreshUnread, (err: unknown) => setReadError(errorSentence(err)));
    }
  }, [loaded, threadId]);

  const send = (e: FormEvent<HTMLElement>): void => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const text = formText(new FormData(form), 'text').trim();
    setStatus(undefined);
    run(
      () => reply(threadId, text),
      () => {
        form.reset();
        setStatus('Your reply was sent.');
        messages.reload();
      }
    );
  };

  if (messages.error) {
    return (
      <Stack>
        <ErrorText error={messages.error} />
        <Link to="/messages">All conversations</Link>
      </Stack>
    );
  }
  return (
    <Stack gap="md">
      <Link to="/messages">All conversations</Link>
      <Title order={1}>Conversation</Title>
      <section aria-labelledby="messages-heading">
        <Title order={2} size="h3" id="messages-heading" mb="sm">
          Messages, oldest first
        </Title>
        {!loaded ? (
          <Text c="dimmed">Loading…</Text>
        ) : (
          <Stack component="ol" gap="xs" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
            {(messages.data ?? []).map((m) => (
              <Paper
                component="li"
                key={m.id}
                withBorder
                p="sm"
                bg={m.mine ? 'gray.0' : undefined}
                aria-label={`From ${m.from}`}
              >
                <Text size="sm" fw={700}>
                  {m.from}
                  {m.sent && (
                    <Text span size="sm" fw={400} c="dimmed">
                      {' · '}
                      <time dateTime={m.sent}>{formatWhen(m.sent)}</time>
                    </Text>
                  )}
                </Text>
                <Text style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>{m.text}</Text>
              </Paper>
            ))}
          </Stack>
        )}
      </section>
      <Stack component="form" gap="sm" onSubmit={send}>
        <ErrorText error={error ?? readError} />
        {status && <Text role="status">{status}</Text>}
        <Textarea name="text" label="Your reply" autosize minRows={3} maxLength={10000} required />
        <Group>
          <Button type="submit" disabled={busy || !loaded}>
            Send reply
          </Button>
        </Group>
      </Stack>
    </Stack>
  );
}

/** The secure messages of a patient or a provider (the same operations answer both). */
export default function Messages({ me, threadId }: { me: string; threadId?: string }): ReactNode {
  return threadId ? <Thread me={me} threadId={threadId} /> : <ThreadList me={me} />;
}
