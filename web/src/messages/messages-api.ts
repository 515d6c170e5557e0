import type { Bundle, Communication, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { medplum } from '../session';
import { namesOf } from '../ui/names';

/*
 * Secure messages through Hale's messaging operations (docs/messaging.md): $threads lists the caller's threads
 * with their unread counts, $messages reads one, $mark-read marks what was sent to the caller as read and
 * $send-message replies. The server checks the relationship on every call; the portal only shows the answers.
 */

export interface ThreadSummary {
  id: string;
  topic: string;
  /** The other participant, by name when the caller may read it. */
  with: string;
  sent?: string;
  unread: number;
}

export interface Message {
  id: string;
  mine: boolean;
  from: string;
  sent?: string;
  text: string;
}

const part = (p: ParametersParameter, name: string): ParametersParameter | undefined =>
  p.part?.find((x) => x.name === name);

function otherSide(thread: Communication, me: string): string {
  const patient = thread.subject?.reference ?? '';
  const sides = (thread.recipient ?? []).map((r) => r.reference ?? '');
  return me === patient ? (sides.find((r) => r !== patient) ?? '') : patient;
}

function someone(me: string): string {
  return me.startsWith('Patient/') ? 'Your provider' : 'Your patient';
}

/** The caller's threads, newest first, and the total unread (Communication/$threads). */
export async function myThreads(me: string): Promise<{ unread: number; threads: ThreadSummary[] }> {
  const answer = await medplum.get<Parameters>(medplum.fhirUrl('Communication', '$threads'));
  const entries = (answer.parameter ?? []).filter((p) => p.name === 'thread');
  const threads = entries.map((p) => ({
    thread: part(p, 'thread')?.resource as Communication,
    unread: part(p, 'unread')?.valueInteger ?? 0,
  }));
  const names = await namesOf(threads.map((t) => otherSide(t.thread, me)));
  return {
    unread: answer.parameter?.find((p) => p.name === 'unread')?.valueInteger ?? 0,
    threads: threads.map(({ thread, unread }) => ({
      id: thread.id ?? '',
      topic: thread.topic?.text ?? 'Message',
      with: names.get(otherSide(thread, me)) ?? someone(me),
      sent: thread.sent,
      unread,
    })),
  };
}

/** Only the unread count, for the navigation's badge. */
export async function unreadCount(): Promise<number> {
  const answer = await medplum.get<Parameters>(medplum.fhirUrl('Communication', '$threads'));
  return answer.parameter?.find((p) => p.name === 'unread')?.valueInteger ?? 0;
}

/** One thread's messages, oldest first (Communication/[id]/$messages), with the senders' names. */
export async function threadMessages(threadId: string, me: string): Promise<Message[]> {
  const bundle = await medplum.get<Bundle<Communication>>(medplum.fhirUrl('Communication', threadId, '$messages'));
  const messages = (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
  const names = await namesOf(messages.map((m) => m.sender?.reference ?? '').filter((r) => r !== me));
  return messages.map((m) => {
    const sender = m.sender?.reference ?? '';
    return {
      id: m.id ?? '',
      mine: sender === me,
      from: sender === me ? 'You' : (names.get(sender) ?? someone(me)),
      sent: m.sent,
      text: (m.payload ?? []).flatMap((p) => (p.contentString ? [p.contentString] : [])).join('\n'),
    };
  });
}

/** Marks the messages sent to the caller in this thread as read; the number that were unread. */
export async function markRead(threadId: string): Promise<number> {
  const answer = await medplum.post<Parameters>(medplum.fhirUrl('Communication', threadId, '$mark-read'), {
    resourceType: 'Parameters',
  });
  return answer.parameter?.find((p) => p.name === 'marked')?.valueInteger ?? 0;
}

export async function reply(threadId: string, text: string): Promise<void> {
  await medplum.post(medplum.fhirUrl('Communication', '$send-message'), {
    resourceType: 'Parameters',
    parameter: [
      { name: 'thread', valueReference: { reference: `Communication/${threadId}` } },
      { name: 'text', valueString: text },
    ],
  } satisfies Parameters);
}
