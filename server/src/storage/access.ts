import type { Sql } from '../db/sql';
import type { IndexRows } from './indexer/rows';

export type Interaction = 'read' | 'search' | 'create' | 'update' | 'delete';

/**
 * What the query already requires of every row, so a policy may leave out what cannot apply: a
 * search for `patient=X` only needs the grants for X. A hint may only narrow, never widen.
 */
export interface ReadHint {
  /** Every row the query can return is about one of these patients (the first of its compartments). */
  patientIds?: readonly string[];
  /**
   * The alias is a measurement_series row (db/migrations/0017_measurement_series.sql), not a resource row: it has
   * the resource row's rid, type, id, version_id, last_updated and compartments, so any filter over those is
   * right as it is, and also the Observation's categories (`categories`, system|code) and effective period
   * (`at`, `at_high`) as columns, which a policy may test instead of the index tables. Not a narrowing.
   */
  row?: 'series';
}

/** What a write check sees of a resource version: its compartments and search index rows. */
export interface WriteSubject {
  compartments: readonly string[];
  rows?: IndexRows;
  /** The stored version's JSON, when the subject is a version already stored (updates, deletes). */
  content?: string;
  /** The version about to be stored (creates and updates). */
  resource?: { id?: string; meta?: { versionId?: string } };
}

/**
 * The access decision, compiled into SQL. Every read path of the repository (read, vread,
 * search and its counts, _include/_revinclude, chains, _has, history, $everything, GraphQL)
 * ANDs `readFilter` over each `resource`/`resource_history` row it touches, so what a caller
 * may not see never leaves PostgreSQL. Interactions a caller has no grant for at all are
 * refused up front (403); writes are checked against the version about to be stored.
 *
 * SMART scopes (access/smart-policy.ts) and patient Consent are implementations of this.
 */
export interface AccessPolicy {
  /**
   * A predicate over the columns of the row alias (type, id, version_id, compartments, rid, content …), or
   * undefined for "all". `history` says the alias is a resource_history row (an older version).
   */
  readFilter(alias: string, resourceType: string | undefined, history?: boolean, hint?: ReadHint): Sql | undefined;
  /** Throws a 403 OperationOutcomeError when no grant covers this interaction on this type. */
  checkInteraction(resourceType: string, interaction: Interaction): void;
  /** Throws a 403 OperationOutcomeError when the caller may not write this version (or change the stored one). */
  checkWrite(resourceType: string, subject: WriteSubject, interaction: 'create' | 'update' | 'delete'): void;
  /**
   * Why the caller may see these patients' data, for the audit trail: the versioned references of the
   * Consents in force (e.g. "Consent/c1/_history/3"), "own-record" for the patient themself, or
   * "break-glass/<id>". Empty for system callers.
   */
  basisFor?(patientIds: readonly string[]): string[];
  /**
   * The sharing categories (access/consent/vocabulary.ts) of this patient's record the caller is given none
   * of by the patient's Consents, for answers that say what they leave out (Patient/$summary). Absent or
   * empty: nothing is withheld by Consent (the patient, a guardian, a system caller).
   */
  withheldCategories?(patientId: string): string[];
  /** Lets a policy stamp a resource before it is validated and stored (a provider's writes name them as author). */
  stampWrite?(resource: Record<string, unknown> & { resourceType: string }): void;
}

/** The trusted system context: migrations, seed loading, server-internal work. */
export const systemAccess: AccessPolicy = {
  readFilter: () => undefined,
  checkInteraction: () => undefined,
  checkWrite: () => undefined,
};
