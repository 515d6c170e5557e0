/**
 * The Consent workload's data: light extra patients (to reach the 1,000), the providers,
 * and ~5 sharing Consents per patient in Hale's profile shape — half direct to the Practitioner,
 * half through a relationship CareTeam — all as transaction bundles of at most 100 entries.
 */
import type { Bundle, BundleEntry, CareTeam, Consent, Observation, Patient, Practitioner } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { pick, random } from './stats';

// Hale's sharing vocabulary (server/src/access/consent/vocabulary.ts); the bench talks to Hale only over HTTP.
const HALE_FHIR = 'https://hale.health/fhir';
const CATEGORY_SYSTEM = `${HALE_FHIR}/CodeSystem/data-category`;
const RELATIONSHIP_SYSTEM = `${HALE_FHIR}/CodeSystem/relationship-type`;
const CONSENT_SCOPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentscope';
const CONSENT_ACTION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentaction';
const OBSERVATION_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/observation-category';

export const SHARED_CATEGORIES = ['medications', 'labs', 'vitals', 'medical-history', 'care-plans', 'documents'];
export const ENTRIES_PER_BUNDLE = 100;
const DATA_PERIOD_SHARE = 0.25;

export type Relationship = 'permanent' | 'temporary';

/** One sharing decision: a patient shares some categories with one provider. */
export interface Share {
  readonly patientId: string;
  readonly provider: number;
  readonly categories: readonly string[];
  /** Whole calendar years of data (Consent.provision.dataPeriod). */
  readonly dataPeriod?: { readonly start: string; readonly end: string };
  /** Shared through a relationship CareTeam of this type; undefined: the Consent names the Practitioner. */
  readonly relationship?: Relationship;
  /** A pair the bench measures: vitals shared, no dataPeriod, a patient with the full generated record. */
  readonly measured: boolean;
}

export interface SharingPlanInput {
  /** Server ids of every patient; the first `fullRecords` have the generated ~300-resource records. */
  readonly patientIds: readonly string[];
  readonly fullRecords: number;
  /** Full-record patients the measured searches match; only they are measured. */
  readonly measurable: ReadonlySet<string>;
  readonly providers: number;
  readonly perPatient: number;
  /** Providers 0..signedIn-1 each get `pairsPerProvider` measured shares (as far as full records allow). */
  readonly signedIn: number;
  readonly pairsPerProvider: number;
  readonly seed: number;
}

const entry = (resource: BundleEntry['resource'], fullUrl = `urn:uuid:${randomUUID()}`): BundleEntry => ({
  fullUrl,
  resource,
  request: { method: 'POST', url: resource?.resourceType ?? '' },
});

export const transaction = (entries: BundleEntry[]): string =>
  JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries } satisfies Bundle);

/** Groups entries, keeping each group whole, into transaction bundles of at most ENTRIES_PER_BUNDLE entries. */
function bundled(groups: readonly BundleEntry[][]): string[] {
  const out: string[] = [];
  let current: BundleEntry[] = [];
  for (const group of groups) {
    if (current.length + group.length > ENTRIES_PER_BUNDLE) {
      out.push(transaction(current));
      current = [];
    }
    current.push(...group);
  }
  return current.length > 0 ? [...out, transaction(current)] : out;
}

const VITALS: readonly { code: string; unit: string; low: number; high: number }[] = [
  { code: '8867-4', unit: '/min', low: 55, high: 100 },
  { code: '9279-1', unit: '/min', low: 12, high: 20 },
  { code: '8310-5', unit: 'Cel', low: 36.1, high: 37.4 },
  { code: '29463-7', unit: 'kg', low: 50, high: 110 },
];

/** A Patient and one reading of each of four vital signs, in 2024–2025. */
function lightPatient(index: number, next: () => number): BundleEntry[] {
  const patientUrl = `urn:uuid:${randomUUID()}`;
  const patient: Patient = {
    resourceType: 'Patient',
    name: [{ family: `Sharer${index}`, given: ['Bench'] }],
    gender: next() < 0.5 ? 'female' : 'male',
    birthDate: `19${50 + Math.floor(next() * 50)}-06-15`,
  };
  const observations = VITALS.map((v): Observation => {
    const effective = new Date(Date.parse('2024-01-01T00:00:00Z') + Math.floor(next() * 730) * 86_400_000);
    return {
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: OBSERVATION_CATEGORY_SYSTEM, code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: v.code }] },
      subject: { reference: patientUrl },
      effectiveDateTime: effective.toISOString(),
      valueQuantity: {
        value: Math.round((v.low + next() * (v.high - v.low)) * 10) / 10,
        unit: v.unit,
        system: 'http://unitsofmeasure.org',
        code: v.unit,
      },
    };
  });
  return [entry(patient, patientUrl), ...observations.map((o) => entry(o))];
}

