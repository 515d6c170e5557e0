import { allOk, created } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { Binary } from '@medplum/fhirtypes';
import { Readable } from 'node:stream';
import type { HaleRepository } from '../../storage/repository';
import { blobKey } from '../../uploads/blob-store';
import type { Uploads } from '../../uploads/service';
import { storeUpload, uploadedBody } from '../../uploads/upload';
import { streamedAnswer } from '../streamed-answer';

/**
 * Binary as Medplum and the FHIR spec serve it (docs/uploads.md): `POST Binary` with the file's own bytes and
 * Content-Type (and `X-Security-Context: Patient/<id>`) is an upload; `GET Binary/[id]` not asking for a FHIR
 * format answers the content itself, streamed. Both go through the caller's repository, so the write and read
 * rules (scopes, Consent "documents") are those of every other Binary.
 */

const FHIR_FORMATS = ['application/fhir+json', 'application/json', 'application/json+fhir', 'application/fhir+xml'];

/** Does this read ask for the content rather than the resource? (FHIR: any Accept not naming a FHIR format.) */
export function wantsContent(req: FhirRequest): boolean {
  if (req.query._format !== undefined) {
    return false;
  }
  const accept = req.headers?.accept;
  const value = (Array.isArray(accept) ? accept.join(',') : (accept ?? '')).toLowerCase();
  return !FHIR_FORMATS.some((f) => value.includes(f));
}

/** POST Binary with raw bytes: 201 with the Binary (no `data`: its bytes are in the blob store). */
export async function binaryUploadHandler(
  req: FhirRequest,
  repo: HaleRepository,
  uploads: Uploads
): Promise<FhirResponse> {
  const header = req.headers?.['x-security-context'];
  const { binary } = await storeUpload(repo, uploads, uploadedBody(req.body), {
    patient: Array.isArray(header) ? header[0] : header,
  });
  return [created, binary];
}

/** GET Binary/[id] for its content: the stored file of this version, else the resource's own `data`. */
export async function binaryContentHandler(
  req: FhirRequest,
  repo: HaleRepository,
  uploads: Uploads
): Promise<FhirResponse> {
  const binary = await repo.readResource<Binary>('Binary', req.params.id as string);
  const key = blobKey(binary);
  const stored = key ? await uploads.store.open(key) : undefined;
  if (stored) {
    return [allOk, streamedAnswer(binary, stored)];
  }
  const bytes = Buffer.from(binary.data ?? '', 'base64');
  return [allOk, streamedAnswer(binary, { stream: Readable.from([bytes]), size: bytes.length })];
}
