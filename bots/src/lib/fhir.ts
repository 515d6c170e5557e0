import type { BotEvent, MedplumClient } from '@medplum/core';
import type {
  Bundle,
  CodeableConcept,
  Coding,
  Extension,
  ExtractResource,
  Identifier,
  Reference,
  Resource,
  ResourceType,
} from '@medplum/fhirtypes';
import { BOT_KEY_SYSTEM, ICD10, ICD10CM } from './vocabulary';

/** What every bot passes around: the client, the time it runs at, and its secrets. */
export interface BotContext {
  readonly medplum: MedplumClient;
  readonly now: Date;
  readonly event: BotEvent;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The bot's context. `event.input.now` (an ISO date-time) overrides the clock so that cron runs can be replayed
 * and tests are deterministic (tests also add it to a resource input; inputOf strips it).
 */
export function contextOf(medplum: MedplumClient, event: BotEvent): BotContext {
  const input = event.input as { now?: unknown } | undefined;
  const given = typeof input?.now === 'string' ? new Date(input.now) : undefined;
  const now = given && !Number.isNaN(given.getTime()) ? given : new Date();
  return { medplum, now, event };
}

/**
 * True when the bot was started without a resource to work on: by cron (Medplum passes the Bot itself as input),
 * by `$execute` with no body, or with a plain `{ now }` object.
 */
export function isCronInput(input: unknown): boolean {
  if (!input || typeof input !== 'object') {
    return true;
  }
  const type = (input as { resourceType?: unknown }).resourceType;
  return type === undefined || type === 'Bot';
}

/** A subscription event for a delete (Hale's X-Hale-Interaction, Medplum's X-Medplum-Deleted-Resource). */
export function isDeleteEvent(event: BotEvent): boolean {
  const headers = Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]);
  return headers.some(([k, v]) => k === 'x-medplum-deleted-resource' || (k === 'x-hale-interaction' && v === 'delete'));
}

/**
 * The input when it is a resource of this type (without a test's `now`). A deleted resource is no input: the bots
 * act on what is written, and what they wrote about it stays as the record of that time.
 */
export function inputOf<T extends Resource>(event: BotEvent, resourceType: T['resourceType']): T | undefined {
  const input = event.input as (Resource & { now?: unknown }) | undefined;
  if (!input || typeof input !== 'object' || input.resourceType !== resourceType || isDeleteEvent(event)) {
    return undefined;
  }
  const { now: _now, ...resource } = input;
  return resource as T;
}

/**
 * The inputs of this type: the one resource of a single event (as inputOf), or each written (not deleted) resource
 * of a batch — the history Bundle Hale delivers for a Subscription with backport-max-count > 1 — oldest first.
 * Undefined when the input is neither.
 */
export function inputsOf<T extends Resource>(event: BotEvent, resourceType: T['resourceType']): T[] | undefined {
  const input = event.input as Bundle | undefined;
  if (input?.resourceType === 'Bundle' && input.type === 'history') {
    return (input.entry ?? []).flatMap((e) =>
      e.resource?.resourceType === resourceType && e.request?.method !== 'DELETE' ? [e.resource as T] : []
    );
  }
  const one = inputOf<T>(event, resourceType);
  return one ? [one] : undefined;
}

/** A secret's string value, or the fallback. */
export function secretString(event: BotEvent, name: string, fallback: string): string {
  const value = event.secrets?.[name]?.valueString;
  return value && value.trim() !== '' ? value.trim() : fallback;
}

