import type { AuditEvent, AuditEventEntity } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../access/consent/vocabulary';
import type { AuditWriter } from '../audit/audit-writer';
import { RESOURCE_CAP, buildAuditEvents } from '../audit/build-event';
import { emptyInvolved } from '../audit/involved';
import type { AccessPolicy } from '../storage/access';
import type { ExportJob, ExportStore } from './store';

/** Subtypes beside restful-interaction `operation`: which step of a bulk export the event records. */
export const BULK_AUDIT_SYSTEM = `${HALE_FHIR}/CodeSystem/bulk-audit`;

export interface BulkAuditDeps {
  audit: Pick<AuditWriter, 'recordAll'>;
  store: ExportStore;
  baseUrl: string;
}

export interface AuditStep {
  step: 'export-completed' | 'export-cancelled' | 'file-download';
  /** The file downloaded; undefined for the whole export. */
  fileName?: string;
  /** The URL that was requested (the kick-off's, or the file's). */
  url: string;
  resources: number;
  requestId?: string;
  address?: string;
  status?: number;
}

/**
 * The AuditEvents of one step of an export: never one per resource. The patients covered are
 * summarised by count; when they are at most RESOURCE_CAP, each also gets an event naming only
 * them (as every multi-patient request does, so each patient's own log shows the export of their
 * data and nobody else's), besides the summary event, which is in no patient's compartment.
 */
export async function auditStep(
  deps: BulkAuditDeps,
  job: ExportJob,
  access: AccessPolicy | undefined,
  step: AuditStep
): Promise<void> {
  const patients = await deps.store.patients(job.id, step.fileName, RESOURCE_CAP);
  const involved = emptyInvolved();
  if (patients.count <= RESOURCE_CAP) {
    patients.ids.forEach((p) => involved.patients.add(p));
  }
  const events: AuditEvent[] = buildAuditEvents({
    request: { interaction: 'operation' },
    status: step.status ?? 200,
    recorded: new Date().toISOString(),
    caller: { fhirUser: job.claims.fhirUser, subject: job.claims.sub, clientId: job.claims.client_id },
    involved,
    requestId: step.requestId,
    address: step.address,
    basisFor: access?.basisFor ? (ids) => access.basisFor?.(ids) ?? [] : undefined,
    site: deps.baseUrl,
  });
  const what: AuditEventEntity = {
    what: { identifier: { system: `${deps.baseUrl}/bulkdata/export`, value: job.id } },
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
  };
  // The counts and the URL (which may name patients) only on the summary: the last event, or the only one.
  const summary: AuditEventEntity = {
    ...what,
    description: step.url,
    detail: [
      { type: 'patient-count', valueString: String(patients.count) },
      { type: 'resource-count', valueString: String(step.resources) },
    ],
  };
  events.forEach((event, i) => {
    event.subtype = [...(event.subtype ?? []), { system: BULK_AUDIT_SYSTEM, code: step.step }];
    event.entity = [...(event.entity ?? []), i === events.length - 1 ? summary : what];
  });
  await deps.audit.recordAll(events);
}
