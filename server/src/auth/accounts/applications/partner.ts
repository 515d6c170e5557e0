import type { HealthcareService, Organization } from '@medplum/fhirtypes';
import type { HaleRepository } from '../../../storage/repository';
import type { AuthDeps } from '../../deps';
import { HALE_SYSTEMS, contactPoints, humanName, nameText } from '../profiles';
import type { OpeningHours, PartnerApplicationInput } from '../schemas';
import { decodeDocument, storeDocument } from './documents';
import type { BuiltApplication } from './submit';
import { submitApplication } from './submit';
import { credentialTask, ref } from './task';

/*
 * organization-type (terminology.hl7.org) has no pharmacy or laboratory code, so the type
 * carries Hale's code next to the nearest HL7 one ('prov', healthcare provider).
 */
const KIND = {
  pharmacy: { code: 'pharmacy', display: 'Pharmacy', registry: HALE_SYSTEMS.pharmacyRegistration },
  lab: { code: 'laboratory', display: 'Diagnostic laboratory', registry: HALE_SYSTEMS.labRegistration },
} as const;

/**
 * A pharmacy or diagnostics lab applies: an inactive Organization, an inactive HealthcareService
 * (services and opening hours: FHIR keeps them there, not on Organization), the documents and
 * the review Task. The applying account is the partner organisation's first staff member.
 */
export async function applyAsPartner(deps: AuthDeps, input: PartnerApplicationInput): Promise<void> {
  const files = input.documents.map((d, i) => decodeDocument(d, `documents.${i}`));
  await submitApplication(deps, {
    kind: input.kind,
    number: input.registrationNumber,
    email: input.email,
    password: input.password,
    name: nameText(input.ownerName),
    phone: input.phone,
    roles: ['partner'],
    build: (repo) => buildPartner(repo, input, files),
  });
}

async function buildPartner(
  repo: HaleRepository,
  input: PartnerApplicationInput,
  files: Buffer[]
): Promise<BuiltApplication> {
  const kind = KIND[input.kind];
  const org = await repo.createResource(organizationResource(input));
  await repo.createResource<HealthcareService>({
    resourceType: 'HealthcareService',
    active: false,
    providedBy: ref(org),
    name: input.businessName,
    category: [{ text: kind.display }],
    type: input.services.map((s) => ({ text: s })),
    availableTime: input.operatingHours.map(availableTime),
    telecom: contactPoints(input.email, input.phone, 'work'),
  });
  const documents = [];
  for (const [i, doc] of input.documents.entries()) {
    documents.push(
      await storeDocument(repo, doc, files[i] as Buffer, {
        code: 'business-registration',
        display: 'Business registration or licence',
        author: ref(org),
        custodian: ref(org),
      })
    );
  }
  const task = await repo.createResource(
    credentialTask({
      focus: ref(org),
      for: ref(org),
      description: `Verify the registration of a ${kind.display.toLowerCase()} application`,
      documents,
    })
  );
  return { task, organizationId: org.id };
}

function organizationResource(input: PartnerApplicationInput): Organization {
  const kind = KIND[input.kind];
  return {
    resourceType: 'Organization',
    active: false,
    name: input.businessName,
    identifier: [{ use: 'official', system: kind.registry, value: input.registrationNumber }],
    type: [
      {
        coding: [
          { system: HALE_SYSTEMS.organizationType, code: kind.code, display: kind.display },
          {
            system: 'http://terminology.hl7.org/CodeSystem/organization-type',
            code: 'prov',
            display: 'Healthcare Provider',
          },
        ],
      },
    ],
    telecom: contactPoints(input.email, input.phone, 'work'),
    address: [{ text: input.location }],
    contact: [
      {
        purpose: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/contactentity-type', code: 'ADMIN' }] },
        name: humanName(input.ownerName),
      },
    ],
  };
}

function availableTime(h: OpeningHours): NonNullable<HealthcareService['availableTime']>[number] {
  return {
    daysOfWeek: h.daysOfWeek,
    ...(h.allDay ? { allDay: true } : {}),
    ...(h.openingTime ? { availableStartTime: `${h.openingTime}:00` } : {}),
    ...(h.closingTime ? { availableEndTime: `${h.closingTime}:00` } : {}),
  };
}
