import { OperationOutcomeError, badRequest } from '@medplum/core';
import type { WithId } from '@medplum/core';
import type { Binary, DocumentReference, Organization, Practitioner, Reference } from '@medplum/fhirtypes';
import { createHash } from 'node:crypto';
import type { HaleRepository } from '../../../storage/repository';
import { HALE_SYSTEMS } from '../profiles';
import type { DocumentUpload } from '../schemas';

export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;

/** The first bytes every file of the type starts with: a mislabelled or garbage upload is refused. */
const MAGIC: Record<DocumentUpload['contentType'], number[]> = {
  'application/pdf': [0x25, 0x50, 0x44, 0x46, 0x2d], // %PDF-
  'image/png': [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  'image/jpeg': [0xff, 0xd8, 0xff],
};

export function decodeDocument(doc: DocumentUpload, field: string): Buffer {
  const bytes = Buffer.from(doc.data, 'base64');
  if (bytes.length === 0 || bytes.length > MAX_DOCUMENT_BYTES) {
    throw new OperationOutcomeError(
      badRequest(`${field}: a document must hold 1 byte to ${MAX_DOCUMENT_BYTES / 1024 / 1024} MB`)
    );
  }
  if (!MAGIC[doc.contentType].every((b, i) => bytes[i] === b)) {
    throw new OperationOutcomeError(badRequest(`${field}: the content is not a ${doc.contentType} file`));
  }
  return bytes;
}

export interface DocumentContext {
  /** Hale document-type code, e.g. professional-license. */
  code: 'professional-license' | 'business-registration';
  display: string;
  /** DocumentReference.subject allows Practitioner but not Organization (R4). */
  subject?: Reference<Practitioner>;
  author: Reference<Practitioner | Organization>;
  custodian?: Reference<Organization>;
}

/**
 * Stores an uploaded document as a Binary (the bytes) and a DocumentReference (what it is, who
 * it is about), the FHIR way of keeping a file. The Binary's securityContext is the applicant,
 * so access rules for the applicant's resources cover the file too.
 */
export async function storeDocument(
  repo: HaleRepository,
  doc: DocumentUpload,
  bytes: Buffer,
  ctx: DocumentContext
): Promise<WithId<DocumentReference>> {
  const binary = await repo.createResource<Binary>({
    resourceType: 'Binary',
    contentType: doc.contentType,
    data: bytes.toString('base64'),
    securityContext: ctx.author,
  });
  const now = new Date().toISOString();
  return repo.createResource<DocumentReference>({
    resourceType: 'DocumentReference',
    status: 'current',
    docStatus: 'final',
    type: { coding: [{ system: HALE_SYSTEMS.documentType, code: ctx.code, display: ctx.display }] },
    description: doc.title,
    date: now,
    ...(ctx.subject ? { subject: ctx.subject } : {}),
    author: [ctx.author],
    ...(ctx.custodian ? { custodian: ctx.custodian } : {}),
    content: [
      {
        attachment: {
          contentType: doc.contentType,
          url: `Binary/${binary.id}`,
          size: bytes.length,
          hash: createHash('sha1').update(bytes).digest('base64'),
          title: doc.title,
          creation: now,
        },
      },
    ],
  });
}
