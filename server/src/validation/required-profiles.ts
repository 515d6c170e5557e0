import type { Resource } from '@medplum/fhirtypes';
import type { AccessTokenClaims } from '../auth/types';
import { MEASUREMENTS, measurementsOf } from '../wellness/measurements';
import { RECORD_PROFILES, recordProfilesOf } from '../wellness/records';

/**
 * The Hale profiles a resource must conform to when a patient app writes it, by resource type: an Observation
 * with a measurement code must be that measurement's profile (so a blood pressure reading has its systolic and
 * diastolic components), a food log, activity, symptom, insight or lab result its record profile, and a Goal,
 * CarePlan or lab DiagnosticReport theirs (wellness/records.ts). Other callers (EHR imports with system tokens,
 * providers) are held only to the profiles they claim in meta.profile.
 */
const SELECTORS: Readonly<Record<string, (resource: Resource) => string[]>> = {
  // A measurement's profile is the more specific one: a glucose reading (category laboratory) is held to
  // hale-blood-glucose, not to hale-lab-result as well.
  Observation: (resource) => {
    const measurements = measurementsOf(resource.resourceType === 'Observation' ? resource.code : undefined);
    return measurements.length > 0 ? measurements.map((m) => m.profile) : recordProfilesOf(resource);
  },
  Goal: recordProfilesOf,
  CarePlan: recordProfilesOf,
  DiagnosticReport: recordProfilesOf,
};

/** Every profile a selector can name (for an update's stamped claims, below). */
const SELECTABLE: ReadonlySet<string> = new Set([
  ...MEASUREMENTS.map((m) => m.profile),
  ...Object.values(RECORD_PROFILES),
]);

/** The resource types REQUIRE_PROFILES may name. */
export const PROFILED_TYPES: readonly string[] = Object.keys(SELECTORS);

/** A patient app: a token with patient/ scopes, or a patient signed in (fhirUser Patient/…). */
export function isPatientApp(caller: AccessTokenClaims | undefined): boolean {
  if (!caller) {
    return false;
  }
  return (
    Boolean(caller.fhirUser?.startsWith('Patient/')) || caller.scope.split(' ').some((s) => s.startsWith('patient/'))
  );
}

/**
 * Pre-write step: when the caller is a patient app and REQUIRE_PROFILES names the type, the profiles the
 * resource must conform to join its meta.profile, so validation (next) checks them and reports each failing
 * element; the stored resource then says which profile it conforms to. Not when the repository skips
 * validation (a trusted bulk load): a profile claimed without being checked would be a false claim.
 */
export function requireProfiles(
  resource: Resource,
  ctx: { validate: boolean; requireProfiles?: readonly string[]; caller?: AccessTokenClaims }
): void {
  const select = SELECTORS[resource.resourceType];
  if (!select || !ctx.validate || !ctx.requireProfiles?.includes(resource.resourceType) || !isPatientApp(ctx.caller)) {
    return;
  }
  const required = select(resource);
  const meta = resource.meta;
  const claimed: unknown = meta?.profile;
  if (claimed !== undefined && !Array.isArray(claimed)) {
    // A malformed meta.profile is the validator's to report.
    return;
  }
  // On an update, a selectable Hale profile the content no longer selects was stamped by an earlier write (a
  // lab result recategorised to vital-signs stops being a hale-lab-result): it follows the content, or the
  // app's own read-modify-write would be refused. A create keeps every claim, so a wrong one is still refused.
  const isUpdate = meta?.versionId !== undefined && meta.versionId !== '1';
  const kept = ((claimed as unknown[] | undefined) ?? []).filter(
    (url) => !isUpdate || typeof url !== 'string' || !SELECTABLE.has(url) || required.includes(url)
  );
  const profiles = [...kept, ...required.filter((url) => !kept.includes(url))];
  if (profiles.length === kept.length && kept.length === ((claimed as unknown[] | undefined) ?? []).length) {
    return;
  }
  if (profiles.length > 0) {
    resource.meta = { ...meta, profile: profiles as string[] };
  } else {
    const { profile: _dropped, ...rest } = meta ?? {};
    resource.meta = rest;
  }
}
