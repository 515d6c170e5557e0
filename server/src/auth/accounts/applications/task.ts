import type { WithId } from '@medplum/core';
import type { DocumentReference, Organization, Practitioner, Reference, Resource, Task } from '@medplum/fhirtypes';
import { HALE_SYSTEMS } from '../profiles';

export const CREDENTIAL_VERIFICATION = {
  system: HALE_SYSTEMS.taskCode,
  code: 'credential-verification',
  display: 'Credential verification',
} as const;

export function ref<T extends Resource>(resource: WithId<T>): Reference<T> {
  return { reference: `${resource.resourceType}/${resource.id}` };
}

/**
 * The review work item of an application: requested, unassigned (any admin may take it),
 * focused on the resource to activate, with the uploaded documents as inputs.
 */
export function credentialTask(opts: {
  focus: Reference;
  for: Reference<Practitioner | Organization>;
  description: string;
  documents: readonly WithId<DocumentReference>[];
}): Task {
  const now = new Date().toISOString();
  return {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    priority: 'routine',
    code: { coding: [{ ...CREDENTIAL_VERIFICATION }] },
    description: opts.description,
    focus: opts.focus,
    for: opts.for,
    requester: opts.for,
    authoredOn: now,
    lastModified: now,
    input: opts.documents.map((d) => ({
      type: {
        coding: [{ system: HALE_SYSTEMS.taskInput, code: 'credential-document', display: 'Credential document' }],
      },
      valueReference: ref(d),
    })),
  };
}

/** The Task after an admin's decision: completed (approved) or rejected with the reason. */
export function decidedTask(
  task: WithId<Task>,
  decision: { approved: true } | { approved: false; reason: string }
): Task {
  const now = new Date().toISOString();
  const note = { time: now, text: decision.approved ? 'Approved' : `Rejected: ${decision.reason}` };
  return {
    ...task,
    status: decision.approved ? 'completed' : 'rejected',
    businessStatus: { text: decision.approved ? 'approved' : 'rejected' },
    ...(decision.approved ? {} : { statusReason: { text: decision.reason } }),
    lastModified: now,
    note: [...(task.note ?? []), note],
  };
}
