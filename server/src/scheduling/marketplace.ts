import type { Appointment, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { LISTING_EXTENSIONS } from '../marketplace/vocabulary';
import { activeRelationship } from '../messaging/relationship';
import type { HaleRepository } from '../storage/repository';
import { RULES, refused } from './rules';
import { searchAll } from './store';

const PROVIDER = /^(Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/;

/** A visit that makes a patient the provider's own: one that happened or is under way. */
const VISIT_STATUSES = ['booked', 'arrived', 'checked-in', 'fulfilled'];

/** The provider's listings (its PractitionerRole, or a Practitioner's active roles), when it is listed at all. */
async function listingsOf(system: HaleRepository, reference: string): Promise<PractitionerRole[] | undefined> {
  if (!PROVIDER.test(reference)) {
    return undefined;
  }
  const [type, id] = reference.split('/') as [string, string];
  const found = await system.readReference<Practitioner | PractitionerRole>({ reference }).catch(() => undefined);
  if (!found || found.active === false) {
    return undefined;
  }
  if (type === 'PractitionerRole') {
    const practitioner = (found as PractitionerRole).practitioner;
    if (practitioner?.reference) {
      const person = await system.readReference<Practitioner>(practitioner).catch(() => undefined);
      if (person === undefined || person.active === false) {
        return undefined;
      }
    }
    return [found as PractitionerRole];
  }
  const roles = await searchAll<PractitionerRole>(system, `PractitionerRole?practitioner=Practitioner/${id}`);
  const active = roles.filter((r) => r.active !== false);
  return active.length > 0 ? active : undefined;
}

/** Whether a listing takes on new patients: its accepting-new-patients extension, absent meaning yes (ADR 0010). */
export function acceptsNewPatients(role: PractitionerRole): boolean {
  const flag = (role.extension ?? []).find((e) => e.url === LISTING_EXTENSIONS.acceptingNewPatients);
  return flag?.valueBoolean !== false;
}

/**
 * Whether the patient is already the provider's: a Consent or CareTeam that shares their record with the provider
 * (or the role's Practitioner), or a visit with them that happened or is booked.
 */
async function existingRelationship(system: HaleRepository, role: PractitionerRole, patientId: string) {
  const providers = [`PractitionerRole/${role.id}`, role.practitioner?.reference].filter(
    (r): r is string => r !== undefined && PROVIDER.test(r)
  );
  const deps = { db: system.queryable, searchParams: system.ctx.searchParams, baseUrl: system.ctx.baseUrl };
  for (const provider of providers) {
    if (await activeRelationship(deps, provider, patientId, Date.now())) {
      return true;
    }
    const visits = await searchAll<Appointment>(
      system,
      `Appointment?actor=${provider}&patient=Patient/${patientId}&status=${VISIT_STATUSES.join(',')}&_count=1`
    );
    if (visits.length > 0) {
      return true;
    }
  }
  return false;
}

/**
 * Whether a provider is listed in the marketplace, the only providers a patient may send a visit
 * request to. The marketplace's listing is a PractitionerRole (issue 16: PractitionerRole +
 * HealthcareService + Location), so a provider is listed when it is an active PractitionerRole of
 * an active Practitioner, or an active Practitioner with at least one such role. With `patientId`, the listing
 * must also take that patient: a role not accepting new patients takes only patients already theirs.
 */
export async function isListed(system: HaleRepository, reference: string, patientId?: string): Promise<boolean> {
  return (await listingStatus(system, reference, patientId)) === 'listed';
}

async function listingStatus(
  system: HaleRepository,
  reference: string,
  patientId: string | undefined
): Promise<'listed' | 'not-listed' | 'not-accepting'> {
  const roles = await listingsOf(system, reference);
  if (!roles) {
    return 'not-listed';
  }
  if (patientId === undefined || roles.some(acceptsNewPatients)) {
    return 'listed';
  }
  for (const role of roles) {
    if (await existingRelationship(system, role, patientId)) {
      return 'listed';
    }
  }
  return 'not-accepting';
}

/**
 * Refuses (422 provider-not-listed) a provider the marketplace does not list, and (422 not-accepting-new-patients)
 * one that takes no new patients when the patient is not already theirs.
 */
export async function assertListed(system: HaleRepository, reference: string, patientId?: string): Promise<void> {
  const status = await listingStatus(system, reference, patientId);
  if (status === 'not-listed') {
    throw refused(
      RULES.providerNotListed,
      'Visit requests go to a provider listed in the marketplace (an active PractitionerRole)'
    );
  }
  if (status === 'not-accepting') {
    throw refused(
      RULES.notAcceptingNewPatients,
      'This provider is not taking new patients; only patients they already see may send a visit request'
    );
  }
}
