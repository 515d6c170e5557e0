import type { Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import type { HaleRepository } from '../storage/repository';
import { RULES, refused } from './rules';
import { searchAll } from './store';

const PROVIDER = /^(Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/;

/**
 * Whether a provider is listed in the marketplace, the only providers a patient may send a visit
 * request to. The marketplace's listing is a PractitionerRole (issue 16: PractitionerRole +
 * HealthcareService + Location), so a provider is listed when it is an active PractitionerRole of
 * an active Practitioner, or an active Practitioner with at least one such role. When the listing
 * profile adds "accepting new patients", this is the one place that reads it.
 */
export async function isListed(system: HaleRepository, reference: string): Promise<boolean> {
  if (!PROVIDER.test(reference)) {
    return false;
  }
  const [type, id] = reference.split('/') as [string, string];
  const found = await system.readReference<Practitioner | PractitionerRole>({ reference }).catch(() => undefined);
  if (!found || found.active === false) {
    return false;
  }
  if (type === 'PractitionerRole') {
    const practitioner = (found as PractitionerRole).practitioner;
    if (!practitioner?.reference) {
      return true;
    }
    const person = await system.readReference<Practitioner>(practitioner).catch(() => undefined);
    return person !== undefined && person.active !== false;
  }
  const roles = await searchAll<PractitionerRole>(system, `PractitionerRole?practitioner=Practitioner/${id}`);
  return roles.some((r) => r.active !== false);
}

/** Refuses (422 provider-not-listed) a provider the marketplace does not list. */
export async function assertListed(system: HaleRepository, reference: string): Promise<void> {
  if (!(await isListed(system, reference))) {
    throw refused(
      RULES.providerNotListed,
      'Visit requests go to a provider listed in the marketplace (an active PractitionerRole)'
    );
  }
}
