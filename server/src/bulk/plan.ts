import { OperationOutcomeError, badRequest } from '@medplum/core';
import { isInPatientCompartment } from '../access/compartment-types';
import type { Sql } from '../db/sql';
import { and, or } from '../db/sql';
import { getResourceTypes } from '../fhir/definitions';
import { parseHaleSearch } from '../fhir/search-request';
import type { AccessPolicy } from '../storage/access';
import type { RepoContext } from '../storage/context';
import type { CompileScope } from '../storage/search/compile';
import { compileFilters } from '../storage/search/compile';
import { maySearch } from './caller';
import type { ExportLevel, ExportParams } from './parameters';

export type ProvenanceMode = 'none' | 'relevant' | 'latest';

export interface ExportPlan {
  /** The types to export, in order; Provenance (when exported as a type) comes last. */
  types: string[];
  /**
   * Provenance associated page by page with the resources written (see docs/bulk-data.md):
   * 'relevant' all of them, 'latest' the latest per resource, 'none' only as a type.
   */
  provenance: ProvenanceMode;
}

/**
 * The types an export writes: those asked for, or every type the caller may search — at Patient
 * and Group level those of the Patient compartment but Binary (its DocumentReference links to it).
 * The audit trail is left out unless asked for, as in $everything: every request adds to it.
 */
export function planExport(level: ExportLevel, params: ExportParams, policy: AccessPolicy): ExportPlan {
  const explicit = params.types;
  const candidates =
    explicit ??
    getResourceTypes().filter(
      (t) => t !== 'AuditEvent' && (level === 'system' || (isInPatientCompartment(t) && t !== 'Binary'))
    );
  let types = candidates.filter((t) => maySearch(policy, t));
  const assoc = params.associated;
  let provenance: ProvenanceMode;
  if (assoc.includes('RelevantProvenanceResources')) {
    // The least restrictive value wins (IG: conflicting values).
    provenance = level === 'system' && types.includes('Provenance') ? 'none' : 'relevant';
  } else if (assoc.includes('LatestProvenanceResources')) {
    provenance = 'latest';
    types = types.filter((t) => t !== 'Provenance'); // other Provenance resources are not returned
  } else if (level === 'system') {
    provenance = 'none';
  } else {
    // Patient and Group level: the Provenance of the compartment's resources, unless _type leaves Provenance out.
    provenance = explicit && !explicit.includes('Provenance') ? 'none' : 'relevant';
  }
  if (provenance !== 'none' && !maySearch(policy, 'Provenance')) {
    provenance = 'none';
  }
  const last = types.filter((t) => t === 'Provenance');
  return { types: [...types.filter((t) => t !== 'Provenance'), ...last], provenance };
}

const NOT_FILTERS = ['include', 'revInclude', 'sortRules', 'count', 'offset', 'total', 'summary', 'fields', 'cursor'];

/**
 * The `_typeFilter` queries of one type as one SQL predicate over alias `r`, compiled by the search
 * compiler itself (the same code as a search, with the same access policy for chains and _has):
 * the queries are ORed, the parameters within one ANDed. Throws a 400 for a parameter the compiler
 * does not know, unless lenient, when it is skipped and named in `ignored`.
 */
export function compileTypeFilter(
  ctx: RepoContext,
  type: string,
  queries: readonly string[],
  lenient: boolean
): { filter: Sql | undefined; ignored: string[] } {
  const mine = queries.filter((q) => q.startsWith(`${type}?`));
  if (mine.length === 0) {
    return { filter: undefined, ignored: [] };
  }
  const scope: CompileScope = { ctx, ignored: [], strict: !lenient, aliasCount: 0 };
  const branches = mine.map((q) => {
    const query: Record<string, string[]> = {};
    for (const [k, v] of new URLSearchParams(q.slice(type.length + 1))) {
      (query[k] ??= []).push(v);
    }
    const req = parseHaleSearch(type, query);
    const extra = NOT_FILTERS.filter((f) => (req as unknown as Record<string, unknown>)[f] !== undefined);
    if (extra.length > 0 && !lenient) {
      throw new OperationOutcomeError(
        badRequest(`_typeFilter '${q}' may hold search parameters only (not _sort, _count, _include, _elements …)`)
      );
    }
    return and(compileFilters(scope, type, 'r', req.filters ?? []));
  });
  return { filter: or(branches), ignored: scope.ignored.map((code) => `${type}?${code}`) };
}
