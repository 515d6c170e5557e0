import { responseJson } from './response-json';
import { OperationOutcomeError, badRequest, getStatus, isOk, isResource, notFound } from '@medplum/core';
import { BAD_GATEWAY_ID, RETRY_AFTER_SECONDS, SERVICE_UNAVAILABLE_ID } from './errors';
import type { FhirRequest, FhirResponse, FhirRouter } from '@medplum/fhir-router';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import type { HaleRepository } from '../storage/repository';
import { project } from '../storage/search/projection';
import { normalizeQuery } from './query';
import { rawBodyOf } from './raw-body';
import { assertStringResourceTypes } from './resource-type-guard';
import { discardStreamedAnswer, sendStreamedAnswer } from './streamed-answer';
import { streamedBodyOf } from './streamed-body';

export const NOT_ACCEPTABLE_ID = 'not-acceptable';
export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

const FORMATS_JSON = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);

/** Turns an express request into a FhirRequest for the router (path relative to the FHIR base). */
export function toFhirRequest(req: Request, path: string): FhirRequest {
  const query = req.query as Record<string, string | string[] | undefined>;
  const resourceType = path.split('/').filter(Boolean)[0];
  const normalized = normalizeQuery(resourceType, query);
  let body = req.body;
  // POST [type]/_search sends its parameters form-encoded; they join the URL's.
  if (req.method === 'POST' && path.endsWith('/_search') && body instanceof URLSearchParams) {
    // No prototype: a form field named `constructor` is a parameter like any other (server/src/fuzz/).
    const merged = Object.create(null) as Record<string, string[]>;
    for (const [k, v] of body) {
      (merged[k] ??= []).push(v);
    }
    body = normalizeQuery(resourceType, merged);
  }
  assertStringResourceTypes(body);
  return {
    method: req.method as FhirRequest['method'],
    url: path,
    pathname: '',
    params: {},
    query: normalized,
    body,
    headers: req.headers,
    config: { transactions: true },
  };
}

/** Reads Prefer: return=… and handling=… (RFC 7240). */
export function parsePrefer(header: string | undefined): { return?: string; handling?: string } {
  const out: { return?: string; handling?: string } = {};
  for (const part of (header ?? '').split(/[,;]/)) {
    const [k, v] = part
      .trim()
      .split('=')
      .map((s) => s.trim().replace(/^"|"$/g, ''));
    if (k === 'return' && v) {
      out.return = v;
    } else if (k === 'handling' && v) {
      out.handling = v;
    }
  }
  return out;
}

export function checkFormat(req: Request): void {
  const format = req.query._format;
  if (typeof format === 'string' && !FORMATS_JSON.has(format.split(';')[0]?.trim() ?? '')) {
    throw new OperationOutcomeError({
      resourceType: 'OperationOutcome',
      id: NOT_ACCEPTABLE_ID,
      issue: [
        {
          severity: 'error',
          code: 'not-supported',
          details: { text: `Unsupported _format ${format}: Hale serves JSON only` },
        },
      ],
    });
  }
}

