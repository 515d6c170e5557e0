import { createHash } from 'node:crypto';
import { indexPlan } from './plan';

/**
 * Bump when the rows a given plan produces change without the plan changing (a new normalisation,
 * a new column, a fix in an extractor): stored fingerprints then differ and the reindex job
 * (jobs/reindex.ts) rebuilds every type's rows.
 */
export const INDEX_FORMAT_VERSION = 2;

const fingerprints = new Map<string, string>();

/**
 * A short hash of what the indexer stores for a resource type: each planned parameter's code, kind,
 * expression and (composites) components. index_state records it per type once every resource of
 * the type has these rows, so a change of the plan is found at start and applied by the reindex job.
 */
export function indexFingerprint(resourceType: string): string {
  let fingerprint = fingerprints.get(resourceType);
  if (!fingerprint) {
    const canonical = JSON.stringify({ format: INDEX_FORMAT_VERSION, params: describePlan(resourceType) });
    fingerprint = createHash('sha256').update(canonical).digest('hex').slice(0, 16);
    fingerprints.set(resourceType, fingerprint);
  }
  return fingerprint;
}

function describePlan(resourceType: string): unknown[] {
  return [...indexPlan(resourceType)]
    .sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
    .map((param) => ({
      code: param.code,
      kind: param.kind,
      expression: param.searchParam.expression ?? null,
      // The rank decides resource.compartments and their order (the first is whom the resource is
      // about), which the reindex job rebuilds too, on current and older versions.
      compartment: param.kind === 'composite' ? false : (param.compartment ?? false),
      // A narrowed reference parameter writes no reference rows of its own.
      narrowed: param.kind === 'composite' ? false : param.narrowed,
      components:
        param.kind === 'composite'
          ? (param.searchParam.component ?? []).map((c) => ({ definition: c.definition, expression: c.expression }))
          : [],
    }));
}
