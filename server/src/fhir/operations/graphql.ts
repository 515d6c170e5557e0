import { OperationOutcomeError, badRequest } from '@medplum/core';
import type { FhirRequest, FhirResponse, FhirRouteHandler } from '@medplum/fhir-router';

const USAGE = '$graphql takes POST with a JSON body {"query": "…"} (optional "operationName", "variables")';

/**
 * @medplum/fhir-router serves $graphql but destructures the body unchecked: an empty or `null` body
 * threw a TypeError (500), and a non-string query reached the GraphQL parser. The request is checked
 * here, before the router's handler sees it.
 */
export function checkedGraphql(inner: FhirRouteHandler): FhirRouteHandler {
  return (req, repo, router, options) => {
    checkGraphqlBody(req.body);
    return inner(req, repo, router, options);
  };
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
