import { OperationOutcomeError, badRequest, created } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { Uploads } from '../../uploads/service';
import type { HaleRepository } from '../../storage/repository';
import { storeUpload, uploadedBody } from '../../uploads/upload';
import { haleOperation } from './definition';

export const documentUploadOperation = haleOperation({
  resource: 'DocumentReference',
  code: 'upload',
  title: "Upload a document into a patient's record",
  description:
    'POST the file itself as the body, with its Content-Type (PDF, JPEG, PNG, HEIC; DICOM when enabled). It is ' +
    'streamed to storage, its type sniffed from its first bytes (a Content-Type it does not match is refused), ' +
    'the size limit enforced as it arrives, and the virus-scan hook run before it is kept; then a Binary (the ' +
    'bytes, securityContext the patient) and a DocumentReference naming it are written in one transaction. The ' +
    'parameters are in the query string. See docs/uploads.md.',
  instance: false,
  parameter: [
    {
      name: 'patient',
      use: 'in',
      min: 0,
      max: '1',
      type: 'string',
      documentation: "Patient/<id>; a patient app's own by default",
    },
    {
      name: 'title',
      use: 'in',
      min: 0,
      max: '1',
      type: 'string',
      documentation: 'The attachment title (≤ 200), e.g. the file name',
    },
    { name: 'description', use: 'in', min: 0, max: '1', type: 'string', documentation: '≤ 1,000 characters' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'DocumentReference' },
  ],
});

function single(value: string | string[] | undefined, name: string, max: number): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v !== undefined && (v.trim() === '' || v.length > max)) {
    throw new OperationOutcomeError(badRequest(`'${name}' must be 1 to ${max} characters`, name));
  }
  return v?.trim();
}

/** POST DocumentReference/$upload?patient=&title=&description= with the file as the body: 201 DocumentReference. */
export async function documentUploadHandler(
  req: FhirRequest,
  repo: HaleRepository,
  uploads: Uploads
): Promise<FhirResponse> {
  const query = req.query;
  const { binary, document } = await storeUpload(repo, uploads, uploadedBody(req.body), {
    patient: single(query.patient, 'patient', 80),
    document: { title: single(query.title, 'title', 200), description: single(query.description, 'description', 1000) },
  });
  if (!document) {
    throw new Error('storeUpload wrote no DocumentReference');
  }
  // The answer names only the DocumentReference; the Binary written with it must be in the AuditEvent too. The
  // audit takes resources a request touched but did not answer with from `disclosed` (as for $graphql).
  (repo.ctx.disclosed ??= []).push(binary);
  return [created, document];
}
