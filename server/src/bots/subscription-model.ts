import type { Filter } from '@medplum/core';
import { OperationOutcomeError, badRequest, getExtensionValue, parseSearchRequest } from '@medplum/core';
import type { Subscription } from '@medplum/fhirtypes';
import { isResourceType } from '../fhir/definitions';
import type { RepoContext } from '../storage/context';
import { systemAccess } from '../storage/access';
import type { CompileScope } from '../storage/search/compile';
import { compileFilters } from '../storage/search/compile';

/** Medplum's extensions on Subscription, which Hale honours the same way. */
export const SUPPORTED_INTERACTION_URL =
  'https://medplum.com/fhir/StructureDefinition/subscription-supported-interaction';
export const FHIRPATH_CRITERIA_URL = 'https://medplum.com/fhir/StructureDefinition/fhir-path-criteria-expression';
export const SUBSCRIPTION_SECRET_URL = 'https://www.medplum.com/fhir/StructureDefinition/subscription-secret';
/** The R5 backport's Subscription.maxCount: at most this many events in one notification (one bot run). */
export const MAX_COUNT_URL = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-max-count';
/** Largest batch Hale delivers at once: a run holds its events' resources in memory and in one sandbox. */
export const MAX_BATCH = 1000;

export type Interaction = 'create' | 'update' | 'delete';

/** Where a matching event goes: a Bot of this server, or an https endpoint (signed). */
export type Channel = { kind: 'bot'; botId: string } | { kind: 'url'; endpoint: string; secret?: string };

/** An active Subscription, parsed once: what it matches and where it delivers. */
export interface ActiveSubscription {
  id: string;
  resourceType: string;
  filters: readonly Filter[];
  /** Undefined: every interaction (create, update and delete). */
  interactions?: ReadonlySet<Interaction>;
  /** Medplum's fhir-path-criteria-expression: evaluated with %previous and %current at delivery. */
  fhirPath?: string;
  channel: Channel;
  /** Events per delivery: 1 delivers each resource alone; more delivers a history Bundle of up to this many. */
  maxCount: number;
}

const refuse = (text: string): OperationOutcomeError => new OperationOutcomeError(badRequest(text));

/**
 * Parses a Subscription the way delivery uses it, throwing a 400 that names the problem: the
 * pre-write rule (an invalid Subscription is refused at write) and the registry share it.
 */
export function parseSubscription(
  sub: Subscription,
  ctx: Pick<RepoContext, 'searchParams' | 'baseUrl' | 'db'>
): ActiveSubscription {
  const criteria = sub.criteria?.trim();
  if (!criteria) {
    throw refuse('Subscription.criteria is required: a FHIR search such as Observation?code=85354-9');
  }
  const [path = '', query = ''] = criteria.split('?', 2);
  const resourceType = path.replace(/^\/+/, '');
  if (!isResourceType(resourceType)) {
    throw refuse(`Subscription.criteria must start with a resource type: '${resourceType}' is not one`);
  }
  let filters: Filter[];
  try {
    filters = parseSearchRequest(`${resourceType}?${query}`).filters ?? [];
  } catch (err) {
    throw refuse(`Subscription.criteria is not a valid search: ${(err as Error).message}`);
  }
  // Compiled once here in strict mode, so an unknown parameter or a bad value fails the write.
  compileCriteria(ctx, resourceType, 'r', filters);
  const interactions = interactionsOf(sub);
  const fhirPath = getExtensionValue(sub, FHIRPATH_CRITERIA_URL) as string | undefined;
  return {
    id: sub.id ?? '',
    resourceType,
    filters,
    interactions,
    fhirPath: typeof fhirPath === 'string' && fhirPath.trim() ? fhirPath : undefined,
    channel: channelOf(sub),
    maxCount: maxCountOf(sub),
  };
}

/** The criteria as a predicate over a `resource` row alias (the SQL search code: one evaluator). */
export function compileCriteria(
  ctx: Pick<RepoContext, 'searchParams' | 'baseUrl' | 'db'>,
  resourceType: string,
  alias: string,
  filters: readonly Filter[]
): ReturnType<typeof compileFilters> {
  const scope: CompileScope = {
    ctx: { ...ctx, access: systemAccess, validate: false },
    ignored: [],
    strict: true,
    aliasCount: 0,
  };
  return compileFilters(scope, resourceType, alias, filters);
}

function interactionsOf(sub: Subscription): ReadonlySet<Interaction> | undefined {
  const codes = (sub.extension ?? []).filter((e) => e.url === SUPPORTED_INTERACTION_URL).map((e) => e.valueCode);
  if (codes.length === 0) {
    return undefined;
  }
  for (const code of codes) {
    if (code !== 'create' && code !== 'update' && code !== 'delete') {
      throw refuse(`subscription-supported-interaction must be create, update or delete, not '${String(code)}'`);
    }
  }
  return new Set(codes as Interaction[]);
}

/** backport-max-count's raw value, on Subscription.channel (where the backport IG puts it) or on the Subscription. */
export function declaredMaxCount(sub: Subscription): unknown {
  const ext = [...(sub.channel?.extension ?? []), ...(sub.extension ?? [])].find((e) => e.url === MAX_COUNT_URL);
  return ext ? (ext.valuePositiveInt ?? ext.valueInteger) : undefined;
}

/** The events per delivery a Subscription asks for: 1 without backport-max-count. */
function maxCountOf(sub: Subscription): number {
  const value = declaredMaxCount(sub);
  if (value === undefined) {
    return 1;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_BATCH) {
    throw refuse(`backport-max-count must be a positiveInt from 1 to ${MAX_BATCH}`);
  }
  return value;
}

function channelOf(sub: Subscription): Channel {
  if (sub.channel?.type !== 'rest-hook') {
    throw refuse(`Subscription.channel.type '${String(sub.channel?.type)}' is not supported: use rest-hook`);
  }
  const endpoint = sub.channel.endpoint?.trim() ?? '';
  const bot = /^Bot\/([A-Za-z0-9\-.]{1,64})$/.exec(endpoint);
  if (bot?.[1]) {
    return { kind: 'bot', botId: bot[1] };
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw refuse('Subscription.channel.endpoint must be Bot/<id> or an https URL');
  }
  if (url.protocol !== 'https:') {
    throw refuse('Subscription.channel.endpoint must be Bot/<id> or an https URL');
  }
  const secret = getExtensionValue(sub, SUBSCRIPTION_SECRET_URL);
  return { kind: 'url', endpoint: url.toString(), secret: typeof secret === 'string' ? secret : undefined };
}
