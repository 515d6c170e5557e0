import type {
  CareTeam,
  Consent,
  Organization,
  Period,
  Practitioner,
  PractitionerRole,
  Reference,
} from '@medplum/fhirtypes';
import type { Category, RelationshipType } from '../../access/consent/vocabulary';
import {
  CARETEAM_PROFILE,
  CATEGORIES,
  CATEGORY_SYSTEM,
  CONSENT_ACTION_SYSTEM,
  CONSENT_PROFILE,
  CONSENT_SCOPE_SYSTEM,
  FAVORITE_EXTENSION,
  HALE_FHIR,
  RELATIONSHIP_SYSTEM,
  RELATIONSHIP_TYPES,
} from '../../access/consent/vocabulary';
import { invalid } from './parameters';

/** Consent.policy of a share made through Hale: the patient's own decision under Hale's terms. */
export const SHARING_POLICY_URI = `${HALE_FHIR}/policy/patient-directed-sharing`;
const PARTICIPATION_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const DAY_MS = 24 * 60 * 60 * 1000;
/** How long a share lasts when neither period nor duration is given (permanent: until revoked). */
const DEFAULT_DAYS: Record<RelationshipType, number | undefined> = {
  'one-off': 1,
  temporary: 30,
  permanent: undefined,
};
const MAX_DAYS = 3650;

export function relationshipType(code: string | undefined, parameter = 'type'): RelationshipType {
  if (!(RELATIONSHIP_TYPES as readonly string[]).includes(code ?? '')) {
    throw invalid(`Parameter '${parameter}' must be one of ${RELATIONSHIP_TYPES.join(', ')}`);
  }
  return code as RelationshipType;
}

export function categories(codes: readonly string[]): Category[] {
  for (const code of codes) {
    if (!(CATEGORIES as readonly string[]).includes(code)) {
      throw invalid(`Unknown category '${code}': use ${CATEGORIES.join(', ')} (${CATEGORY_SYSTEM})`);
    }
  }
  return [...new Set(codes as Category[])];
}

/**
 * When a share (or a requested share) is in force: the given period, or `duration` days from now,
 * or the relationship type's default. Its end must be in the future and after its start.
 */
export function sharingPeriod(
  type: RelationshipType | undefined,
  period: Period | undefined,
  durationDays: number | undefined,
  now: number
): Period {
  if (period && durationDays !== undefined) {
    throw invalid("Give either 'period' or 'duration', not both");
  }
  if (durationDays !== undefined && (durationDays < 1 || durationDays > MAX_DAYS)) {
    throw invalid(`Parameter 'duration' must be a number of days from 1 to ${MAX_DAYS}`);
  }
  const start = new Date(now).toISOString();
  if (period) {
    const from = period.start ? Date.parse(period.start) : now;
    const to = period.end ? Date.parse(period.end) : undefined;
    if (to !== undefined && (to <= now || to <= from)) {
      throw invalid("The 'period' must end in the future and after it starts");
    }
    return { start: period.start ?? start, ...(period.end ? { end: period.end } : {}) };
  }
  const days = durationDays ?? (type ? DEFAULT_DAYS[type] : undefined);
  return days === undefined ? { start } : { start, end: new Date(now + days * DAY_MS).toISOString() };
}

export interface ShareDecision {
  patientId: string;
  actor: Reference<Practitioner | PractitionerRole | Organization>;
  type: RelationshipType;
  period: Period;
  categories: Category[];
  instances: Reference[];
  dataPeriod?: Period;
  action: 'access' | 'correct';
  favorite: boolean;
}

/** The relationship (CareTeam, Hale's hale-relationship profile) between the patient and the actor. */
export function relationshipResource(d: ShareDecision): CareTeam {
  return {
    resourceType: 'CareTeam',
    meta: { profile: [CARETEAM_PROFILE] },
    ...(d.favorite ? { extension: [{ url: FAVORITE_EXTENSION, valueBoolean: true }] } : {}),
    status: 'active',
    category: [{ coding: [{ system: RELATIONSHIP_SYSTEM, code: d.type }] }],
    subject: { reference: `Patient/${d.patientId}` },
    participant: [{ member: d.actor, period: d.period }],
    period: d.period,
  };
}

/** The sharing Consent (hale-sharing-consent) granting the relationship's members what the patient chose. */
export function consentResource(d: ShareDecision, careTeamId: string, now: string): Consent {
  const actions = d.action === 'correct' ? ['access', 'correct'] : ['access'];
  return {
    resourceType: 'Consent',
    meta: { profile: [CONSENT_PROFILE] },
    status: 'active',
    scope: { coding: [{ system: CONSENT_SCOPE_SYSTEM, code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${d.patientId}` },
    dateTime: now,
    // R4 invariant ppc-1: a Consent names its policy (a URI here) or a policyRule.
    policy: [{ uri: SHARING_POLICY_URI }],
    provision: {
      type: 'permit',
      period: d.period,
      actor: [
        {
          role: { coding: [{ system: PARTICIPATION_TYPE_SYSTEM, code: 'IRCP' }] },
          reference: { reference: `CareTeam/${careTeamId}` },
        },
      ],
      action: actions.map((code) => ({ coding: [{ system: CONSENT_ACTION_SYSTEM, code }] })),
      ...(d.categories.length ? { class: d.categories.map((code) => ({ system: CATEGORY_SYSTEM, code })) } : {}),
      ...(d.dataPeriod ? { dataPeriod: d.dataPeriod } : {}),
      ...(d.instances.length
        ? { data: d.instances.map((reference) => ({ meaning: 'instance' as const, reference })) }
        : {}),
    },
  };
}
