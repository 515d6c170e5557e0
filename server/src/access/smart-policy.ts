import type { Filter } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { Sql } from '../db/sql';
import { and, or, raw, sql } from '../db/sql';
import { isResourceType } from '../fhir/definitions';
import { forbiddenBecause } from '../fhir/errors';
import type { AccessPolicy, Interaction, ReadHint, WriteSubject } from '../storage/access';
import { systemAccess } from '../storage/access';
import type { RepoContext } from '../storage/context';
import { buildIndexRows } from '../storage/indexer';
import type { CompileScope } from '../storage/search/compile';
import { compileFilters } from '../storage/search/compile';
import { DIRECTORY_TYPES, isInPatientCompartment } from './compartment-types';
import { CATEGORY_DEFINITIONS } from './consent/categories';
import type { RowFacts } from './consent/expr';
import type { GrantSet } from './consent/grant-set';
import { factsOfRows } from './consent/grant-set';
import type { Category } from './consent/vocabulary';
import type { ResourceScope } from './scope-types';

/** The sharing categories a Consent can grant one by one ('all' is every one of them). */
const SHARED_CATEGORIES = Object.keys(CATEGORY_DEFINITIONS) as Exclude<Category, 'all'>[];

/**
 * Whose data a grant reaches: everything of the granted types (system), one patient's
 * compartment, and/or the directory types (DIRECTORY_TYPES).
 */
export interface Reach {
  all: boolean;
  /** The whole compartment of this patient (the patient themself). */
  patientId?: string;
  directory: boolean;
  /** What Consents (and guardianship, break-glass) grant in other patients' compartments. */
  grants?: GrantSet;
}

export interface SmartCaller {
  /** Resource scopes granted by the token, after parsing. */
  scopes: readonly ResourceScope[];
  /** Reach of patient/ scopes: the launch patient. */
  patientReach: Reach;
  /** Reach of user/ scopes: what the user may see (their own compartment for a patient user). */
  userReach: Reach;
  /** Names a provider as author/performer of what they add to a patient's record. */
  stamp?: (resource: Record<string, unknown> & { resourceType: string }) => void;
}

const PERMISSION: Record<Interaction, 'c' | 'r' | 'u' | 'd' | 's'> = {
  create: 'c',
  read: 'r',
  update: 'u',
  delete: 'd',
  search: 's',
};

/**
 * SMART on FHIR scopes as an AccessPolicy. Reads: the OR of every granting scope's predicate
 * (its reach, AND its granular `?param=value` restriction compiled like a search filter);
 * a type with no granting scope reads as FALSE, so includes and chains cannot reach it.
 * Interactions with no granting scope at all answer 403.
 */
export class SmartPolicy implements AccessPolicy {
  constructor(
    private readonly caller: SmartCaller,
    private readonly ctx: Pick<RepoContext, 'searchParams' | 'baseUrl' | 'db'>
  ) {}

  /** The facts a Consent rule tests, of the version being written or of the stored version. */
  private readonly facts = (resourceType: string, subject: WriteSubject): RowFacts | undefined => {
    const stored = subject.content ? (JSON.parse(subject.content) as Resource) : undefined;
    const rows =
      subject.rows ??
      (stored ? buildIndexRows(stored, this.ctx.searchParams.lookup, { baseUrl: this.ctx.baseUrl }) : undefined);
    const version = subject.resource ?? stored;
    if (!rows || !version) {
      return undefined;
    }
    return factsOfRows(
      resourceType,
      version.id ?? '',
      version.meta?.versionId ?? '',
      rows,
      this.ctx.searchParams,
      Date.now()
    );
  };

  basisFor(patientIds: readonly string[]): string[] {
    const basis = new Set<string>();
    for (const reach of [this.caller.userReach, this.caller.patientReach]) {
      if (reach.patientId !== undefined && patientIds.includes(reach.patientId)) {
        basis.add('own-record');
      }
      for (const b of reach.grants?.basisFor(patientIds) ?? []) {
        basis.add(b);
      }
    }
    return [...basis];
  }

