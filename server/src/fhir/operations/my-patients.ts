import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type {
  CareTeam,
  Consent,
  OperationDefinition,
  Parameters,
  ParametersParameter,
  Patient,
} from '@medplum/fhirtypes';
import { callerGrants } from '../../access/caller-policy';
import type { Grant } from '../../access/consent/model';
import { covers } from '../../access/consent/model';
import { isOrderGrant } from '../../access/consent/order-grants';
import { actionCodes } from '../../access/consent/provisions';
import { CATEGORY_SYSTEM, FAVORITE_EXTENSION, HALE_FHIR } from '../../access/consent/vocabulary';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { callerOf, providerOf } from './context';
import { OperationInput } from './parameters';

export const myPatientsOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Practitioner-my-patients',
  url: `${HALE_FHIR}/OperationDefinition/Practitioner-my-patients`,
  name: 'MyPatients',
  title: 'Patients who share with me',
  status: 'active',
  kind: 'operation',
  code: 'my-patients',
  affectsState: false,
  description:
    'For the calling provider (fhirUser Practitioner or PractitionerRole): every patient who currently shares ' +
    'anything with them (directly, through their roles and organizations, through a relationship, or by their own ' +
    'break-glass declaration): one `patient` parameter per patient, the Patient itself when the caller may read it, ' +
    'and one `share` part per grant saying what (category, resource, dataPeriod, action), how (relationship, ' +
    'favorite, basis) and until when (end; none: until revoked). Favorites come first.',
  resource: ['Practitioner'],
  system: false,
  type: true,
  instance: false,
  parameter: [
    {
      name: 'patient',
      use: 'out',
      min: 0,
      max: '*',
      part: [
        { name: 'patient', use: 'out', min: 1, max: '1', type: 'Reference' },
        { name: 'resource', use: 'out', min: 0, max: '1', type: 'Patient' },
        {
          name: 'share',
          use: 'out',
          min: 1,
          max: '*',
          part: [
            { name: 'basis', use: 'out', min: 1, max: '1', type: 'string' },
            { name: 'consent', use: 'out', min: 0, max: '1', type: 'Reference' },
            { name: 'relationship', use: 'out', min: 0, max: '1', type: 'code' },
            { name: 'careTeam', use: 'out', min: 0, max: '1', type: 'Reference' },
            { name: 'favorite', use: 'out', min: 1, max: '1', type: 'boolean' },
            { name: 'category', use: 'out', min: 0, max: '*', type: 'code' },
            { name: 'resource', use: 'out', min: 0, max: '*', type: 'Reference' },
            { name: 'dataPeriod', use: 'out', min: 0, max: '1', type: 'Period' },
            { name: 'action', use: 'out', min: 0, max: '*', type: 'code' },
            { name: 'start', use: 'out', min: 0, max: '1', type: 'dateTime' },
            { name: 'end', use: 'out', min: 0, max: '1', type: 'dateTime' },
          ],
        },
      ],
    },
  ],
};

/** GET or POST Practitioner/$my-patients (no input parameters). */
export async function myPatientsHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const caller = callerOf(repo);
  const fhirUser = providerOf(caller);
  if (req.method === 'POST') {
    OperationInput.parse(myPatientsOperation, req.body);
  }
  const now = Date.now();
  // The same cached grants the request's access policy was built from (research opt-ins left out).
  const { grants } = await callerGrants({ ...caller, fhirUser }, repo.ctx, deps.accessCache, false, now);
  const current = grants.filter((g) => g.read && covers(g.valid, now));
  const system = deps.systemRepository();
  const consents = await readAll<Consent>(
    system,
    current
      .map((g) => consentId(g))
      .filter(isString)
      .map((id) => `Consent/${id}`)
  );
  const teams = await readAll<CareTeam>(
    system,
    [...consents.values()]
      .flatMap((c) => (c.provision?.actor ?? []).map((a) => a.reference.reference ?? ''))
      .filter((r) => r.startsWith('CareTeam/'))
  );
  const patientIds = [...new Set(current.map((g) => g.patientId))];
  const patients = await readAll<Patient>(
    repo,
    patientIds.map((id) => `Patient/${id}`)
  );
  const entries = patientIds.map((patientId) => {
    const shares = current
      .filter((g) => g.patientId === patientId)
      .map((g) => describe(g, consents.get(`Consent/${consentId(g) ?? ''}`), teams));
    const patient = patients.get(`Patient/${patientId}`);
    const favorite = shares.some((s) => s.favorite);
    const param: ParametersParameter = {
      name: 'patient',
      part: [
        { name: 'patient', valueReference: { reference: `Patient/${patientId}` } },
        ...(patient ? [{ name: 'resource', resource: patient }] : []),
        ...shares.map((s) => s.part),
      ],
    };
    return { favorite, param };
  });
  entries.sort((a, b) => Number(b.favorite) - Number(a.favorite));
  const out: Parameters = { resourceType: 'Parameters', parameter: entries.map((e) => e.param) };
  return [allOk, out];
}

