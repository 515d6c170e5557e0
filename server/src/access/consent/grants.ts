import type { CareTeam, Consent, PractitionerRole, ServiceRequest } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/database';
import { sql } from '../../db/sql';
import { referenceRowTest } from '../../storage/search/reference';
import type { SearchParamRegistry } from '../../storage/search-params';
import type { Grant, Window } from './model';
import { covers } from './model';
import { orderGrants } from './order-grants';
import { actionCodes, isGuardianActor, periodWindow, referenceKey, rootPermits, ruleOf } from './provisions';
import type { RelationshipType } from './vocabulary';
import { CLIENT_ID_SYSTEM, RELATIONSHIP_SYSTEM, RELATIONSHIP_TYPES } from './vocabulary';

/** Who is asking, as far as Consent is concerned. */
export interface GrantCaller {
  accountId?: string;
  fhirUser?: string;
  clientId: string;
  research: boolean;
}

export interface LoadedGrants {
  /** Every key a Consent actor may name to mean this caller. */
  keys: Set<string>;
  grants: Grant[];
}

interface Deps {
  db: Queryable;
  searchParams: SearchParamRegistry;
  baseUrl: string;
}

const READ_ACTIONS = ['access', 'use', 'disclose'];

/**
 * Everything the caller may currently be granted, read from the stored resources: the caller's
 * identities (their Practitioner, active PractitionerRoles and those roles' Organizations, the
 * CareTeams they take part in, their app), then the active Consents that name any of them, the
 * research opt-ins for research partners, the active orders they are to carry out (order-grants.ts),
 * and open break-glass declarations. Time windows are kept on each grant and checked at every
 * request, so expiry needs no job.
 */
export async function loadGrants(deps: Deps, caller: GrantCaller, now: number): Promise<LoadedGrants> {
  const keys = new Set<string>([`client:${caller.clientId}`]);
  if (caller.fhirUser) {
    keys.add(caller.fhirUser);
  }
  await addRoleKeys(deps, caller, keys, now);
  if (caller.research && caller.accountId) {
    const [row] = await deps.db.query<{ organization_id: string | null }>(
      sql`SELECT organization_id FROM account WHERE id = ${caller.accountId}::uuid`
    );
    if (row?.organization_id) {
      keys.add(`Organization/${row.organization_id}`);
    }
  }
  const teams = await careTeamsOf(deps, keys, now);
  for (const id of teams.keys()) {
    keys.add(`CareTeam/${id}`);
  }
  const grants: Grant[] = [];
  for (const { consent, versionId } of await consentsNaming(deps, keys, caller.research)) {
    const grant = grantOf(consent, versionId, keys, teams, deps.baseUrl);
    if (grant) {
      grants.push(grant);
    }
  }
  const orders = await rowsReferencing<ServiceRequest>(deps, 'ServiceRequest', 'performer', [...keys]);
  grants.push(
    ...orderGrants(
      orders.map((o) => o.resource),
      keys,
      deps.baseUrl
    )
  );
  grants.push(...(await breakGlassGrants(deps, caller)));
  return { keys, grants };
}

async function addRoleKeys(deps: Deps, caller: GrantCaller, keys: Set<string>, now: number): Promise<void> {
  const [type, id] = (caller.fhirUser ?? '').split('/');
  if (!id || (type !== 'Practitioner' && type !== 'PractitionerRole')) {
    return;
  }
  const roles =
    type === 'Practitioner'
      ? await rowsReferencing<PractitionerRole>(deps, 'PractitionerRole', 'practitioner', [`Practitioner/${id}`])
      : await contents<PractitionerRole>(deps, 'PractitionerRole', [id]);
  for (const { resource: role } of roles) {
    const window = periodWindow(role.period);
    if (role.active === false || !window || !covers(window, now)) {
      continue;
    }
    keys.add(`PractitionerRole/${role.id}`);
    for (const ref of [role.practitioner, role.organization]) {
      const key = referenceKey(ref, deps.baseUrl);
      if (key) {
        keys.add(key);
      }
    }
  }
}

interface Team {
  patientId?: string;
  window: Window;
  relationship?: RelationshipType;
}

