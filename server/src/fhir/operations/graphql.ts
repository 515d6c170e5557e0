import { OperationOutcomeError, badRequest } from '@medplum/core';
import type { FhirRepository, FhirRequest, FhirResponse, FhirRouteHandler } from '@medplum/fhir-router';
import type { Resource } from '@medplum/fhirtypes';
import { HaleRepository } from '../../storage/repository';

const USAGE = '$graphql takes POST with a JSON body {"query": "…"} (optional "operationName", "variables")';

/**
 * @medplum/fhir-router serves $graphql but destructures the body unchecked: an empty or `null` body
 * threw a TypeError (500), and a non-string query reached the GraphQL parser. The request is checked
 * here, before the router's handler sees it. Its reads are collected into the repository context's
 * `disclosed`: the answer is plain JSON, so the audit cannot tell from it whose data it holds.
 */
export function checkedGraphql(inner: FhirRouteHandler): FhirRouteHandler {
  return (req, repo, router, options) => {
    checkGraphqlBody(req.body);
    if (repo instanceof HaleRepository) {
      return inner(req, recordingReads(repo, (repo.ctx.disclosed ??= [])), router, options);
    }
    return inner(req, repo, router, options);
  };
}

/** The repository methods that return stored resources to their caller. */
const READS: ReadonlySet<PropertyKey> = new Set([
  'readResource',
  'readReference',
  'readReferences',
  'readVersion',
  'readHistory',
  'search',
  'searchResources',
  'searchOne',
  'searchByReference',
]);

/** The repository, with every resource its reads return also pushed to `into`. */
function recordingReads(repo: HaleRepository, into: Resource[]): FhirRepository {
  return new Proxy(repo, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') {
        return value;
      }
      const method = value as (...args: unknown[]) => unknown;
      if (!READS.has(name)) {
        return method.bind(target);
      }
      return async (...args: unknown[]) => {
        const out = await method.apply(target, args);
        collect(out, into);
        return out;
      };
    },
  });
}

function collect(value: unknown, into: Resource[]): void {
  if (Array.isArray(value)) {
    value.forEach((v) => collect(v, into));
  } else if (value && typeof value === 'object' && !(value instanceof Error)) {
    const resource = value as Resource;
    if (typeof resource.resourceType === 'string') {
      into.push(resource);
    } else {
      // searchByReference: arrays of matches keyed by reference.
      Object.values(value).forEach((v) => collect(v, into));
    }
  }
}

/**
 * Hale serves $graphql for POST only, as @medplum/fhir-router does; without this route a GET fell
 * through to search and answered "Unknown resource type: $graphql".
 */
export function graphqlGetHandler(_req: FhirRequest): Promise<FhirResponse> {
  throw new OperationOutcomeError(badRequest(USAGE));
}

function checkGraphqlBody(body: unknown): void {
  if (!isObject(body)) {
    throw new OperationOutcomeError(badRequest(USAGE));
  }
  if (typeof body.query !== 'string' || body.query.trim() === '') {
    throw new OperationOutcomeError(badRequest(`"query" must be a non-empty string: ${USAGE}`, 'query'));
  }
  if (body.operationName !== undefined && body.operationName !== null && typeof body.operationName !== 'string') {
    throw new OperationOutcomeError(badRequest('"operationName" must be a string', 'operationName'));
  }
  if (body.variables !== undefined && body.variables !== null && !isObject(body.variables)) {
    throw new OperationOutcomeError(badRequest('"variables" must be a JSON object', 'variables'));
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
