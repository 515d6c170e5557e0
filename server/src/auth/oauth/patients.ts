import { Operator, formatHumanName } from '@medplum/core';
import type { Filter } from '@medplum/core';
import type { Patient } from '@medplum/fhirtypes';
import type { AuthDeps } from '../deps';
import type { Account } from '../types';

/** Who may choose a patient record for an app: the clinical roles (a patient's own record is chosen for them). */
export function canPickPatient(account: Account): boolean {
  return (
    account.profile?.type !== 'Patient' && account.roles.some((r) => r === 'provider' || r === 'medical-assistant')
  );
}

const PAGE = 20;

/**
 * Patients a provider may pick for a standalone launch. For now every Patient, searched by
 * name; Consent-driven access will narrow this to the provider's own patients.
 */
export async function pickablePatients(deps: AuthDeps, query: string): Promise<{ id: string; name: string }[]> {
  const filters: Filter[] = query.trim() ? [{ code: 'name', operator: Operator.EQUALS, value: query.trim() }] : [];
  const bundle = await deps.systemRepository().search<Patient>({
    resourceType: 'Patient',
    filters,
    count: PAGE,
    sortRules: [{ code: 'name' }],
  });
  return (bundle.entry ?? [])
    .map((e) => e.resource)
    .filter((p): p is Patient & { id: string } => p?.id !== undefined)
    .map((p) => ({ id: p.id, name: (p.name?.[0] && formatHumanName(p.name[0])) || `Patient ${p.id}` }));
}

/** Whether a picked patient id is one the provider could have picked. */
export async function patientPickable(deps: AuthDeps, id: string): Promise<boolean> {
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) {
    return false;
  }
  const bundle = await deps.systemRepository().search<Patient>({
    resourceType: 'Patient',
    filters: [{ code: '_id', operator: Operator.EQUALS, value: id }],
    count: 1,
  });
  return (bundle.entry?.length ?? 0) > 0;
}
