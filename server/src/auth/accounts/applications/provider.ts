import type { Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import type { HaleRepository } from '../../../storage/repository';
import type { AuthDeps } from '../../deps';
import { HALE_SYSTEMS, contactPoints, humanName, nameText } from '../profiles';
import type { ProviderApplicationInput } from '../schemas';
import { decodeDocument, storeDocument } from './documents';
import type { BuiltApplication } from './submit';
import { submitApplication } from './submit';
import { credentialTask, ref } from './task';

/**
 * A provider applies: an inactive Practitioner (licence as identifier, qualifications), an
 * inactive PractitionerRole (specialty, affiliation and practice location as display-only
 * references: they need not exist as resources yet), the licence document, and the Task an
 * admin approves or rejects. The account is pending until then.
 */
export async function applyAsProvider(deps: AuthDeps, input: ProviderApplicationInput): Promise<void> {
  const bytes = decodeDocument(input.licenseDocument, 'licenseDocument');
  await submitApplication(deps, {
    kind: 'provider',
    number: input.licenseNumber,
    email: input.email,
    password: input.password,
    name: nameText(input.name),
    phone: input.phone,
    roles: ['provider'],
    build: (repo) => buildProvider(repo, input, bytes),
  });
}

async function buildProvider(
  repo: HaleRepository,
  input: ProviderApplicationInput,
  bytes: Buffer
): Promise<BuiltApplication> {
  const practitioner = await repo.createResource(practitionerResource(input));
  const role = await repo.createResource<PractitionerRole>({
    resourceType: 'PractitionerRole',
    active: false,
    practitioner: ref(practitioner),
    organization: { display: input.hospitalAffiliation },
    specialty: [{ text: input.specialty }],
    location: [{ display: input.practiceLocation }],
    telecom: contactPoints(input.email, input.phone, 'work'),
  });
  const document = await storeDocument(repo, input.licenseDocument, bytes, {
    code: 'professional-license',
    display: 'Professional licence',
    subject: ref(practitioner),
    author: ref(practitioner),
  });
  const task = await repo.createResource(
    credentialTask({
      focus: ref(role),
      for: ref(practitioner),
      description: 'Verify the licence and qualifications of a provider application',
      documents: [document],
    })
  );
  return { task, profile: { type: 'Practitioner', id: practitioner.id } };
}

/** Inactive until approved; the licence is both an identifier (to find) and a qualification (what it allows). */
function practitionerResource(input: ProviderApplicationInput): Practitioner {
  const license = { system: HALE_SYSTEMS.practitionerLicense, value: input.licenseNumber };
  return {
    resourceType: 'Practitioner',
    active: false,
    identifier: [
      {
        use: 'official',
        type: {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MD', display: 'Medical License number' },
          ],
        },
        ...license,
      },
    ],
    name: [humanName(input.name)],
    telecom: contactPoints(input.email, input.phone, 'work'),
    qualification: [
      { identifier: [license], code: { text: 'Licence to practise' } },
      ...input.qualifications.map((q) => ({ code: { text: q } })),
    ],
  };
}
