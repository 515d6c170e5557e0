import { allOk, created } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition, Parameters } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { messagingContext, sendMessage } from '../../messaging/threads';
import { MAX_TEXT, MAX_TOPIC } from '../../messaging/vocabulary';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput, invalid } from './parameters';

export const communicationSendMessageOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Communication-send-message',
  url: `${HALE_FHIR}/OperationDefinition/Communication-send-message`,
  name: 'SendMessage',
  title: 'Send a secure message',
  status: 'active',
  kind: 'operation',
  code: 'send-message',
  description:
    'A patient or a provider sends a message in a thread they take part in (`thread`), or starts a thread with ' +
    '`recipient` and `topic`. Only between a patient and a provider with an active relationship (a Consent that ' +
    'shares the record with the provider). The recipient is notified (PHI-free) on their first unread message.',
  resource: ['Communication'],
  system: false,
  type: true,
  instance: false,
  parameter: [
    { name: 'thread', use: 'in', min: 0, max: '1', type: 'Reference', documentation: 'Communication/<thread>' },
    { name: 'recipient', use: 'in', min: 0, max: '1', type: 'Reference', documentation: 'A new thread with' },
    { name: 'topic', use: 'in', min: 0, max: '1', type: 'string', documentation: 'A new thread’s subject' },
    { name: 'text', use: 'in', min: 1, max: '1', type: 'string', documentation: `At most ${MAX_TEXT} characters` },
    { name: 'attachment', use: 'in', min: 0, max: '5', type: 'Reference', documentation: 'DocumentReference/Binary' },
    { name: 'thread', use: 'out', min: 1, max: '1', type: 'Communication' },
    { name: 'message', use: 'out', min: 1, max: '1', type: 'Communication' },
  ],
};

/** POST Communication/$send-message */
export async function communicationSendMessageHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const input = OperationInput.parse(communicationSendMessageOperation, req.body);
  const thread = input.one('thread', 'Reference')?.reference;
  const recipient = input.one('recipient', 'Reference');
  const topic = input.one('topic', 'string')?.trim();
  const text = input.one('text', 'string')?.trim() ?? '';
  if (text.length > MAX_TEXT) {
    throw invalid(`'text' must be at most ${MAX_TEXT} characters`);
  }
  if (thread !== undefined && (recipient || topic)) {
    throw invalid("Give 'thread' for a reply, or 'recipient' and 'topic' for a new thread, not both");
  }
  if (thread !== undefined && !/^Communication\/[A-Za-z0-9\-.]{1,64}$/.test(thread)) {
    throw invalid("'thread' must be a Communication reference (Communication/<id>)");
  }
  if (thread === undefined && (!recipient || !topic || topic.length > MAX_TOPIC)) {
    throw invalid(`A new thread needs 'recipient' and a 'topic' of at most ${MAX_TOPIC} characters`);
  }
  const ctx = messagingContext(repo, deps.systemRepository());
  const sent = await sendMessage(ctx, {
    threadId: thread?.slice('Communication/'.length),
    recipient,
    topic,
    text,
    attachments: input.all('attachment', 'Reference'),
  });
  const out: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'thread', resource: sent.thread },
      { name: 'message', resource: sent.message },
    ],
  };
  return [thread === undefined ? created : allOk, out];
}
