import { OperationOutcomeError, accepted, badRequest, notFound, tooManyRequests } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { Group } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { patientIdOf } from '../audit/involved';
import { callerOf } from '../fhir/operations/context';
import { withResponseHeaders } from '../fhir/http';
import type { HaleRepository } from '../storage/repository';
import type { ExportLevel, ExportParams, Handling } from './parameters';
import { collectRaw, parseExportParams, parsePreferAsync } from './parameters';
import { compileTypeFilter } from './plan';
import type { BulkExports } from './service';
import { visiblePatients } from './snapshot';

const ACCEPTED_TYPES = new Set(['application/fhir+json', 'application/json', '*/*', 'application/*']);
/** Seconds a refused kick-off is told to wait (429). */
const BUSY_RETRY_SECONDS = 60;

type KickoffHandler = (req: FhirRequest, repo: HaleRepository) => Promise<FhirResponse>;

/** `$export` at system level, `Patient/$export` and `Group/[id]/$export`, GET or POST with Parameters. */
export function exportKickoff(level: ExportLevel, bulk: BulkExports | undefined): KickoffHandler {
  return async (req, repo) => {
    if (!bulk) {
      throw new OperationOutcomeError(notFound);
    }
    const headers = req.headers ?? {};
    const prefer = parsePreferAsync(headers.prefer);
    if (!prefer.async) {
      throw new OperationOutcomeError(badRequest('$export runs asynchronously: send Prefer: respond-async'));
    }
    checkAccept(headers.accept);
    const caller = callerOf(repo);
    const baseUrl = repo.ctx.baseUrl;
    const raw = collectRaw(req.query, req.method === 'POST' ? req.body : undefined);
    const { params, warnings } = parseExportParams(raw, level, prefer.handling, baseUrl);
    checkTypes(repo, params);
    let groupId: string | undefined;
    if (level === 'group') {
      groupId = String(req.params.id);
      params.patients = await groupPatients(repo, groupId, params.patients, prefer.handling, warnings);
    } else if (params.patients) {
      params.patients = await presentPatients(repo, params.patients, prefer.handling, warnings);
    }
    const id = randomUUID();
    const result = await bulk.store.create(
      {
        id,
        client_id: caller.client_id,
        subject: caller.sub,
        claims: caller,
        level,
        group_id: groupId ?? null,
        request_url: requestUrl(baseUrl, req),
        params,
        warnings,
        transaction_time: new Date().toISOString(),
      },
      bulk.config
    );
    if (result === 'busy') {
      throw tooManyJobs('exports');
    }
    bulk.kick();
    const statusUrl = bulk.statusUrl(id);
    return [withResponseHeaders(accepted(statusUrl), { 'Content-Location': statusUrl })];
  };
}

/** Only an OperationOutcome in JSON can answer a kick-off; no Accept is taken as application/fhir+json. */
function checkAccept(accept: string | string[] | undefined): void {
  const values = [accept ?? []].flat().join(',');
  if (!values.trim()) {
    return;
  }
  const ok = values.split(',').some((v) => ACCEPTED_TYPES.has(v.split(';')[0]?.trim().toLowerCase() ?? ''));
  if (!ok) {
    throw new OperationOutcomeError(badRequest(`Accept: ${values} — a kick-off answers application/fhir+json only`));
  }
}

/** Types named by _type or _typeFilter must be ones the token may search (403 otherwise); each _typeFilter must compile. */
function checkTypes(repo: HaleRepository, params: ExportParams): void {
  for (const type of params.types ?? []) {
    repo.ctx.access.checkInteraction(type, 'search');
  }
  const filtered = new Set(params.typeFilters.map((q) => q.split('?')[0] as string));
  for (const type of filtered) {
    repo.ctx.access.checkInteraction(type, 'search');
    compileTypeFilter(repo.ctx, type, params.typeFilters, params.lenient);
  }
}

