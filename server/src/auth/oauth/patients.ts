import { Operator, formatHumanName } from '@medplum/core';
import type { Filter } from '@medplum/core';
import type { Patient } from '@medplum/fhirtypes';
import { GrantSet } from '../../access/consent/grant-set';
import { loadGrants } from '../../access/consent/grants';
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
 * The patients who currently share something with this provider (their Consents in force), so
 * the picker never lists, or lets anyone probe, the names of other people.
 */
async function sharingPatientIds(deps: AuthDeps, account: Account): Promise<string[]> {
  const repo = deps.systemRepository();
  const now = Date.now();
  const loaded = await loadGrants(
    repo.ctx,
    {
      accountId: account.id,
      fhirUser: account.profile ? `${account.profile.type}/${account.profile.id}` : undefined,
      clientId: '',
      research: false,
    },
    now
  );
  return new GrantSet(loaded.grants, loaded.keys, now, repo.ctx.searchParams).patientIds();
}

/** Patients a provider may pick for a standalone launch: those sharing with them, searched by name. */
export async function pickablePatients(
  deps: AuthDeps,
  account: Account,
  query: string
): Promise<{ id: string; name: string }[]> {
  const ids = await sharingPatientIds(deps, account);
  if (ids.length === 0) {
    return [];
  }
  const filters: Filter[] = [{ code: '_id', operator: Operator.EQUALS, value: ids.join(',') }];
  if (query.trim()) {
    filters.push({ code: 'name', operator: Operator.EQUALS, value: query.trim() });
  }
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
export async function patientPickable(deps: AuthDeps, account: Account, id: string): Promise<boolean> {
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id) || !(await sharingPatientIds(deps, account)).includes(id)) {
    return false;
  }
  const bundle = await deps.systemRepository().search<Patient>({
    resourceType: 'Patient',
    filters: [{ code: '_id', operator: Operator.EQUALS, value: id }],
    count: 1,
  });
  return (bundle.entry?.length ?? 0) > 0;
}