/** Active CareTeams with a currently active participant that is the caller. */
async function careTeamsOf(deps: Deps, keys: Set<string>, now: number): Promise<Map<string, Team>> {
  const teams = new Map<string, Team>();
  const rows = await rowsReferencing<CareTeam>(deps, 'CareTeam', 'participant', [...keys]);
  for (const { resource: team } of rows) {
    const window = periodWindow(team.period);
    if (team.status !== 'active' || !window || !covers(window, now)) {
      continue;
    }
    const member = (team.participant ?? []).some((p) => {
      const key = referenceKey(p.member, deps.baseUrl) ?? referenceKey(p.onBehalfOf, deps.baseUrl);
      const pw = periodWindow(p.period);
      return key !== undefined && keys.has(key) && pw !== undefined && covers(pw, now);
    });
    if (!member) {
      continue;
    }
    const code = (team.category ?? [])
      .flatMap((c) => c.coding ?? [])
      .find((c) => c.system === RELATIONSHIP_SYSTEM)?.code;
    teams.set(team.id as string, {
      patientId: referenceKey(team.subject, deps.baseUrl)?.replace(/^Patient\//, ''),
      window,
      relationship: (RELATIONSHIP_TYPES as readonly string[]).includes(code ?? '')
        ? (code as RelationshipType)
        : undefined,
    });
  }
  return teams;
}

async function consentsNaming(
  deps: Deps,
  keys: Set<string>,
  research: boolean
): Promise<{ consent: Consent; versionId: string }[]> {
  const named = await rowsReferencing<Consent>(deps, 'Consent', 'actor', [...keys]);
  const clients = [...keys].filter((k) => k.startsWith('client:')).map((k) => k.slice('client:'.length));
  // An app named by Reference.identifier is indexed as a token on the same parameter (storage/indexer/reference.ts).
  const byClient = clients.length
    ? await deps.db.query<{ id: string; content: string }>(
        sql`SELECT r.id, r.content FROM resource r WHERE r.type = 'Consent' AND NOT r.deleted AND r.rid IN (
          SELECT t.rid FROM idx_token t WHERE t.sp = ${deps.searchParams.id('Consent', 'actor') ?? -1}
            AND t.code = ANY(${clients}::text[]) AND t.system = ${CLIENT_ID_SYSTEM})`
      )
    : [];
  const researchRows = research
    ? await deps.db.query<{ id: string; content: string }>(
        sql`SELECT r.id, r.content FROM resource r WHERE r.type = 'Consent' AND NOT r.deleted
          AND EXISTS (SELECT 1 FROM idx_token t WHERE t.rid = r.rid
            AND t.sp = ${deps.searchParams.id('Consent', 'scope') ?? -1} AND t.code = 'research')`
      )
    : [];
  const seen = new Map<string, Consent>();
  for (const r of [
    ...named,
    ...[...byClient, ...researchRows].map((row) => ({ resource: JSON.parse(row.content) as Consent })),
  ]) {
    seen.set(r.resource.id as string, r.resource);
  }
  return [...seen.values()].map((consent) => ({ consent, versionId: consent.meta?.versionId ?? '1' }));
}

function scopeOf(consent: Consent): string | undefined {
  return (consent.scope?.coding ?? []).map((c) => c.code).find((c) => c === 'patient-privacy' || c === 'research');
}

/** The grant one Consent gives this caller, or undefined when it gives nothing. */
export function grantOf(
  consent: Consent,
  versionId: string,
  keys: ReadonlySet<string>,
  teams: ReadonlyMap<string, Team>,
  baseUrl: string
): Grant | undefined {
  const scope = scopeOf(consent);
  const patientId = referenceKey(consent.patient, baseUrl)?.replace(/^Patient\//, '');
  const root = consent.provision;
  if (consent.status !== 'active' || !scope || !patientId || consent.patient?.reference?.includes('/_history/')) {
    return undefined;
  }
  const actorKeys = (root?.actor ?? []).map((a) => referenceKey(a.reference, baseUrl));
  const matched = actorKeys.filter((k): k is string => k !== undefined && keys.has(k));
  // A sharing Consent must name its grantee; a research opt-in without actors is for every research partner.
  if (matched.length === 0 && !(scope === 'research' && actorKeys.length === 0)) {
    return undefined;
  }
  let valid = periodWindow(root?.period);
  if (!valid) {
    return undefined;
  }
  let relationship: RelationshipType | undefined;
  const viaTeam = matched.find((k) => k.startsWith('CareTeam/'));
  if (viaTeam && matched.every((k) => k.startsWith('CareTeam/'))) {
    const team = teams.get(viaTeam.slice('CareTeam/'.length));
    if (!team || team.patientId !== patientId) {
      return undefined;
    }
    valid = intersect(valid, team.window);
    relationship = team.relationship;
  }
  const actions = actionCodes(root?.action);
  const basis = `Consent/${consent.id}/_history/${versionId}`;
  const guardian =
    scope === 'patient-privacy' && root !== undefined && matched.some((k) => isGuardianActor(root, k, baseUrl));
  if (guardian) {
    return { patientId, basis, full: true, patientOnly: true, valid, read: true, write: true };
  }
  return {
    patientId,
    basis,
    full: false,
    patientOnly: false,
    rule: ruleOf(root ?? {}, rootPermits(consent), baseUrl, false),
    valid,
    read: actions.length === 0 || actions.some((a) => READ_ACTIONS.includes(a)),
    write: scope === 'patient-privacy' && actions.includes('correct') && relationship === 'permanent',
    relationship,
  };
}

function intersect(a: Window, b: Window): Window {
  const start = Math.max(a.start ?? -Infinity, b.start ?? -Infinity);
  const end = Math.min(a.end ?? Infinity, b.end ?? Infinity);
  return { start: Number.isFinite(start) ? start : undefined, end: Number.isFinite(end) ? end : undefined };
}

async function breakGlassGrants(deps: Deps, caller: GrantCaller): Promise<Grant[]> {
  if (!caller.accountId) {
    return [];
  }
  const rows = await deps.db.query<{ id: string; patient_id: string; created_at: string; expires_at: string }>(
    sql`SELECT id, patient_id, created_at, expires_at FROM break_glass
      WHERE account_id = ${caller.accountId}::uuid AND ended_at IS NULL AND expires_at > now()`
  );
  return rows.map((r) => ({
    patientId: r.patient_id,
    basis: `break-glass/${r.id}`,
    full: true,
    patientOnly: false,
    valid: { start: Date.parse(r.created_at), end: Date.parse(r.expires_at) },
    read: true,
    write: false,
  }));
}

/** Current resources of `type` whose reference parameter `code` points at any of `targets` ("Type/id"). */
async function rowsReferencing<T>(
  deps: Deps,
  type: string,
  code: string,
  targets: string[]
): Promise<{ resource: T & { id?: string } }[]> {
  const typed = targets.filter((t) => !t.startsWith('client:'));
  if (typed.length === 0) {
    return [];
  }
  // Through referenceRows: a parameter narrowed by type (CareTeam `patient`) reads another's rows.
  const refs = deps.searchParams.referenceRows(type, code) ?? { sp: -1 };
  const rows = await deps.db.query<{ content: string }>(
    sql`SELECT r.content FROM resource r WHERE r.type = ${type} AND NOT r.deleted AND r.rid IN (
      SELECT x.rid FROM idx_reference x WHERE ${referenceRowTest('x', refs)}
        AND x.target_id = ANY(${typed.map((t) => t.split('/')[1] ?? '')}::text[])
        AND x.target_type || '/' || x.target_id = ANY(${typed}::text[]))`
  );
  return rows.map((r) => ({ resource: JSON.parse(r.content) as T & { id?: string } }));
}

async function contents<T>(deps: Deps, type: string, ids: string[]): Promise<{ resource: T & { id?: string } }[]> {
  const rows = await deps.db.query<{ content: string }>(
    sql`SELECT content FROM resource WHERE type = ${type} AND id = ANY(${ids}::text[]) AND NOT deleted`
  );
  return rows.map((r) => ({ resource: JSON.parse(r.content) as T & { id?: string } }));
}