  withheldCategories(patientId: string): string[] {
    const reaches = [...new Set(this.caller.scopes.map((s) => this.reachOf(s)))];
    if (reaches.some((r) => r.all || r.patientId === patientId)) {
      return [];
    }
    const shares = (c: Exclude<Category, 'all'>): boolean =>
      reaches.some((r) => r.grants?.sharesCategory(patientId, c));
    return SHARED_CATEGORIES.filter((c) => !shares(c));
  }

  stampWrite(resource: Record<string, unknown> & { resourceType: string }): void {
    this.caller.stamp?.(resource);
  }

  private reachOf(scope: ResourceScope): Reach {
    return scope.context === 'system'
      ? { all: true, directory: true }
      : scope.context === 'patient'
        ? this.caller.patientReach
        : this.caller.userReach;
  }

  private granting(resourceType: string, permission: 'c' | 'r' | 'u' | 'd' | 's'): ResourceScope[] {
    return this.caller.scopes.filter(
      (s) => (s.resourceType === '*' || s.resourceType === resourceType) && s.permissions.has(permission)
    );
  }

  checkInteraction(resourceType: string, interaction: Interaction): void {
    if (!isResourceType(resourceType)) {
      return; // the caller answers 400 for an unknown type
    }
    const scopes = this.granting(resourceType, PERMISSION[interaction]);
    if (!scopes.some((s) => reachCovers(this.reachOf(s), resourceType))) {
      throw forbiddenBecause(`The access token does not grant ${interaction} on ${resourceType}`);
    }
  }

  readFilter(alias: string, resourceType: string | undefined, history = false, hint?: ReadHint): Sql | undefined {
    if (resourceType) {
      return this.typeFilter(alias, resourceType, history, hint);
    }
    // Rows of any type (history, $everything, reference reads): each row is judged by its own type.
    const branches: Sql[] = [];
    const typed = new Set(this.caller.scopes.map((s) => s.resourceType).filter((t) => t !== '*'));
    for (const type of typed) {
      branches.push(and([sql`${raw(alias)}.type = ${type}`, this.typeFilter(alias, type, history)]));
    }
    for (const scope of this.caller.scopes.filter((s) => s.resourceType === '*' && readable(s))) {
      branches.push(
        and([
          sql`NOT (${raw(alias)}.type = ANY(${[...typed]}::text[]))`,
          this.scopePredicate(alias, '*', scope, history),
        ])
      );
    }
    return or(branches);
  }

  private typeFilter(alias: string, resourceType: string, history: boolean, hint?: ReadHint): Sql {
    const scopes = this.caller.scopes.filter(
      (s) => (s.resourceType === '*' || s.resourceType === resourceType) && readable(s)
    );
    return or(scopes.map((s) => this.scopePredicate(alias, resourceType, s, history, hint)));
  }

  private scopePredicate(
    alias: string,
    resourceType: string,
    scope: ResourceScope,
    history: boolean,
    hint?: ReadHint
  ): Sql {
    const reach = this.reachOf(scope);
    const parts: Sql[] = [reachPredicate(alias, reach, resourceType, history, hint)];
    if (scope.params?.length && resourceType !== '*') {
      parts.push(...this.paramPredicates(alias, resourceType, scope.params));
    } else if (scope.params?.length) {
      parts.push(sql`FALSE`); // a granular scope on * cannot be evaluated per type: grant nothing
    }
    return and(parts);
  }

  private paramPredicates(alias: string, resourceType: string, params: readonly [string, string][]): Sql[] {
    const scope: CompileScope = {
      ctx: { ...this.ctx, access: systemAccess, validate: false },
      ignored: [],
      strict: true,
      aliasCount: 100,
    };
    const filters: Filter[] = params.map(([code, value]) => ({ code, operator: 'eq', value }));
    try {
      return compileFilters(scope, resourceType, alias, filters);
    } catch {
      return [sql`FALSE`]; // a restriction Hale cannot evaluate grants nothing
    }
  }

  checkWrite(resourceType: string, subject: WriteSubject, interaction: 'create' | 'update' | 'delete'): void {
    const scopes = this.granting(resourceType, PERMISSION[interaction]);
    const ok = scopes.some(
      (s) => writeAllowed(this.reachOf(s), resourceType, subject, interaction, this.facts) && paramsMatch(s, subject)
    );
    if (!ok) {
      throw forbiddenBecause(`The access token does not allow this ${interaction} of ${resourceType}`);
    }
  }
}

