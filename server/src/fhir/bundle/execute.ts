import type { Operation } from '@medplum/core';
import { OperationOutcomeError, badRequest, isOk } from '@medplum/core';
import type { FhirRouter } from '@medplum/fhir-router';
import type { Binary, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { HaleRepository } from '../../storage/repository';
import { outcomeStatus } from '../http';
import { normalizeQuery } from '../query';
import type { ParsedEntry } from './entries';

const ifMatchOf = (e: ParsedEntry): string | undefined =>
  /"([^"]+)"/.exec(e.entry.request?.ifMatch ?? '')?.[1] ?? e.entry.request?.ifMatch;

function written(resource: Resource, status: string): BundleEntry {
  const meta = resource.meta;
  return {
    resource,
    response: {
      status,
      location: `${resource.resourceType}/${resource.id}/_history/${meta?.versionId}`,
      etag: `W/"${meta?.versionId}"`,
      lastModified: meta?.lastUpdated,
    },
  };
}

/** JSON Patch in a bundle travels as a Binary (base64 JSON Patch), or directly as an array. */
function patchOf(e: ParsedEntry): Operation[] {
  const body = e.entry.resource as Binary | undefined;
  if (body?.resourceType === 'Binary' && body.data) {
    const ops: unknown = JSON.parse(Buffer.from(body.data, 'base64').toString('utf8'));
    if (Array.isArray(ops)) {
      return ops as Operation[];
    }
  }
  throw new OperationOutcomeError(
    badRequest('PATCH entries need a Binary resource holding a JSON Patch (application/json-patch+json)')
  );
}

/**
 * Performs one entry whose identity is resolved. Writes go straight to the repository (they are
 * already bound to their target ids); reads, searches and operations go through the router.
 * Throws an OperationOutcomeError when the entry fails.
 */
export async function executeEntry(repo: HaleRepository, router: FhirRouter, e: ParsedEntry): Promise<BundleEntry> {
  const target = e.target;
  if (e.existing) {
    return written(e.existing, '200');
  }
  if (e.noop) {
    return { response: { status: '204' } };
  }
  switch (e.interaction) {
    case 'create': {
      const created = await repo.createResource(
        { ...(e.entry.resource as Resource), id: target?.id },
        { assignedId: true }
      );
      return written(created, '201');
    }
    case 'update': {
      const resource = e.entry.resource as Resource;
      if (resource.resourceType !== target?.type) {
        throw new OperationOutcomeError(badRequest(`Expected a ${target?.type} resource`));
      }
      if (resource.id && resource.id !== target.id) {
        throw new OperationOutcomeError(
          badRequest(`The resource id ${resource.id} does not match ${target.type}/${target.id}`)
        );
      }
      const result = await repo.updateResourceWithOutcome({ ...resource, id: target.id }, { ifMatch: ifMatchOf(e) });
      return written(result.resource, result.created ? '201' : '200');
    }
    case 'patch': {
      const patched = await repo.patchResource(target?.type as 'Patient', target?.id as string, patchOf(e), {
        ifMatch: ifMatchOf(e),
      });
      return written(patched, '200');
    }
    case 'delete':
      await repo.deleteResource(target?.type as string, target?.id as string, { ifMatch: ifMatchOf(e) });
      return { response: { status: '200' } };
    default:
      return routed(repo, router, e);
  }
}

async function routed(repo: HaleRepository, router: FhirRouter, e: ParsedEntry): Promise<BundleEntry> {
  const query = normalizeQuery(e.resourceType, Object.fromEntries(groupQuery(e.query)));
  const [outcome, resource] = await router.handleRequest(
    {
      method: e.method === 'HEAD' ? 'GET' : e.method,
      url: e.path,
      pathname: '',
      params: {},
      query,
      body: e.entry.resource,
      headers: {},
    },
    repo
  );
  if (!isOk(outcome)) {
    throw new OperationOutcomeError(outcome);
  }
  return { resource, response: { status: String(outcomeStatus(outcome)) } };
}

function groupQuery(query: string): [string, string[]][] {
  const map = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(query)) {
    map.set(k, [...(map.get(k) ?? []), v]);
  }
  return [...map.entries()];
}
