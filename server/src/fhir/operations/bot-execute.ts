import { OperationOutcomeError, allOk, badRequest, notFound } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { Bot, OperationDefinition, OperationOutcome } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import type { HaleRepository } from '../../storage/repository';
import { rawBody } from '../raw-body';
import type { OperationDeps } from './context';

export const botExecuteOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Bot-execute',
  url: `${HALE_FHIR}/OperationDefinition/Bot-execute`,
  name: 'Execute',
  title: 'Run a bot',
  status: 'active',
  kind: 'operation',
  code: 'execute',
  description:
    "Runs the bot with the request body as its input (FHIR or other JSON, text, HL7 v2) — or, for GET, the query's " +
    'parameters as a JSON object — and answers with what its handler returned (JSON, or text for a string). ' +
    'The caller must be able to read the Bot. A failed run answers 400 with the error; a missing Bot 404.',
  resource: ['Bot'],
  system: false,
  type: true,
  instance: true,
  parameter: [{ name: 'return', use: 'out', min: 0, max: '1', type: 'Resource' }],
};

/** POST|GET Bot/{id}/$execute, or Bot/$execute?identifier=system|value (Medplum's forms). */
export async function botExecuteHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const bots = deps.bots;
  if (!bots) {
    throw new OperationOutcomeError(notFound);
  }
  const bot = await findBot(req, repo); // as the caller: 404 or 403 unless they may read it
  const contentType = (headerOf(req, 'content-type') ?? 'application/json').split(';')[0]?.trim() ?? 'application/json';
  const input = req.method === 'GET' ? queryInput(req) : req.body;
  const auth = headerOf(req, 'authorization');
  const outcome = await bots.run({
    botId: bot.id,
    trigger: 'execute',
    contentType: req.method === 'GET' ? 'application/json' : contentType,
    input: input instanceof URLSearchParams ? Object.fromEntries(input) : input,
    headers: forwardedHeaders(req),
    callerToken: auth?.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : undefined,
  });
  if (!outcome.ok) {
    const failed: OperationOutcome = badRequest(
      `Bot ${outcome.error?.kind ?? 'error'}: ${outcome.error?.message ?? 'the run failed'}`
    );
    return [failed];
  }
  const value = outcome.returnValue;
  if (typeof value === 'string') {
    return [allOk, rawBody(value, 'text/plain; charset=utf-8')];
  }
  return [allOk, rawBody(JSON.stringify(value ?? null), 'application/json; charset=utf-8')];
}

async function findBot(req: FhirRequest, repo: HaleRepository): Promise<Bot & { id: string }> {
  const id = req.params.id;
  if (id) {
    return await repo.readResource<Bot>('Bot', id);
  }
  const identifier = typeof req.query.identifier === 'string' ? req.query.identifier : undefined;
  if (!identifier) {
    throw new OperationOutcomeError(badRequest('Bot/$execute needs a Bot id or ?identifier=system|value'));
  }
  const found = await repo.search<Bot>({
    resourceType: 'Bot',
    filters: [{ code: 'identifier', operator: 'eq', value: identifier }],
    count: 2,
  });
  const matches = (found.entry ?? []).map((e) => e.resource).filter((b): b is Bot & { id: string } => !!b?.id);
  if (matches.length !== 1) {
    throw new OperationOutcomeError(
      matches.length === 0 ? notFound : badRequest(`More than one Bot has the identifier ${identifier}`)
    );
  }
  return matches[0] as Bot & { id: string };
}

function headerOf(req: FhirRequest, name: string): string | undefined {
  const value = req.headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}

/** GET $execute: the query's parameters are the input, as Medplum passes them. */
function queryInput(req: FhirRequest): Record<string, unknown> {
  // No prototype: a parameter named __proto__ or constructor is a key like any other.
  const out = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(req.query)) {
    if (!k.startsWith('_') && k !== 'identifier') {
      out[k] = v;
    }
  }
  return out;
}

/** The request headers a bot sees (Medplum passes them too), without credentials or cookies. */
function forwardedHeaders(req: FhirRequest): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries((req.headers ?? {}) as Record<string, string | string[] | undefined>)) {
    if (v !== undefined && k !== 'authorization' && k !== 'cookie') {
      out[k] = Array.isArray(v) ? v.join(', ') : v;
    }
  }
  return out;
}