/** The `patient` parameter: each must be a Patient the caller can see (else 400, or a warning when lenient). */
async function presentPatients(
  repo: HaleRepository,
  asked: readonly string[],
  handling: Handling,
  warnings: string[]
): Promise<string[]> {
  const visible = await visiblePatients(repo.queryable, repo.ctx.access, asked);
  const missing = asked.filter((p) => !visible.includes(p));
  if (missing.length > 0) {
    const text = `patient: ${missing.map((p) => `Patient/${p}`).join(', ')} not found`;
    if (handling !== 'lenient') {
      throw new OperationOutcomeError(badRequest(text));
    }
    warnings.push(`${text} (left out: Prefer: handling=lenient)`);
  }
  return visible;
}

/**
 * The Group's current members (Patient references, not inactive, period not ended), narrowed to
 * the `patient` parameter when given (each must be a member). Which members the caller may see is
 * decided when the export runs, with the policy of that moment.
 */
async function groupPatients(
  repo: HaleRepository,
  groupId: string,
  asked: readonly string[] | undefined,
  handling: Handling,
  warnings: string[]
): Promise<string[]> {
  const group = await repo.readResource<Group>('Group', groupId); // 404 for an absent or hidden Group
  if (group.actual === false) {
    throw new OperationOutcomeError(
      badRequest(`Group/${groupId} is defined by characteristics; only a Group that lists its members can be exported`)
    );
  }
  const now = Date.now();
  const members = [
    ...new Set(
      (group.member ?? [])
        .filter((m) => !m.inactive && !(m.period?.end && Date.parse(m.period.end) < now))
        .map((m) => patientIdOf(m.entity?.reference, repo.ctx.baseUrl))
        .filter((p): p is string => p !== undefined)
    ),
  ];
  if (!asked) {
    return members;
  }
  const outside = asked.filter((p) => !members.includes(p));
  if (outside.length > 0) {
    const text = `patient: ${outside.map((p) => `Patient/${p}`).join(', ')} not a member of Group/${groupId}`;
    if (handling !== 'lenient') {
      throw new OperationOutcomeError(badRequest(text));
    }
    warnings.push(`${text} (left out: Prefer: handling=lenient)`);
  }
  return asked.filter((p) => members.includes(p));
}

/**
 * The kick-off's URL: with its query for GET; a POST's parameters are in its body, not in `request`.
 * The query is rebuilt from the parsed parameters (the router is not given the raw URL), encoding
 * only what a query value must encode: `_type=Patient,Observation` comes back as sent, not as
 * `Patient%2CObservation`.
 */
function requestUrl(baseUrl: string, req: FhirRequest): string {
  const url = `${baseUrl}/${req.url.replace(/^\/+/, '').split('?')[0] ?? ''}`;
  if (req.method !== 'GET') {
    return url;
  }
  const pairs: string[] = [];
  for (const [k, v] of Object.entries(req.query)) {
    for (const value of [v ?? []].flat()) {
      pairs.push(`${queryEncode(k)}=${queryEncode(value)}`);
    }
  }
  return pairs.length > 0 ? `${url}?${pairs.join('&')}` : url;
}

/** Percent-encoding of a query name or value, leaving the characters RFC 3986 allows there as they are (but & = + #). */
function queryEncode(text: string): string {
  return encodeURIComponent(text).replace(/%(2C|3A|2F|24|40|3B|3F)/gi, (m) => decodeURIComponent(m));
}

/** 429 with Retry-After for a kick-off refused because too many jobs of its kind are active. */
export function tooManyJobs(what: 'exports' | 'imports'): OperationOutcomeError {
  return new OperationOutcomeError(
    withResponseHeaders(
      {
        ...tooManyRequests,
        issue: [
          {
            severity: 'error',
            code: 'throttled',
            details: { text: `Too many ${what} are running; retry after the ones in progress have finished` },
          },
        ],
      },
      { 'Retry-After': String(BUSY_RETRY_SECONDS) }
    )
  );
}
