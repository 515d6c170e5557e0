import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition, Parameters } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { messagingContext, myThreads } from '../../messaging/threads';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';

export const communicationThreadsOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Communication-threads',
  url: `${HALE_FHIR}/OperationDefinition/Communication-threads`,
  name: 'Threads',
  title: 'My message threads and unread counts',
  status: 'active',
  kind: 'operation',
  code: 'threads',
  description:
    'The caller’s secure-message threads whose relationship is active, newest first, each with the number of ' +
    'messages to the caller not yet read, and the total unread.',
  resource: ['Communication'],
  system: false,
  type: true,
  instance: false,
  affectsState: false,
  parameter: [
    { name: 'unread', use: 'out', min: 1, max: '1', type: 'integer' },
    {
      name: 'thread',
      use: 'out',
      min: 0,
      max: '*',
      part: [
        { name: 'thread', use: 'out', min: 1, max: '1', type: 'Communication' },
        { name: 'unread', use: 'out', min: 1, max: '1', type: 'integer' },
      ],
    },
  ],
};

/** GET Communication/$threads */
export async function communicationThreadsHandler(
  _req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const threads = await myThreads(messagingContext(repo, deps.systemRepository()));
  const out: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'unread', valueInteger: threads.reduce((n, t) => n + t.unread, 0) },
      ...threads.map((t) => ({
        name: 'thread',
        part: [
          { name: 'thread', resource: t.thread },
          { name: 'unread', valueInteger: t.unread },
        ],
      })),
    ],
  };
  return [allOk, out];
}
