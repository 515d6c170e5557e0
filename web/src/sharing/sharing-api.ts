import { getReferenceString } from '@medplum/core';
import type { Consent, Parameters, Practitioner, Reference } from '@medplum/fhirtypes';
import { medplum } from '../session';
import { namesOf } from '../ui/names';

/** The data categories a share can name (docs/sharing-operations.md); the portal shows each as shared or not. */
export const CATEGORIES: { code: string; label: string }[] = [
  { code: 'vitals', label: 'Vital signs' },
  { code: 'labs', label: 'Lab results' },
  { code: 'medications', label: 'Medications' },
  { code: 'medical-history', label: 'Medical history' },
  { code: 'care-plans', label: 'Care plans' },
  { code: 'documents', label: 'Documents' },
];

export function categoryLabel(code: string): string {
  return code === 'all' ? 'Everything' : (CATEGORIES.find((c) => c.code === code)?.label ?? code);
}

export interface Share {
  consent: Consent;
  /** Who it is with, as the relationship names them. */
  with: string;
  categories: string[];
  end?: string;
}

/** The patient's active sharing Consents, each with the provider its relationship (CareTeam) names. */
export async function myShares(patientId: string): Promise<Share[]> {
  const [consents, teams] = await Promise.all([
    medplum.searchResources('Consent', { patient: `Patient/${patientId}`, status: 'active' }),
    medplum.searchResources('CareTeam', { subject: `Patient/${patientId}`, status: 'active' }),
  ]);
  const members = new Map<string, Reference>();
  for (const team of teams) {
    const member = team.participant?.[0]?.member;
    if (member) {
      members.set(`CareTeam/${team.id}`, member);
    }
  }
  const names = await namesOf([...members.values()].map((m) => m.reference ?? ''));
  return consents
    .filter((c) => c.scope?.coding?.some((x) => x.code === 'patient-privacy'))
    .map((consent) => {
      const actor = consent.provision?.actor?.[0]?.reference;
      const member = actor?.reference ? members.get(actor.reference) : undefined;
      return {
        consent,
        with:
          member?.display ??
          (member?.reference ? names.get(member.reference) : undefined) ??
          actor?.display ??
          'Someone',
        categories: (consent.provision?.class ?? []).map((c) => c.code ?? '').filter(Boolean),
        end: consent.provision?.period?.end,
      };
    });
}

export async function findProviders(name: string): Promise<Practitioner[]> {
  return medplum.searchResources('Practitioner', { name, _count: '10' });
}

/** Patient/$share: vital signs with one provider for `days` days (a temporary relationship). */
export async function shareVitals(patientId: string, provider: Practitioner, days: number): Promise<void> {
  const params: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'actor', valueReference: { reference: getReferenceString(provider) } },
      { name: 'category', valueCode: 'vitals' },
      { name: 'type', valueCode: 'temporary' },
      { name: 'duration', valueInteger: days },
    ],
  };
  await medplum.post(medplum.fhirUrl('Patient', patientId, '$share'), params);
}

export async function revokeShare(consentId: string): Promise<void> {
  await medplum.post(medplum.fhirUrl('Consent', consentId, '$revoke-share'), { resourceType: 'Parameters' });
}
