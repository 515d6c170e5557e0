import type { AuditEvent } from '@medplum/fhirtypes';
import type { AuditWriter } from '../../audit/audit-writer';
import { buildAuditEvents } from '../../audit/build-event';
import { emptyInvolved } from '../../audit/involved';
import { BULK_AUDIT_SYSTEM } from '../audit';
import type { ImportFile, ImportJob } from './store';

export interface ImportAuditStep {
  step: 'import-completed' | 'import-cancelled';
  /** The import's files as they stand (done ones with their counts, failed ones). */
  files: readonly ImportFile[];
  /** The status URL: names the import, and no patient. */
  url: string;
  status: number;
  requestId?: string;
  address?: string;
}

/**
 * One AuditEvent per import step (its end, or its cancellation), never one per resource: the
 * import as entity, with the resources written per type and the files imported and failed as
 * details. The kick-off request itself is audited as every FHIR request is.
 */
export async function auditImport(
  audit: Pick<AuditWriter, 'recordAll'>,
  baseUrl: string,
  job: ImportJob,
  step: ImportAuditStep
): Promise<void> {
  const [event] = buildAuditEvents({
    request: { interaction: 'operation' },
    status: step.status,
    recorded: new Date().toISOString(),
    caller: { fhirUser: job.claims.fhirUser, subject: job.claims.sub, clientId: job.claims.client_id },
    involved: emptyInvolved(),
    requestId: step.requestId,
    address: step.address,
    site: baseUrl,
  });
  if (!event) {
    return;
  }
  const perType = new Map<string, number>();
  for (const f of step.files) {
    for (const [type, n] of Object.entries(f.counts)) {
      perType.set(type, (perType.get(type) ?? 0) + n);
    }
  }
  const total = [...perType.values()].reduce((a, b) => a + b, 0);
  const imported: AuditEvent = {
    ...event,
    subtype: [...(event.subtype ?? []), { system: BULK_AUDIT_SYSTEM, code: step.step }],
    entity: [
      ...(event.entity ?? []),
      {
        what: { identifier: { system: `${baseUrl}/bulkdata/import`, value: job.id } },
        type: {
          system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
          code: '2',
          display: 'System Object',
        },
        description: step.url,
        detail: [
          { type: 'resource-count', valueString: String(total) },
          { type: 'files-imported', valueString: String(step.files.filter((f) => f.state === 'done').length) },
          { type: 'files-failed', valueString: String(step.files.filter((f) => f.state === 'failed').length) },
          ...[...perType].map(([type, n]) => ({ type: `count:${type}`, valueString: String(n) })),
        ],
      },
    ],
  };
  await audit.recordAll([imported]);
}