export function lightPatientBundles(count: number, seed: number): string[] {
  const next = random(seed);
  return bundled(Array.from({ length: count }, (_, i) => lightPatient(i, next)));
}

export function practitionerBundles(count: number): string[] {
  return bundled(
    Array.from({ length: count }, (_, i) => {
      const practitioner: Practitioner = {
        resourceType: 'Practitioner',
        active: true,
        name: [{ family: `Provider${i}`, given: ['Bench'], prefix: ['Dr.'] }],
      };
      return [entry(practitioner)];
    })
  );
}

function randomShare(patientId: string, provider: number, next: () => number, measured: boolean): Share {
  const categories = pick(SHARED_CATEGORIES, 1 + Math.floor(next() * 3), Math.floor(next() * 2 ** 31));
  const year = 2023 + Math.floor(next() * 3);
  const dataPeriod =
    !measured && next() < DATA_PERIOD_SHARE ? { start: `${year}-01-01`, end: `${year}-12-31` } : undefined;
  const via = next();
  return {
    patientId,
    provider,
    categories: measured && !categories.includes('vitals') ? ['vitals', ...categories.slice(1)] : categories,
    dataPeriod,
    relationship: via < 0.25 ? 'permanent' : via < 0.5 ? 'temporary' : undefined,
    measured,
  };
}

/**
 * Every patient shares with `perPatient` distinct random providers. The measured pairs come first:
 * full-record patients, in random order, each share vitals with one signed-in provider, round robin.
 */
export function sharingPlan(input: SharingPlanInput): Share[] {
  const next = random(input.seed);
  const full = pick(
    input.patientIds.slice(0, input.fullRecords).filter((id) => input.measurable.has(id)),
    input.signedIn * input.pairsPerProvider,
    input.seed + 1
  );
  const measuredWith = new Map(full.map((id, i) => [id, i % input.signedIn]));
  const providers = Array.from({ length: input.providers }, (_, i) => i);
  const shares: Share[] = [];
  for (const patientId of input.patientIds) {
    const forced = measuredWith.get(patientId);
    const chosen = pick(providers, input.perPatient + 1, Math.floor(next() * 2 ** 31)).filter((p) => p !== forced);
    const others = chosen.slice(0, input.perPatient - (forced === undefined ? 0 : 1));
    if (forced !== undefined) {
      shares.push(randomShare(patientId, forced, next, true));
    }
    shares.push(...others.map((p) => randomShare(patientId, p, next, false)));
  }
  return shares;
}

/** Today + one year: temporary relationships are current for the whole run. */
function temporaryEnd(): string {
  return new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
}

function sharingConsent(share: Share, actor: string): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: CONSENT_SCOPE_SYSTEM, code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${share.patientId}` },
    dateTime: new Date().toISOString(),
    policy: [{ uri: `${HALE_FHIR}/policy/patient-directed-sharing` }],
    provision: {
      type: 'permit',
      period: { start: '2020-01-01' },
      actor: [
        {
          role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
          reference: { reference: actor },
        },
      ],
      action: [{ coding: [{ system: CONSENT_ACTION_SYSTEM, code: 'access' }] }],
      class: share.categories.map((code) => ({ system: CATEGORY_SYSTEM, code })),
      ...(share.dataPeriod ? { dataPeriod: share.dataPeriod } : {}),
    },
  };
}

function relationshipTeam(share: Share, practitioner: string, relationship: Relationship): CareTeam {
  const period = relationship === 'permanent' ? { start: '2020-01-01' } : { start: '2025-06-01', end: temporaryEnd() };
  return {
    resourceType: 'CareTeam',
    status: 'active',
    category: [{ coding: [{ system: RELATIONSHIP_SYSTEM, code: relationship }] }],
    subject: { reference: `Patient/${share.patientId}` },
    participant: [{ member: { reference: practitioner }, period }],
    period,
  };
}

/** The shares as transaction bundles: a Consent naming the Practitioner, or a CareTeam and a Consent naming it. */
export function sharingBundles(shares: readonly Share[], practitionerIds: readonly string[]): string[] {
  return bundled(
    shares.map((share) => {
      const practitioner = `Practitioner/${practitionerIds[share.provider]}`;
      if (!share.relationship) {
        return [entry(sharingConsent(share, practitioner))];
      }
      const teamUrl = `urn:uuid:${randomUUID()}`;
      return [
        entry(relationshipTeam(share, practitioner, share.relationship), teamUrl),
        entry(sharingConsent(share, teamUrl)),
      ];
    })
  );
}
