import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { CareTeam, Consent, OperationDefinition, Parameters, Period } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import type { HaleRepository } from '../../storage/repository';
import { OperationInput } from './parameters';

export const revokeShareOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Consent-revoke-share',
  url: `${HALE_FHIR}/OperationDefinition/Consent-revoke-share`,
  name: 'RevokeShare',
  title: 'Stop sharing',
  status: 'active',
  kind: 'operation',
  code: 'revoke-share',
  description:
    'The patient (or their guardian) ends a share: the Consent becomes inactive with its provision period ending now, ' +
    'and each CareTeam it names becomes inactive (period ending now) unless another active Consent still names it. ' +
    "In force for the grantee's very next request. Revoking an inactive Consent changes nothing.",
  resource: ['Consent'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'consent', use: 'out', min: 1, max: '1', type: 'Consent' },
    { name: 'careTeam', use: 'out', min: 0, max: '*', type: 'CareTeam' },
  ],
};

/** POST Consent/{id}/$revoke-share (no input parameters). */
export async function revokeShareHandler(req: FhirRequest, repo: HaleRepository): Promise<FhirResponse> {
  OperationInput.parse(revokeShareOperation, req.body);
  const id = req.params.id as string;
  const now = new Date().toISOString();
  return repo.withTransaction(async (tx) => {
    const current = await tx.readResource<Consent>('Consent', id); // 404 unless the caller may see it
    if (current.status !== 'active') {
      return [allOk, result(current, [])];
    }
    const consent = await tx.updateResource<Consent>({
      ...current,
      status: 'inactive',
      provision: { ...current.provision, period: ended(current.provision?.period, now) },
    });
    const teams: CareTeam[] = [];
    for (const teamId of careTeamIds(consent)) {
      const others = await tx.search<Consent>({
        resourceType: 'Consent',
        filters: [
          { code: 'actor', operator: 'eq', value: `CareTeam/${teamId}` },
          { code: 'status', operator: 'eq', value: 'active' },
        ],
        count: 1,
      });
      if ((others.entry ?? []).length > 0) {
        continue;
      }
      const team = await tx.readResource<CareTeam>('CareTeam', teamId);
      if (team.status !== 'active') {
        continue;
      }
      teams.push(
        await tx.updateResource<CareTeam>({
          ...team,
          status: 'inactive',
          period: ended(team.period, now),
          participant: team.participant?.map((p) => ({ ...p, period: ended(p.period, now) })),
        })
      );
    }
    return [allOk, result(consent, teams)];
  });
}

function careTeamIds(consent: Consent): string[] {
  const ids = (consent.provision?.actor ?? [])
    .map((a) => /^(?:.*\/)?CareTeam\/([A-Za-z0-9\-.]{1,64})$/.exec(a.reference.reference ?? '')?.[1])
    .filter((x): x is string => x !== undefined);
  return [...new Set(ids)];
}

/** The period, ending now unless it already ended earlier. */
function ended(period: Period | undefined, now: string): Period {
  if (period?.end && Date.parse(period.end) <= Date.parse(now)) {
    return period;
  }
  // A period that had not started yet ends before it starts: keep it valid (start ≤ end).
  const start = period?.start && Date.parse(period.start) > Date.parse(now) ? now : period?.start;
  return { ...(start ? { start } : {}), end: now };
}

function result(consent: Consent, teams: CareTeam[]): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [{ name: 'consent', resource: consent }, ...teams.map((team) => ({ name: 'careTeam', resource: team }))],
  };
}
