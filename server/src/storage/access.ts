import type { Sql } from '../db/sql';

/**
 * The access decision, compiled into SQL. Every read path of the repository (read, vread,
 * search and its counts, _include/_revinclude, chains, _has, history, $everything, GraphQL)
 * ANDs `readFilter` over each `resource`/`resource_history` row it touches, so what a caller
 * may not see never leaves PostgreSQL. Writes ask `canWrite` before anything is stored.
 *
 * SMART scopes and patient Consent (later issues) are implementations of this interface.
 */
export interface AccessPolicy {
  /** A predicate over the columns of the row alias (type, id, compartments, rid …), or undefined for "all". */
  readFilter(alias: string, resourceType: string | undefined): Sql | undefined;
  /** Throws an OperationOutcomeError (403) when the caller may not write this resource. */
  checkWrite(resourceType: string, resource: { compartments: readonly string[] } | undefined): void;
}

/** The trusted system context: migrations, seed loading, tests of storage itself. */
export const systemAccess: AccessPolicy = {
  readFilter: () => undefined,
  checkWrite: () => undefined,
};
