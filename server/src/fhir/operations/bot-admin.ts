import { OperationOutcomeError, allOk, badRequest, notFound } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { Bot, OperationDefinition, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { deployCode } from '../../bots/deploy';
import type { Job } from '../../bots/job-store';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput } from './parameters';

const definition = (
  code: string,
  description: string,
  parameter: OperationDefinition['parameter'],
  where: { type: boolean; instance: boolean }
): OperationDefinition => ({
  resourceType: 'OperationDefinition',
  id: `Bot-${code}`,
  url: `${HALE_FHIR}/OperationDefinition/Bot-${code}`,
  name: code.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()),
  status: 'active',
  kind: 'operation',
  code,
  description,
  resource: ['Bot'],
  system: false,
  ...where,
  parameter,
});

export const botDeployOperation = definition(
  'deploy',
  'Stores compiled JavaScript (a CommonJS bundle setting exports.handler) as a Binary and points Bot.executableCode ' +
    'at it; the next run uses it. Code that does not parse is refused (400). Needs update on the Bot.',
  [
    { name: 'code', use: 'in', min: 1, max: '1', type: 'string' },
    { name: 'filename', use: 'in', min: 0, max: '1', type: 'string' },
  ],
  { type: false, instance: true }
);

export const botSecretsOperation = definition(
  'secrets',
  'POST sets secrets the bot receives in event.secrets (one parameter per secret: its name and valueString; an ' +
    'empty value removes it); GET lists their names. Values are never returned. Needs update on the Bot.',
  [{ name: 'name', use: 'out', min: 0, max: '*', type: 'string' }],
  { type: false, instance: true }
);

export const botRunsOperation = definition(
  'bot-runs',
  'GET lists bot jobs, newest first (bot, state: pending|queued|running|done|dead, _count); POST with `retry` ' +
    '(a job id) runs a dead job again. Each run is also an AuditEvent (entity = the Bot) with its log lines.',
  [
    { name: 'retry', use: 'in', min: 0, max: '1', type: 'string' },
    { name: 'job', use: 'out', min: 0, max: '*', type: 'string' },
  ],
  { type: true, instance: false }
);

/** POST Bot/{id}/$deploy — Parameters { code, filename }, or Medplum's plain JSON { code, filename }. */
export async function botDeployHandler(req: FhirRequest, repo: HaleRepository): Promise<FhirResponse> {
  const body = req.body as (Parameters & { code?: unknown; filename?: unknown }) | undefined;
  let code: string;
  let filename: string;
  if (body?.resourceType === 'Parameters') {
    const input = OperationInput.parse(botDeployOperation, body);
    code = input.one('code', 'string') ?? '';
    filename = input.one('filename', 'string') ?? 'index.js';
  } else if (typeof body?.code === 'string') {
    code = body.code;
    filename = typeof body.filename === 'string' ? body.filename : 'index.js';
  } else {
    throw new OperationOutcomeError(
      badRequest('$deploy takes the compiled code: Parameters { code } or { "code": … }')
    );
  }
  const updated = await deployCode(repo, req.params.id as string, code, filename);
  return [allOk, updated];
}

/** GET|POST Bot/{id}/$secrets. */
export async function botSecretsHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const bots = deps.bots;
  if (!bots) {
    throw new OperationOutcomeError(notFound);
  }
  repo.ctx.access.checkInteraction('Bot', 'update');
  const bot = await repo.readResource<Bot>('Bot', req.params.id as string);
  const id = bot.id;
  if (req.method === 'POST') {
    const body = req.body as Parameters | undefined;
    if (body?.resourceType !== 'Parameters' || !body.parameter?.length) {
      throw new OperationOutcomeError(badRequest('$secrets takes Parameters: one { name, valueString } per secret'));
    }
    for (const p of body.parameter) {
      if (
        !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(p.name) ||
        (p.valueString !== undefined && typeof p.valueString !== 'string')
      ) {
        throw new OperationOutcomeError(
          badRequest(`Invalid secret '${p.name}': a name of letters, digits and _ with a valueString`)
        );
      }
    }
    await bots.setSecrets(
      id,
      body.parameter.map((p) => ({ name: p.name, value: p.valueString ?? '' }))
    );
  }
  const names = await bots.secretNames(id);
  return [allOk, { resourceType: 'Parameters', parameter: names.map((n) => ({ name: 'name', valueString: n })) }];
}

/** GET|POST Bot/$bot-runs. */
export async function botRunsHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const bots = deps.bots;
  if (!bots) {
    throw new OperationOutcomeError(notFound);
  }
  repo.ctx.access.checkInteraction('Bot', req.method === 'POST' ? 'update' : 'search');
  if (req.method === 'POST') {
    const input = OperationInput.parse(botRunsOperation, req.body);
    const retry = input.one('retry', 'string');
    if (!retry || !/^\d{1,18}$/.test(retry)) {
      throw new OperationOutcomeError(badRequest('retry must be the id of a dead job'));
    }
    if (!(await bots.store.retry(retry))) {
      throw new OperationOutcomeError(badRequest(`Job ${retry} is not dead: only dead jobs can be retried`));
    }
    bots.kick();
    const job = await bots.store.get(retry);
    return [allOk, { resourceType: 'Parameters', parameter: job ? [jobPart(job)] : [] }];
  }
  const state = typeof req.query.state === 'string' ? req.query.state : undefined;
  if (state && !['pending', 'queued', 'running', 'done', 'dead'].includes(state)) {
    throw new OperationOutcomeError(badRequest('state must be pending, queued, running, done or dead'));
  }
  const count = Math.min(Math.max(Number(req.query._count ?? 50) || 50, 1), 500);
  const jobs = await bots.store.list({
    botId: typeof req.query.bot === 'string' ? req.query.bot.replace(/^Bot\//, '') : undefined,
    state: state as Job['state'] | undefined,
    limit: count,
  });
  return [allOk, { resourceType: 'Parameters', parameter: jobs.map(jobPart) }];
}

function jobPart(job: Job): ParametersParameter {
  const part: ParametersParameter[] = [
    { name: 'id', valueString: job.id },
    { name: 'kind', valueCode: job.kind },
    { name: 'state', valueCode: job.state },
    { name: 'attempts', valueInteger: job.attempts },
    { name: 'created', valueInstant: new Date(job.created_at).toISOString() },
  ];
  if (job.bot_id) {
    part.push({ name: 'bot', valueReference: { reference: `Bot/${job.bot_id}` } });
  }
  if (job.subscription_id) {
    part.push({ name: 'subscription', valueReference: { reference: `Subscription/${job.subscription_id}` } });
  }
  if (job.endpoint) {
    part.push({ name: 'endpoint', valueUrl: job.endpoint });
  }
  if (job.resource_type && job.resource_id) {
    part.push({
      name: 'resource',
      valueReference: { reference: `${job.resource_type}/${job.resource_id}/_history/${job.version_id}` },
    });
  }
  if (job.last_error) {
    part.push({ name: 'error', valueString: job.last_error });
  }
  if (job.finished_at) {
    part.push({ name: 'finished', valueInstant: new Date(job.finished_at).toISOString() });
  }
  return { name: 'job', part };
}
