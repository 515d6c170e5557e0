import type { Sql } from '../db/sql';
import type { IndexRows } from './indexer/rows';

export type Interaction = 'read' | 'search' | 'create' | 'update' | 'delete';

/** What a write check sees of a resource version: its compartments and search index rows. */
export interface WriteSubject {
  compartments: readonly string[];
  rows?: IndexRows;
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
  /** A predicate over the columns of the row alias (type, id, compartments, rid …), or undefined for "all". */
  readFilter(alias: string, resourceType: string | undefined): Sql | undefined;
  /** Throws a 403 OperationOutcomeError when no grant covers this interaction on this type. */
  checkInteraction(resourceType: string, interaction: Interaction): void;
  /** Throws a 403 OperationOutcomeError when the caller may not write this version (or change the stored one). */
  checkWrite(resourceType: string, subject: WriteSubject, interaction: 'create' | 'update' | 'delete'): void;
}

/** The trusted system context: migrations, seed loading, server-internal work. */
export const systemAccess: AccessPolicy = {
  readFilter: () => undefined,
  checkInteraction: () => undefined,
  checkWrite: () => undefined,
};