function describe(
  grant: Grant,
  consent: Consent | undefined,
  teams: Map<string, CareTeam>
): { favorite: boolean; part: ParametersParameter } {
  const provision = consent?.provision;
  const team = (provision?.actor ?? [])
    .map((a) => teams.get(a.reference.reference ?? ''))
    .find((t): t is CareTeam => t !== undefined && t.subject?.reference === `Patient/${grant.patientId}`);
  const favorite = (team?.extension ?? []).some((e) => e.url === FAVORITE_EXTENSION && e.valueBoolean === true);
  const codes = [...(provision?.class ?? []), ...(provision?.code ?? []).flatMap((c) => c.coding ?? [])]
    .filter((c) => c.system === CATEGORY_SYSTEM && c.code)
    .map((c) => c.code as string);
  // An order's grant (order-grants.ts) has no Consent: it shares the order itself and nothing more.
  const ordered = isOrderGrant(grant) ? (grant.rule?.criteria.instances ?? []) : [];
  const whole =
    grant.full ||
    (ordered.length === 0 && !provision?.class?.length && !provision?.code?.length && !provision?.data?.length);
  const parts: ParametersParameter[] = [
    { name: 'basis', valueString: grant.basis },
    ...(consent ? [{ name: 'consent', valueReference: { reference: `Consent/${consent.id}` } }] : []),
    ...(grant.relationship ? [{ name: 'relationship', valueCode: grant.relationship }] : []),
    ...(team ? [{ name: 'careTeam', valueReference: { reference: `CareTeam/${team.id}` } }] : []),
    { name: 'favorite', valueBoolean: favorite },
    ...(whole ? ['all'] : [...new Set(codes)]).map((code) => ({ name: 'category', valueCode: code })),
    ...(provision?.data ?? []).map((d) => ({ name: 'resource', valueReference: { reference: d.reference.reference } })),
    ...ordered.map((reference) => ({ name: 'resource', valueReference: { reference } })),
    ...(provision?.dataPeriod ? [{ name: 'dataPeriod', valuePeriod: provision.dataPeriod }] : []),
    ...(grant.full || ordered.length > 0 ? ['access'] : actionCodes(provision?.action)).map((code) => ({
      name: 'action',
      valueCode: code,
    })),
    ...(grant.valid.start !== undefined ? [{ name: 'start', valueDateTime: iso(grant.valid.start) }] : []),
    ...(grant.valid.end !== undefined ? [{ name: 'end', valueDateTime: iso(grant.valid.end) }] : []),
  ];
  return { favorite, part: { name: 'share', part: parts } };
}

function consentId(grant: Grant): string | undefined {
  return /^Consent\/([^/]+)\//.exec(grant.basis)?.[1];
}

/** Resources by "Type/id", leaving out those the repository does not show. */
async function readAll<T extends Consent | CareTeam | Patient>(
  repo: HaleRepository,
  refs: string[]
): Promise<Map<string, T>> {
  const unique = [...new Set(refs)];
  const read = await repo.readReferences<T>(unique.map((reference) => ({ reference })));
  const out = new Map<string, T>();
  read.forEach((r, i) => {
    if (!(r instanceof Error)) {
      out.set(unique[i] as string, r);
    }
  });
  return out;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isString(x: string | undefined): x is string {
  return x !== undefined;
}
