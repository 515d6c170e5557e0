import { OperationOutcomeError, evalFhirPathTyped, toTypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { Logger } from '../logger';
import type { HaleRepository } from '../storage/repository';
import { PermanentError } from './dispatcher';
import type { Job } from './job-store';
import type { BotInvocation, BotRunOutcome } from './run-bot';
import { postWebhook } from './webhook';
import type { ActiveSubscription } from './subscription-model';
import type { SubscriptionRegistry } from './subscription-registry';

export interface DeliverDeps {
  registry: SubscriptionRegistry;
  systemRepository: () => HaleRepository;
  logger: Logger;
  run: (call: BotInvocation) => Promise<BotRunOutcome>;
}

/** The job handler: delivers a subscription event (to a Bot or an https endpoint) or runs a cron tick. */
export function deliverer(deps: DeliverDeps): (job: Job) => Promise<void> {
  return async (job) => {
    if (job.kind === 'cron') {
      const botId = job.bot_id ?? '';
      await runOrThrow(deps, { botId, trigger: 'cron', contentType: 'application/json', input: {} });
      return;
    }
    const sub = deps.registry.get(job.subscription_id ?? '');
    if (!sub) {
      // Deleted or deactivated since the event was recorded: nothing to deliver to.
      deps.logger.info(
        { job: job.id, subscription: job.subscription_id },
        'subscription no longer active; event dropped'
      );
      return;
    }
    const resource = await versionOf(deps, job);
    if (sub.fhirPath && !(await fhirPathMatches(deps, sub, job, resource))) {
      return;
    }
    const headers: Record<string, string> = { 'X-Hale-Interaction': job.interaction ?? 'create' };
    if (job.interaction === 'delete') {
      headers['X-Medplum-Deleted-Resource'] = `${job.resource_type}/${job.resource_id}`;
    }
    if (sub.channel.kind === 'bot') {
      await runOrThrow(deps, {
        botId: sub.channel.botId,
        trigger: 'subscription',
        contentType: 'application/fhir+json',
        input: resource,
        headers,
        about: { reference: `${job.resource_type}/${job.resource_id}/_history/${job.version_id}` },
      });
    } else {
      await postWebhook(sub.channel, resource, headers);
    }
  };
}

async function runOrThrow(deps: DeliverDeps, call: BotInvocation): Promise<void> {
  let outcome: BotRunOutcome;
  try {
    outcome = await deps.run(call);
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      // The Bot is gone or has no code: retrying cannot mend that (a lost connection is not one of these).
      throw new PermanentError(`Bot/${call.botId}: ${err.message}`);
    }
    throw err;
  }
  if (!outcome.ok) {
    throw new Error(`Bot/${call.botId} failed (${outcome.error?.kind ?? 'error'}): ${outcome.error?.message ?? ''}`);
  }
}

/** The version the event is about; for a delete, the last version before it (what was deleted). */
async function versionOf(deps: DeliverDeps, job: Job): Promise<Resource> {
  const repo = deps.systemRepository();
  const type = job.resource_type ?? '';
  const id = job.resource_id ?? '';
  const version = job.interaction === 'delete' ? (job.version_id ?? 1) - 1 : (job.version_id ?? 1);
  try {
    return await repo.readVersion(type, id, String(version));
  } catch (err) {
    throw new PermanentError(`${type}/${id}/_history/${version} cannot be read: ${(err as Error).message}`);
  }
}

/** Medplum's fhir-path-criteria-expression, with %current and %previous (empty for a create). */
async function fhirPathMatches(
  deps: DeliverDeps,
  sub: ActiveSubscription,
  job: Job,
  current: Resource
): Promise<boolean> {
  let previous: Resource | Record<string, never> = {};
  const prior = (job.version_id ?? 1) - (job.interaction === 'delete' ? 2 : 1);
  if (prior >= 1) {
    previous = await deps
      .systemRepository()
      .readVersion(job.resource_type ?? '', job.resource_id ?? '', String(prior))
      .catch(() => ({}));
  }
  try {
    const result = evalFhirPathTyped(sub.fhirPath ?? 'true', [toTypedValue(current)], {
      '%current': toTypedValue(current),
      '%previous': toTypedValue(previous),
    });
    return result[0]?.value === true;
  } catch (err) {
    throw new PermanentError(`fhir-path-criteria-expression failed: ${(err as Error).message}`);
  }
}
