import { rememberJson } from './stored-json';
import { OperationOutcomeError, badRequest } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { isResourceType } from '../fhir/definitions';
import { validateResourceForWrite } from '../validation/validate';
import type { RepoContext } from './context';
import { runPreWriteSteps } from './pre-write';
import { checkWriteRules } from './write-rules';
import type { PendingWrite } from './flush';
import { buildIndexRows } from './indexer';
import type { LocalReference } from './references';
import { seriesPointsOf } from './series/points';
import { collectReferences } from './references';

const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

export interface PreparedVersion {
  resource: Resource & { id: string };
  write: PendingWrite;
  references: (LocalReference & { from: string })[];
}

export function assertResourceType(type: string): void {
  if (!isResourceType(type)) {
    throw new OperationOutcomeError(badRequest(`Unknown resource type: ${type}`));
  }
}

export function assertId(id: string): void {
  if (!ID_PATTERN.test(id)) {
    throw new OperationOutcomeError(badRequest(`Invalid resource id: ${id}`));
  }
}

/**
 * Turns a caller's resource into the version Hale stores: server-owned meta (versionId,
 * lastUpdated) set, the pre-write steps run (pre-write.ts), validated, indexed, references
 * collected, access checked. Pure CPU.
 */
export function prepareVersion(
  ctx: RepoContext,
  input: Resource,
  id: string,
  versionId: number,
  lastUpdated: string,
  method: PendingWrite['method'],
  replaces: boolean
): PreparedVersion {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw new OperationOutcomeError(badRequest('Resource body must be a JSON object'));
  }
  assertResourceType(input.resourceType);
  assertId(id);
  const { resourceType, id: _ignored, meta, ...rest } = input as Resource & Record<string, unknown>;
  const { versionId: _v, lastUpdated: _l, ...keptMeta } = meta ?? {};
  const resource = {
    resourceType,
    id,
    meta: { ...keptMeta, versionId: String(versionId), lastUpdated },
    ...rest,
  } as Resource & { id: string };
  ctx.access.stampWrite?.(resource as Resource & Record<string, unknown>);
  runPreWriteSteps(resource, ctx);
  if (ctx.validate) {
    validateResourceForWrite(resource);
    checkWriteRules(resource, ctx);
  }
  const rows = buildIndexRows(resource, ctx.searchParams.lookup, { baseUrl: ctx.baseUrl });
  ctx.access.checkWrite(
    resourceType,
    { compartments: rows.compartments, rows, resource },
    method === 'POST' ? 'create' : 'update'
  );
  const from = `${resourceType}/${id}`;
  const references = collectReferences(resource as unknown as Record<string, unknown>, ctx.baseUrl).map((r) => ({
    ...r,
    from,
  }));
  const content = JSON.stringify(resource);
  rememberJson(resource, content);
  return {
    resource,
    references,
    write: {
      type: resourceType,
      id,
      versionId,
      lastUpdated,
      deleted: false,
      method,
      content,
      compartments: rows.compartments,
      rows,
      series: seriesPointsOf(resource, rows, ctx.searchParams.lookup),
      replaces,
    },
  };
}

/** True when two versions differ only in server-owned meta, so an update would change nothing. */
export function sameContent(stored: string, next: Resource): boolean {
  const a = JSON.parse(stored) as Resource;
  const strip = (r: Resource): string => {
    const { meta, ...rest } = r;
    const { versionId: _v, lastUpdated: _l, ...m } = meta ?? {};
    return JSON.stringify({ ...rest, meta: m });
  };
  return strip(a) === strip(next);
}
