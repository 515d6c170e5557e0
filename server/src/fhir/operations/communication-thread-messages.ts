import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { Bundle, OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { markRead, messagingContext, threadMessages } from '../../messaging/threads';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput } from './parameters';

const threadOperation = (code: string, title: string, description: string): OperationDefinition => ({
  resourceType: 'OperationDefinition',
  id: `Communication-${code}`,
  url: `${HALE_FHIR}/OperationDefinition/Communication-${code}`,
  name: title.replace(/[^A-Za-z]/g, ''),
  title,
  status: 'active',
  kind: 'operation',
  code,
  description,
  resource: ['Communication'],
  system: false,
  type: false,
  instance: true,
});

export const communicationMessagesOperation: OperationDefinition = {
  ...threadOperation(
    'messages',
    'Messages of a thread',
    'The messages of a thread the caller takes part in, oldest first.'
  ),
  affectsState: false,
  parameter: [{ name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' }],
};

export const communicationMarkReadOperation: OperationDefinition = {
  ...threadOperation(
    'mark-read',
    'Mark a thread read',
    'Sets `received` on every message to the caller in the thread.'
  ),
  parameter: [{ name: 'marked', use: 'out', min: 1, max: '1', type: 'integer' }],
};

/** GET Communication/{thread}/$messages */
export async function communicationMessagesHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const messages = await threadMessages(messagingContext(repo, deps.systemRepository()), req.params.id as string);
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    total: messages.length,
    entry: messages.map((resource) => ({ resource, search: { mode: 'match' } })),
  };
  return [allOk, bundle];
}

/** POST Communication/{thread}/$mark-read */
export async function communicationMarkReadHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  OperationInput.parse(communicationMarkReadOperation, req.body);
  const marked = await markRead(messagingContext(repo, deps.systemRepository()), req.params.id as string);
  return [allOk, { resourceType: 'Parameters', parameter: [{ name: 'marked', valueInteger: marked }] }];
}