function readable(scope: ResourceScope): boolean {
  return scope.permissions.has('r') || scope.permissions.has('s');
}

function reachCovers(reach: Reach, resourceType: string): boolean {
  return (
    reach.all ||
    ((reach.patientId !== undefined || reach.grants !== undefined) && isInPatientCompartment(resourceType)) ||
    (reach.directory && DIRECTORY_TYPES.has(resourceType))
  );
}

function reachPredicate(alias: string, reach: Reach, resourceType: string, history: boolean, hint?: ReadHint): Sql {
  if (reach.all) {
    return sql`TRUE`;
  }
  const own =
    reach.patientId !== undefined ? sql`${raw(alias)}.compartments @> ARRAY[${reach.patientId}]::text[]` : undefined;
  const granted =
    reach.grants && !reach.grants.empty
      ? reach.grants.readPredicate(
          alias,
          resourceType === '*' ? undefined : resourceType,
          history,
          hint?.patientIds,
          hint?.row === 'series'
        )
      : undefined;
  const requests = reach.grants?.ownRequestsPredicate(alias, resourceType === '*' ? undefined : resourceType, history);
  const compartment = [own, granted, requests].filter((p): p is Sql => p !== undefined);
  if (resourceType === '*') {
    // Rows of any type: the compartments' rows and/or the directory rows.
    const directory = reach.directory
      ? or([
          sql`${raw(alias)}.type = ANY(${DIRECTORY_ONLY}::text[])`,
          sql`(${raw(alias)}.type = ANY(${DIRECTORY_IN_COMPARTMENT}::text[]) AND ${inNoCompartment(alias)})`,
        ])
      : undefined;
    return or([...compartment, directory].filter((p): p is Sql => p !== undefined));
  }
  if (isInPatientCompartment(resourceType)) {
    // A directory type that can name a patient (Schedule.actor) is directory data while it names none.
    const directory = reach.directory && DIRECTORY_TYPES.has(resourceType) ? inNoCompartment(alias) : undefined;
    return or([...compartment, directory].filter((p): p is Sql => p !== undefined));
  }
  return reach.directory && DIRECTORY_TYPES.has(resourceType) ? sql`TRUE` : sql`FALSE`;
}

const DIRECTORY_ONLY = [...DIRECTORY_TYPES].filter((t) => !isInPatientCompartment(t));
const DIRECTORY_IN_COMPARTMENT = [...DIRECTORY_TYPES].filter((t) => isInPatientCompartment(t));

function inNoCompartment(alias: string): Sql {
  return sql`${raw(alias)}.compartments = '{}'::text[]`;
}

function writeAllowed(
  reach: Reach,
  resourceType: string,
  subject: WriteSubject,
  interaction: 'create' | 'update' | 'delete',
  facts: (resourceType: string, subject: WriteSubject) => RowFacts | undefined
): boolean {
  if (reach.all) {
    return true;
  }
  if (!isInPatientCompartment(resourceType)) {
    return false; // directory data is read-only to patient-confined and consent-based writers
  }
  if (subject.compartments.length === 0) {
    return false; // in no one's record: neither the caller's own nor a granted one
  }
  // Every patient whose record the version is in must be covered — the caller's own record, or a
  // write grant for that patient — else naming oneself anywhere in it (a performer, an asserter, a
  // participant) would open any other patient's record to the caller's writes.
  const others = [...new Set(subject.compartments)].filter((p) => p !== reach.patientId);
  if (others.length === 0) {
    return true;
  }
  if (!reach.grants) {
    return false;
  }
  return interaction === 'delete'
    ? reach.grants.canDelete(others)
    : reach.grants.canWrite(resourceType, others, () => facts(resourceType, subject));
}

/** Granular scopes on writes: the version must carry the scope's token values (e.g. its category). */
function paramsMatch(scope: ResourceScope, subject: WriteSubject): boolean {
  if (!scope.params?.length) {
    return true;
  }
  if (!subject.rows) {
    return false; // deletes and unchanged rows cannot show the restriction holds
  }
  return scope.params.every(([, value]) => {
    const [system, code] = value.includes('|') ? value.split('|') : [undefined, value];
    return subject.rows?.token.some((t) => t.code === code && (system === undefined || t.system === system)) ?? false;
  });
}
