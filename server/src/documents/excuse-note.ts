import { createHash, randomUUID } from 'node:crypto';
import type { WithId } from '@medplum/core';
import { formatHumanName } from '@medplum/core';
import type {
  Binary,
  DocumentReference,
  Patient,
  Practitioner,
  PractitionerRole,
  Provenance,
} from '@medplum/fhirtypes';
import { HALE_FHIR } from '../access/consent/vocabulary';
import { invalid } from '../fhir/operations/parameters';
import { relatedProvider } from '../messaging/relationship';
import type { SchedulingContext } from '../scheduling/caller';
import { renderExcuseNote } from './excuse-pdf';
import type { DocumentSigner } from './signature';
import { sha256 } from './signature';

/**
 * Excuse notes (docs/orders.md "Excuse notes"): a provider with an active relationship writes a work
 * or school note for a patient. Hale renders it as a PDF (a Binary whose securityContext is the
 * patient), describes it with a DocumentReference in the patient's record, and records the
 * provider's signature in a Provenance over both.
 */

export const DOCUMENT_TYPE_SYSTEM = `${HALE_FHIR}/CodeSystem/document-type`;
const SIGNATURE_TYPE = {
  system: 'urn:iso-astm:E1762-95:2013',
  code: '1.2.840.10065.1.12.1.1',
  display: "Author's Signature",
};
const MAX_DAYS = 366;

export interface ExcuseInput {
  patient: string;
  kind: string;
  start: string;
  end: string;
  comment?: string;
}

function checkInput(i: ExcuseInput): { kind: 'work' | 'school'; patientId: string } {
  if (!/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(i.patient)) {
    throw invalid("'patient' must be a Patient reference (Patient/<id>)");
  }
  if (i.kind !== 'work' && i.kind !== 'school') {
    throw invalid("'kind' must be work or school");
  }
  const days = (Date.parse(i.end) - Date.parse(i.start)) / 86_400_000;
  if (!(days >= 0 && days < MAX_DAYS)) {
    throw invalid(`'end' must be on or after 'start', at most ${MAX_DAYS} days on`);
  }
  if (i.comment !== undefined && i.comment.length > 500) {
    throw invalid("'comment' must be at most 500 characters");
  }
  return { kind: i.kind, patientId: i.patient.slice('Patient/'.length) };
}

async function nameOf(ctx: SchedulingContext, ref: string): Promise<string> {
  const who = await ctx.system.readReference<Patient | Practitioner | PractitionerRole>({ reference: ref });
  const person =
    who.resourceType === 'PractitionerRole' && who.practitioner
      ? await ctx.system.readReference<Practitioner>(who.practitioner)
      : who;
  const name = 'name' in person ? person.name?.[0] : undefined;
  return (name && formatHumanName(name)) || ref;
}

/** DocumentReference/$excuse-note: the note's DocumentReference and the Provenance with its signature. */
export async function writeExcuseNote(
  ctx: SchedulingContext,
  sign: DocumentSigner,
  input: ExcuseInput
): Promise<{ document: WithId<DocumentReference>; provenance: WithId<Provenance> }> {
  const { kind, patientId } = checkInput(input);
  const signer = await relatedProvider(ctx, patientId, 'Excuse notes are written and signed');
  const [patientName, providerName] = [await nameOf(ctx, input.patient), await nameOf(ctx, signer)];
  const now = ctx.now.toISOString();
  const noteId = randomUUID();
  const pdf = await renderExcuseNote({
    kind,
    patientName,
    providerName,
    start: input.start,
    end: input.end,
    issued: now,
    comment: input.comment,
    documentId: noteId,
  });
  const title = `${kind === 'work' ? 'Work' : 'School'} excuse note`;
  return ctx.system.withTransaction(async (tx) => {
    const binary = await tx.createResource<Binary>({
      resourceType: 'Binary',
      contentType: 'application/pdf',
      data: Buffer.from(pdf).toString('base64'),
      securityContext: { reference: input.patient },
    });
    const document = await tx.createResource<DocumentReference>({
      resourceType: 'DocumentReference',
      masterIdentifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${noteId}` },
      status: 'current',
      docStatus: 'final',
      type: { coding: [{ system: DOCUMENT_TYPE_SYSTEM, code: `excuse-note-${kind}`, display: title }], text: title },
      subject: { reference: input.patient },
      date: now,
      author: [{ reference: signer }],
      authenticator: { reference: signer },
      description: title,
      content: [
        {
          attachment: {
            contentType: 'application/pdf',
            url: `Binary/${binary.id}`,
            size: pdf.length,
            hash: createHash('sha1').update(pdf).digest('base64'),
            title,
            creation: now,
          },
        },
      ],
      context: { period: { start: input.start, end: input.end } },
    });
    const claims = {
      signer,
      document: `DocumentReference/${document.id}`,
      binary: `Binary/${binary.id}`,
      sha256: sha256(pdf),
      when: now,
    };
    const jws = await sign(claims);
    const provenance = await tx.createResource<Provenance>({
      resourceType: 'Provenance',
      // The Patient is a target too, so the Provenance is in her compartment (R4's is by Provenance.target).
      target: [{ reference: claims.document }, { reference: claims.binary }, { reference: input.patient }],
      recorded: now,
      activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'CREATE' }] },
      agent: [
        {
          type: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author' }],
          },
          who: { reference: signer },
        },
      ],
      signature: [
        {
          type: [SIGNATURE_TYPE],
          when: now,
          who: { reference: signer },
          targetFormat: 'application/pdf',
          sigFormat: 'application/jose',
          data: Buffer.from(jws).toString('base64'),
        },
      ],
    });
    return { document, provenance };
  });
}