/** Sends the router's answer with FHIR headers (ETag, Last-Modified, Location, Prefer handling). */
export function sendFhirResponse(
  req: Request,
  res: Response,
  result: FhirResponse,
  baseUrl: string,
  interaction: string | undefined
): void {
  const [outcome, resource] = result;
  const status = outcomeStatus(outcome);
  if (!isOk(outcome)) {
    sendOutcome(res, status, outcome);
    return;
  }
  const single =
    resource && resource.resourceType !== 'Bundle' && resource.resourceType !== 'OperationOutcome'
      ? resource
      : undefined;
  if (single?.meta?.versionId) {
    res.setHeader('ETag', `W/"${single.meta.versionId}"`);
    if (single.meta.lastUpdated) {
      res.setHeader('Last-Modified', new Date(single.meta.lastUpdated).toUTCString());
    }
    if (status === 201) {
      res.setHeader('Location', `${baseUrl}/${single.resourceType}/${single.id}/_history/${single.meta.versionId}`);
    }
  }
  if (!resource) {
    sendOutcome(res, status, outcome);
    return;
  }
  if (sendStreamedAnswer(res, status, resource)) {
    return;
  }
  const raw = rawBodyOf(resource);
  if (raw) {
    res.status(status).type(raw.contentType).send(raw.body);
    return;
  }
  const isWrite = interaction === 'create' || interaction === 'update' || interaction === 'patch';
  const prefer = parsePrefer(req.header('prefer')).return;
  if (isWrite && prefer === 'minimal') {
    res.status(status).end();
    return;
  }
  if (isWrite && prefer === 'OperationOutcome') {
    sendOutcome(res, status, outcome);
    return;
  }
  let body: Resource = resource;
  if (single && req.method === 'GET') {
    const summary = typeof req.query._summary === 'string' ? req.query._summary : undefined;
    const elements = typeof req.query._elements === 'string' ? req.query._elements.split(',') : undefined;
    body = project(single, summary, elements);
  }
  res
    .status(status)
    .type(FHIR_JSON)
    .send(responseJson(body, req.query._pretty === 'true'));
}

/** The HTTP status of an outcome: @medplum/core's well-known ids, plus Hale's 406 and 503. */
export function outcomeStatus(outcome: OperationOutcome): number {
  if (outcome.id === NOT_ACCEPTABLE_ID) {
    return 406;
  }
  if (outcome.id === BAD_GATEWAY_ID) {
    return 502;
  }
  return outcome.id === SERVICE_UNAVAILABLE_ID ? 503 : getStatus(outcome);
}

const RESPONSE_HEADERS = Symbol('hale.response-headers');

/**
 * An outcome that carries HTTP headers of its own, set when it is sent (the Content-Location of an
 * asynchronous kick-off's 202, the Retry-After of a 429): operations answer through the router,
 * which passes only [outcome, resource].
 */
export function withResponseHeaders(outcome: OperationOutcome, headers: Record<string, string>): OperationOutcome {
  return Object.assign({ ...outcome }, { [RESPONSE_HEADERS]: headers });
}

export function sendOutcome(res: Response, status: number, outcome: OperationOutcome): void {
  if (status === 503) {
    res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  }
  const headers = (outcome as { [RESPONSE_HEADERS]?: Record<string, string> })[RESPONSE_HEADERS];
  if (headers) {
    res.set(headers);
  }
  res.status(status).type(FHIR_JSON).send(JSON.stringify(outcome));
}

/** Runs once the router has answered and before anything is sent; throwing withholds the answer. */
export type BeforeSend = (status: number, body: Resource | undefined) => Promise<void>;

/** Handles one request under the FHIR base through the router. */
export async function handleFhir(
  req: Request,
  res: Response,
  router: FhirRouter,
  repo: HaleRepository,
  baseUrl: string,
  beforeSend?: BeforeSend
): Promise<void> {
  checkFormat(req);
  const path = req.path.replace(/^\/+/, '');
  const fhirReq = toFhirRequest(req, path);
  const route = router.find(fhirReq.method, path);
  if (!route) {
    throw new OperationOutcomeError(notFound);
  }
  const interaction = route.data?.interaction;
  // A create whose body is a stream is an upload (POST Binary with the file's bytes: docs/uploads.md).
  const streamed = interaction === 'create' && streamedBodyOf(req.body);
  if (
    (interaction === 'create' || interaction === 'update' || interaction === 'batch') &&
    !streamed &&
    !isResource(req.body)
  ) {
    throw new OperationOutcomeError(badRequest('Request body must be a FHIR resource'));
  }
  const result = await router.handleRequest(fhirReq, repo);
  try {
    await beforeSend?.(outcomeStatus(result[0]), result[1] ?? result[0]);
  } catch (err) {
    discardStreamedAnswer(result[1]);
    throw err;
  }
  sendFhirResponse(req, res, result, baseUrl, route.data?.interaction);
}