export function secretNumber(event: BotEvent, name: string, fallback: number): number {
  const setting = event.secrets?.[name];
  const value = setting?.valueInteger ?? setting?.valueDecimal ?? Number(setting?.valueString);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** `Type/id` of a stored resource. */
export function refOf(resource: Resource): string {
  return `${resource.resourceType}/${resource.id}`;
}

export function referenceTo<T extends Resource>(resource: T): Reference<T> {
  return { reference: refOf(resource) };
}

/** The resource type of a relative reference (`Patient/1` → `Patient`). */
export function typeOf(reference: Reference | undefined): string | undefined {
  const ref = reference?.reference;
  return ref && /^[A-Z][A-Za-z]+\/[^/]+$/.test(ref) ? ref.slice(0, ref.indexOf('/')) : undefined;
}

export function keyIdentifier(key: string): Identifier {
  return { system: BOT_KEY_SYSTEM, value: key };
}

/** The search that finds what a bot wrote under this key. Keys never contain `|`, which the token syntax uses. */
export function keyQuery(key: string): string {
  if (key.includes('|')) {
    throw new Error(`bot key ${key} contains |`);
  }
  return `identifier=${encodeURIComponent(`${BOT_KEY_SYSTEM}|${key}`)}`;
}

/**
 * Creates the resource unless one with this key exists, and returns whichever is stored: the bots' writes are
 * idempotent because running twice finds the first run's resource.
 */
export async function createOnce<T extends Resource>(
  medplum: MedplumClient,
  resource: T,
  key: string,
  ...moreKeys: string[]
): Promise<T & { id: string }> {
  const identifiers = [...(((resource as { identifier?: Identifier[] }).identifier as Identifier[]) ?? [])];
  for (const k of [key, ...moreKeys]) {
    identifiers.push(keyIdentifier(k));
  }
  const withKeys = { ...resource, identifier: identifiers } as T;
  return await medplum.createResourceIfNoneExist(withKeys, keyQuery(key));
}

/** Resources written under this key (optionally narrowed by more search parameters). */
export async function findByKey<T extends Resource>(
  medplum: MedplumClient,
  resourceType: T['resourceType'],
  key: string,
  more = ''
): Promise<T[]> {
  const query = more ? `${keyQuery(key)}&${more}` : keyQuery(key);
  return (await medplum.searchResources(resourceType, query)) as unknown as T[];
}

export function hasKey(resource: Resource, key: string): boolean {
  const identifiers = (resource as { identifier?: Identifier[] }).identifier ?? [];
  return identifiers.some((i) => i.system === BOT_KEY_SYSTEM && i.value === key);
}

/** Written by a bot (it carries a bot key). */
export function isBotWritten(resource: Resource): boolean {
  const identifiers = (resource as { identifier?: Identifier[] }).identifier ?? [];
  return identifiers.some((i) => i.system === BOT_KEY_SYSTEM);
}

/**
 * True when the concept carries the coding: same system and code, or for ICD-10 a more specific code under it
 * (E11.9 is under E11).
 */
export function codingIn(concept: CodeableConcept | undefined, target: Coding): boolean {
  return (concept?.coding ?? []).some((c) => sameCode(c, target));
}

export function sameCode(c: Coding, target: Coding): boolean {
  if (c.system !== target.system || !c.code || !target.code) {
    return false;
  }
  const icd = target.system === ICD10 || target.system === ICD10CM;
  return c.code === target.code || (icd && c.code.startsWith(`${target.code}.`));
}

export function anyCodingIn(concept: CodeableConcept | undefined, targets: readonly Coding[]): boolean {
  return targets.some((t) => codingIn(concept, t));
}

/** `system|code,system|code` for a token search. */
export function tokenList(codings: readonly Coding[]): string {
  return codings.map((c) => `${c.system}|${c.code}`).join(',');
}

export function extensionValue(extensions: Extension[] | undefined, url: string): Extension | undefined {
  return extensions?.find((e) => e.url === url);
}

export function addMs(date: Date, ms: number): Date {
  return new Date(date.getTime() + ms);
}

export function addDays(date: Date, days: number): Date {
  return addMs(date, days * DAY_MS);
}

/** The instant of a FHIR date or dateTime (a date is its start, UTC), or undefined. */
export function instantOf(value: string | undefined): number | undefined {
  if (!value) {
    return undefined;
  }
  const t = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  return Number.isNaN(t) ? undefined : t;
}

/** The end of a FHIR Period end value: a date (2025-09-01) lasts to the end of that day. */
export function endInstantOf(value: string | undefined): number | undefined {
  const t = instantOf(value);
  return t !== undefined && value?.length === 10 ? t + DAY_MS : t;
}

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * Creates the resource under this key, or updates the one stored under it when `same` says it differs (after
 * `onUpdate`, e.g. status amended): for derived values recomputed when an input is corrected.
 */
export async function upsertByKey<T extends Resource>(
  medplum: MedplumClient,
  resource: T,
  key: string,
  same: (stored: T) => boolean,
  onUpdate: (fresh: T) => T = (fresh) => fresh
): Promise<{ resource: T & { id: string }; outcome: 'created' | 'updated' | 'unchanged' }> {
  const stored = (await findByKey<T>(medplum, resource.resourceType, key))[0] as (T & { id: string }) | undefined;
  if (!stored) {
    return { resource: await createOnce(medplum, resource, key), outcome: 'created' };
  }
  if (same(stored)) {
    return { resource: stored, outcome: 'unchanged' };
  }
  const identifier = (stored as { identifier?: Identifier[] }).identifier;
  const updated = await medplum.updateResource({ ...onUpdate(resource), id: stored.id, identifier } as T & {
    id: string;
  });
  return { resource: updated, outcome: 'updated' };
}

/**
 * The pages of a search, following the Bundle's `next` links. Written out rather than MedplumClient's
 * searchResourcePages because a generator does not cross into Hale's bot sandbox (its client proxy copies
 * results as JSON); `search` and `get` do, on Hale and on Medplum.
 */
export async function* searchPages<K extends ResourceType>(
  medplum: MedplumClient,
  resourceType: K,
  query: string[][]
): AsyncGenerator<ExtractResource<K>[]> {
  let bundle: Bundle<ExtractResource<K>> = await medplum.search(resourceType, query);
  for (;;) {
    yield (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    if (!next) {
      return;
    }
    bundle = await medplum.get<Bundle<ExtractResource<K>>>(next);
  }
}

/**
 * Every match of a search, collected before the caller changes any of them (changing what a search matches while
 * paging through it skips results). At most `limit`; the next cron run picks up the rest.
 */
export async function searchAll<K extends ResourceType>(
  medplum: MedplumClient,
  resourceType: K,
  query: string[][],
  limit = 1000
): Promise<ExtractResource<K>[]> {
  const found: ExtractResource<K>[] = [];
  for await (const page of searchPages(medplum, resourceType, [...query, ['_count', '100']])) {
    found.push(...page);
    if (found.length >= limit) {
      break;
    }
  }
  return found.slice(0, limit);
}

/** People and organizations a notification can go to (Hale reads their telecom). */
export const ADDRESSABLE_TYPES = ['Patient', 'Practitioner', 'RelatedPerson', 'PractitionerRole', 'Organization'];

/** The distinct addressable references among these, in order. */
export function addressable(references: readonly (Reference | undefined)[]): Reference[] {
  const seen = new Set<string>();
  const out: Reference[] = [];
  for (const r of references) {
    const ref = r?.reference;
    if (ref && ADDRESSABLE_TYPES.includes(typeOf(r) ?? '') && !seen.has(ref)) {
      seen.add(ref);
      out.push({ reference: ref });
    }
  }
  return out;
}
