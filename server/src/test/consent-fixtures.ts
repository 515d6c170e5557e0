import type { CareTeam, Consent, ConsentProvisionActor, Observation } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import {
  CATEGORY_SYSTEM,
  CONSENT_SCOPE_SYSTEM,
  OBSERVATION_CATEGORY_SYSTEM,
  RELATIONSHIP_SYSTEM,
  ROLE_CODE_SYSTEM,
} from '../access/consent/vocabulary';
import type { Role } from '../auth/types';
import { sql } from '../db/sql';
import type { TestServer } from './test-server';

/** A verified, active account with a FHIR profile, as the accounts flow leaves it. */
export async function account(
  s: TestServer,
  roles: Role[],
  profile?: { type: 'Patient' | 'Practitioner' | 'RelatedPerson'; id: string },
  organizationId?: string
): Promise<string> {
  const id = randomUUID();
  await s.hale.db
    .query(sql`INSERT INTO account (id, email, email_verified, status, roles, profile_type, profile_id, organization_id)
    VALUES (${id}, ${`${id}@example.org`}, true, 'active', ${roles}::text[], ${profile?.type ?? null},
      ${profile?.id ?? null}, ${organizationId ?? null})`);
  return id;
}

/** A user token for an account (user/*.rs and writes as asked). */
export async function userToken(s: TestServer, accountId: string, scopes = ['user/*.cruds']): Promise<string> {
  return s.token({ scopes, accountId });
}

export const observationCategory = (code: string): Observation['category'] => [
  { coding: [{ system: OBSERVATION_CATEGORY_SYSTEM, code }] },
];

export function observation(
  patient: string,
  category: string,
  effective: string,
  extra: Partial<Observation> = {}
): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: observationCategory(category),
    code: { coding: [{ system: 'http://loinc.org', code: category === 'laboratory' ? '2339-0' : '8867-4' }] },
    subject: { reference: `Patient/${patient}` },
    effectiveDateTime: effective,
    valueQuantity: { value: 70, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    ...extra,
  };
}

export function relationship(
  patient: string,
  member: string,
  type: 'one-off' | 'temporary' | 'permanent',
  period: { start?: string; end?: string } = { start: '2020-01-01' }
): CareTeam {
  return {
    resourceType: 'CareTeam',
    status: 'active',
    category: [{ coding: [{ system: RELATIONSHIP_SYSTEM, code: type }] }],
    subject: { reference: `Patient/${patient}` },
    participant: [{ member: { reference: member }, period }],
    period,
  };
}

export interface ShareInput {
  patient: string;
  actor: ConsentProvisionActor['reference'] | undefined;
  categories?: string[];
  actions?: string[];
  period?: { start?: string; end?: string };
  dataPeriod?: { start?: string; end?: string };
  instances?: string[];
  denySecurity?: string[];
  scope?: 'patient-privacy' | 'research';
  guardian?: boolean;
  form?: 'provision-type' | 'policy-rule';
}

/** A sharing Consent in Hale's profile (root provision.type permit, or the policyRule OPTIN form). */
export function sharingConsent(i: ShareInput): Consent {
  const scope = i.scope ?? 'patient-privacy';
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: CONSENT_SCOPE_SYSTEM, code: scope }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${i.patient}` },
    dateTime: '2026-01-01T00:00:00Z',
    ...(i.form === 'policy-rule'
      ? { policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] } }
      : { policy: [{ uri: 'https://hale.health/fhir/policy/patient-directed-sharing' }] }),
    provision: {
      ...(i.form === 'policy-rule' ? {} : { type: 'permit' as const }),
      period: i.period ?? { start: '2020-01-01' },
      ...(i.actor
        ? {
            actor: [
              {
                role: {
                  coding: i.guardian
                    ? [{ system: ROLE_CODE_SYSTEM, code: 'GUARD' }]
                    : [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }],
                },
                reference: i.actor,
              },
            ],
          }
        : {}),
      action: (i.actions ?? ['access']).map((code) => ({
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code }],
      })),
      ...(i.categories ? { class: i.categories.map((code) => ({ system: CATEGORY_SYSTEM, code })) } : {}),
      ...(i.dataPeriod ? { dataPeriod: i.dataPeriod } : {}),
      ...(i.instances
        ? { data: i.instances.map((reference) => ({ meaning: 'instance' as const, reference: { reference } })) }
        : {}),
      ...(i.denySecurity
        ? {
            provision: [
              {
                type: 'deny' as const,
                securityLabel: i.denySecurity.map((code) => ({
                  system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
                  code,
                })),
              },
            ],
          }
        : {}),
    },
  };
}
