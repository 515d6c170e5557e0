import type { WithId } from '@medplum/core';
import { OperationOutcomeError, badRequest } from '@medplum/core';
import type { Binary, DocumentReference } from '@medplum/fhirtypes';
import type { StreamedBody } from '../fhir/streamed-body';
import { streamedBodyOf } from '../fhir/streamed-body';
import type { HaleRepository } from '../storage/repository';
import { blobKey } from './blob-store';
import type { ReceivedFile } from './receive';
import type { Uploads } from './service';
import { checkDeclared, keepUpload, receiveUpload } from './service';

const PATIENT_REF = /^Patient\/([A-Za-z0-9\-.]{1,64})$/;

/** Describes the file in the patient's record (DocumentReference/$upload); absent: a bare Binary (POST Binary). */
export interface DocumentInput {
  title?: string;
  description?: string;
}

/**
 * The patient whose record an upload joins: the one named (X-Security-Context or `patient`), else a patient
 * app's own. Uploads always belong to a patient, so their access is the patient record's (Consent "documents").
 */
function patientOf(repo: HaleRepository, named: string | undefined): string {
  const caller = repo.ctx.caller;
  const ref = named ?? (caller?.patient ? `Patient/${caller.patient}` : undefined);
  const id = PATIENT_REF.exec(ref ?? '')?.[1];
  if (!id) {
    throw new OperationOutcomeError(
      badRequest('Name the patient whose record the file joins (Patient/<id>): X-Security-Context or patient')
    );
  }
  return id;
}

/**
 * Refuses before a byte is read what can be refused then: the declared type and length, and a caller who may not
 * write into this patient's record (the rule of every other write, checked again on the versions themselves).
 */
async function precheck(repo: HaleRepository, u: Uploads, body: StreamedBody, patientId: string, document: boolean) {
  const declared = checkDeclared(u, body);
  for (const type of document ? ['Binary', 'DocumentReference'] : ['Binary']) {
    repo.ctx.access.checkWrite(type, { compartments: [patientId] }, 'create');
  }
  await repo.readResource('Patient', patientId); // 404/410 for an unknown or hidden patient
  return declared;
}

function documentFor(
  repo: HaleRepository,
  patient: string,
  binary: WithId<Binary>,
  file: ReceivedFile,
  input: DocumentInput
): DocumentReference {
  const now = new Date().toISOString();
  const author = repo.ctx.caller?.fhirUser;
  return {
    resourceType: 'DocumentReference',
    status: 'current',
    subject: { reference: patient },
    date: now,
    ...(author && /^(Patient|Practitioner|PractitionerRole|RelatedPerson)\//.test(author)
      ? { author: [{ reference: author }] }
      : {}),
    ...(input.description ? { description: input.description } : {}),
    content: [
      {
        attachment: {
          contentType: file.contentType,
          url: `Binary/${binary.id}`,
          size: file.size,
          hash: file.sha1,
          ...(input.title ? { title: input.title } : {}),
          creation: now,
        },
      },
    ],
  };
}

/** The request's body as an upload: the file itself, streamed (fhir/streamed-body.ts), else 400. */
export function uploadedBody(body: unknown): StreamedBody {
  const streamed = streamedBodyOf(body);
  if (!streamed) {
    throw new OperationOutcomeError(badRequest('Send the file itself as the body, with its Content-Type'));
  }
  return streamed;
}

/**
 * Receives an upload and writes it: the Binary (its securityContext the patient, its bytes in the blob store under
 * its version, blobKey) and, for $upload, the DocumentReference naming it, in one transaction with the caller's
 * access. A refusal at any step leaves nothing: no spool file, no stored file, no resource.
 */
export async function storeUpload(
  repo: HaleRepository,
  u: Uploads,
  body: StreamedBody,
  target: { patient: string | undefined; document?: DocumentInput }
): Promise<{ binary: WithId<Binary>; document?: WithId<DocumentReference> }> {
  const patientId = patientOf(repo, target.patient);
  const patient = `Patient/${patientId}`;
  const declared = await precheck(repo, u, body, patientId, target.document !== undefined);
  const file = await receiveUpload(u, body, declared);
  return keepUpload(u, file, (keep) =>
    repo.withTransaction(async (tx) => {
      const binary = await tx.createResource<Binary>({
        resourceType: 'Binary',
        contentType: file.contentType,
        securityContext: { reference: patient },
      });
      const document = target.document
        ? await tx.createResource(documentFor(repo, patient, binary, file, target.document))
        : undefined;
      const key = blobKey(binary);
      if (!key) {
        throw new Error(`Binary/${binary.id} has no version to key its file by`);
      }
      await keep(key);
      return { binary, document };
    })
  );
}
