import { getSearchParams } from '../../fhir/definitions';
import type { Step } from './branches';
import { branchesFor } from './branches';

/**
 * Where the idx_reference rows of a reference parameter are. Most parameters have their own; a
 * parameter that is another one narrowed by target type has none and reads the other's:
 * Observation `patient` is `Observation.subject.where(resolve() is Patient)`, so its rows are
 * `subject`'s rows whose target_type is Patient (one row per clinical resource, ~12% of all index
 * rows, not written twice). That holds because a row's target_type is the type `resolve() is`
 * tests: the reference's own `Type/`, or an absolute URL's (reference.ts). Identifier-only
 * references have no reference row either way: their `:identifier` token rows stay under the
 * parameter's own sp.
 */
export interface ReferenceRows {
  /** The parameter whose rows to read (the parameter itself when it has its own). */
  readonly code: string;
  /** Only rows with this target_type. */
  readonly targetType?: string;
}

const cache = new Map<string, ReadonlyMap<string, ReferenceRows>>();

/** The reference parameters of a type that read another parameter's rows, by code. */
export function narrowedReferences(resourceType: string): ReadonlyMap<string, ReferenceRows> {
  let narrowed = cache.get(resourceType);
  if (!narrowed) {
    narrowed = findNarrowed(resourceType);
    cache.set(resourceType, narrowed);
  }
  return narrowed;
}

export function referenceRowsOf(resourceType: string, code: string): ReferenceRows {
  return narrowedReferences(resourceType).get(code) ?? { code };
}

function findNarrowed(resourceType: string): Map<string, ReferenceRows> {
  const plain = new Map<string, string>();
  const narrowing: [code: string, base: string, targetType: string][] = [];
  for (const [code, param] of Object.entries(getSearchParams(resourceType))) {
    if (param.type !== 'reference' || !param.expression) {
      continue;
    }
    const branches = branchesFor(resourceType, param.expression).map((b) => b.steps);
    if (branches.length === 0 || branches.some((steps) => !steps || steps.length === 0)) {
      continue;
    }
    const lasts = (branches as Step[][]).map((steps) => steps[steps.length - 1] as Step);
    const types = new Set(lasts.map((s) => (s.kind === 'whereResolveIs' ? s.type : '')));
    if (lasts.every((s) => s.kind !== 'whereResolveIs')) {
      plain.set(keyOf(branches as Step[][]), code);
    } else if (types.size === 1 && !types.has('')) {
      narrowing.push([code, keyOf((branches as Step[][]).map((steps) => steps.slice(0, -1))), [...types][0] as string]);
    }
  }
  const narrowed = new Map<string, ReferenceRows>();
  for (const [code, baseKey, targetType] of narrowing) {
    const base = plain.get(baseKey);
    if (base) {
      narrowed.set(code, { code: base, targetType });
    }
  }
  return narrowed;
}

function keyOf(branches: readonly Step[][]): string {
  return JSON.stringify(branches.map((steps) => JSON.stringify(steps)).sort());
}
