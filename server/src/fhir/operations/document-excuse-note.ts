import { created } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { Parameters } from '@medplum/fhirtypes';
import { writeExcuseNote } from '../../documents/excuse-note';
import { schedulingContext } from '../../scheduling/caller';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { haleOperation } from './definition';
import { OperationInput } from './parameters';

export const documentExcuseNoteOperation = haleOperation({
  resource: 'DocumentReference',
  code: 'excuse-note',
  title: 'Write a work or school excuse note',
  description:
    'A provider with an active relationship writes an excuse note for a patient: a PDF (Binary), its ' +
    "DocumentReference in the patient's record, and a Provenance carrying the provider's signature (a JWS by the " +
    "server's signing key over the PDF's SHA-256, on behalf of the signed-in provider).",
  instance: false,
  parameter: [
    { name: 'patient', use: 'in', min: 1, max: '1', type: 'Reference', documentation: 'Patient/<id>' },
    { name: 'kind', use: 'in', min: 1, max: '1', type: 'code', documentation: 'work | school' },
    { name: 'start', use: 'in', min: 1, max: '1', type: 'date', documentation: 'First day excused' },
    { name: 'end', use: 'in', min: 1, max: '1', type: 'date', documentation: 'Last day excused (at most 366 days on)' },
    { name: 'comment', use: 'in', min: 0, max: '1', type: 'string', documentation: 'At most 500 characters, printed' },
    { name: 'documentReference', use: 'out', min: 1, max: '1', type: 'DocumentReference' },
    { name: 'provenance', use: 'out', min: 1, max: '1', type: 'Provenance' },
  ],
});

/** POST DocumentReference/$excuse-note: 201 with the DocumentReference and the signed Provenance. */
export async function documentExcuseNoteHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const input = OperationInput.parse(documentExcuseNoteOperation, req.body);
  if (!deps.signDocument) {
    throw new Error('The excuse-note operation needs a document signer (app.ts wires one)');
  }
  const ctx = await schedulingContext(repo, deps.systemRepository());
  const { document, provenance } = await writeExcuseNote(ctx, deps.signDocument, {
    patient: input.one('patient', 'Reference')?.reference ?? '',
    kind: input.one('kind', 'code') ?? '',
    start: input.one('start', 'date') ?? '',
    end: input.one('end', 'date') ?? '',
    comment: input.one('comment', 'string')?.trim(),
  });
  const out: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'documentReference', resource: document },
      { name: 'provenance', resource: provenance },
    ],
  };
  return [created, out];
}
