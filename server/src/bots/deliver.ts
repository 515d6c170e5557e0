import { OperationOutcomeError, evalFhirPathTyped, toTypedValue } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Logger } from '../logger';
import type { VersionKey } from '../storage/read';
import type { HaleRepository } from '../storage/repository';
import type { JobOutcome } from './dispatcher';
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
  /** Claims a batching Subscription's other due events (JobStore.claimBatch). */
  claimBatch: (job: Job, limit: number) => Promise<Job[]>;
  /** The FHIR base URL, for a batch Bundle's fullUrls. */
  fhirBaseUrl: string;
}

/** One event ready to deliver: its job and the version it is about. */
interface Event {
  job: Job;
  resource: Resource;
}

/**
 * The job handler: delivers a subscription event (to a Bot or an https endpoint) or runs a cron
 * tick. A Subscription with backport-max-count > 1 takes its other due events along and delivers
 * them together as one history Bundle (one bot run), each event still its own row in the ledger.
 */
export function deliverer(deps: DeliverDeps): (job: Job) => Promise<void | readonly JobOutcome[]> {
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
    if (sub.maxCount <= 1) {
      const event = await eventOf(deps, sub, job);
      if (event) {
        await deliver(deps, sub, [event]);
      }
      return;
    }
    const jobs = [job, ...(await deps.claimBatch(job, sub.maxCount - 1))];
    return deliverBatch(deps, sub, jobs);
  };
}

/** The event of a job (its version already read, or read now), or undefined when the FHIRPath criteria leave it out. */
async function eventOf(
  deps: DeliverDeps,
  sub: ActiveSubscription,
  job: Job,
  read?: Resource | Error
): Promise<Event | undefined> {
  const resource = read === undefined ? await versionOf(deps, job) : unreadable(job, read);
  if (sub.fhirPath && !(await fhirPathMatches(deps, sub, job, resource))) {
    return undefined;
  }
  return { job, resource };
}

/**
 * Each job's event is read (one that cannot be, or whose criteria fail, ends alone), the rest go out in
 * one delivery whose outcome is theirs: a failed run retries them all, and the bot's writes are
 * idempotent per event. The versions are read in one query: one each was a round trip per event.
 */
async function deliverBatch(deps: DeliverDeps, sub: ActiveSubscription, jobs: readonly Job[]): Promise<JobOutcome[]> {
  const outcomes: JobOutcome[] = [];
  const events: Event[] = [];
  const versions = await deps.systemRepository().readVersions(jobs.map(versionKey));
  for (const [i, job] of jobs.entries()) {
    try {
      const event = await eventOf(deps, sub, job, versions[i]);
      if (event) {
        events.push(event);
      } else {
        outcomes.push({ job });
      }
    } catch (error) {
      outcomes.push({ job, error });
    }
  }
  if (events.length > 0) {
    let error: unknown;
    try {
      await deliver(deps, sub, events);
    } catch (err) {
      error = err ?? new Error('delivery failed');
    }
    outcomes.push(...events.map((e) => (error === undefined ? { job: e.job } : { job: e.job, error })));
  }
  return outcomes;
}

const METHOD: Record<NonNullable<Job['interaction']>, 'POST' | 'PUT' | 'DELETE'> = {
  create: 'POST',
  update: 'PUT',
  delete: 'DELETE',
};

/**
 * A batch as a history Bundle: an entry per event, oldest first, with the version it is about (for a
 * delete, the last version before it) and `request` saying what happened (POST create, PUT update,
 * DELETE delete).
 */
function historyBundle(deps: DeliverDeps, events: readonly Event[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'history',
    timestamp: new Date().toISOString(),
    total: events.length,
    entry: events.map(({ job, resource }) => {
      const path = `${job.resource_type}/${job.resource_id}`;
      const method = METHOD[job.interaction ?? 'create'];
      return {
        fullUrl: `${deps.fhirBaseUrl.replace(/\/+$/, '')}/${path}`,
        resource,
        request: { method, url: method === 'POST' ? (job.resource_type ?? '') : path },
      };
    }),
  };
}

async function deliver(deps: DeliverDeps, sub: ActiveSubscription, events: readonly Event[]): Promise<void> {
  const single = sub.maxCount <= 1 ? events[0] : undefined;
  const headers: Record<string, string> = { 'X-Hale-Subscription': sub.id };
  if (single) {
    const { job } = single;
    headers['X-Hale-Interaction'] = job.interaction ?? 'create';
    if (job.interaction === 'delete') {
      headers['X-Medplum-Deleted-Resource'] = `${job.resource_type}/${job.resource_id}`;
    }
  } else {
    headers['X-Hale-Batch'] = String(events.length);
  }
  const input = single ? single.resource : historyBundle(deps, events);
  if (sub.channel.kind === 'bot') {
    await runOrThrow(deps, {
      botId: sub.channel.botId,
      trigger: 'subscription',
      contentType: 'application/fhir+json',
      input,
      headers,
      about: events.map(({ job }) => ({
        reference: `${job.resource_type}/${job.resource_id}/_history/${job.version_id}`,
      })),
    });
  } else {
    await postWebhook(sub.channel, input, headers);
  }
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
function versionKey(job: Job): VersionKey {
  const version = job.interaction === 'delete' ? (job.version_id ?? 1) - 1 : (job.version_id ?? 1);
  return { type: job.resource_type ?? '', id: job.resource_id ?? '', version };
}

async function versionOf(deps: DeliverDeps, job: Job): Promise<Resource> {
  const { type, id, version } = versionKey(job);
  try {
    return await deps.systemRepository().readVersion(type, id, String(version));
  } catch (err) {
    // Absent or deleted (an OperationOutcome) is for good; a lost connection is not, and the job is retried.
    if (err instanceof OperationOutcomeError) {
      return unreadable(job, err);
    }
    throw err;
  }
}

/** A version read in a batch: the resource, or the job's permanent failure (retrying cannot make it readable). */
function unreadable(job: Job, read: Resource | Error): Resource {
  if (!(read instanceof Error)) {
    return read;
  }
  const { type, id, version } = versionKey(job);
  throw new PermanentError(`${type}/${id}/_history/${version} cannot be read: ${read.message}`);
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
