import type { Constraint, TypedValue } from '@medplum/core';
import { LRUCache, UCUM, evalFhirPathTyped, toTypedValue } from '@medplum/core';
import type { FhirPathAtom } from '@medplum/core';
import type { InvariantCheck } from './handwritten';
import { handwrittenCheck } from './handwritten';
import type { JsonObject } from './json';
import type { Run } from './run';

/**
 * Invariants (ElementDefinition.constraint) are checked like @medplum/core does: only those of severity error,
 * only on values that are present, and only the first failing one per value is reported. Core skips these
 * keys, so we do too: ele-1 (core never evaluates it; our empty-value rules cover its common violations),
 * dom-3 (needs descendants(), too slow), org-1 and sdf-19 (kept for backward compatibility).
 */
const SKIPPED_KEYS = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);

export interface Invariant {
  readonly constraint: Constraint;
  /** The plain-JS equivalent, when there is one; otherwise the expression goes through the FHIRPath engine. */
  readonly check: InvariantCheck | undefined;
}

const NONE: readonly Invariant[] = [];
/** Parsed expressions are shared across types: many elements carry the same constraints. */
const parsed = new LRUCache<FhirPathAtom>(1_000);

export function compileInvariants(constraints: readonly Constraint[] | undefined): readonly Invariant[] {
  const kept = (constraints ?? []).filter((c) => c.severity === 'error' && !SKIPPED_KEYS.has(c.key));
  return kept.length === 0 ? NONE : kept.map((constraint) => ({ constraint, check: handwrittenCheck(constraint) }));
}

/**
 * Checks the invariants of the value at the current path and reports the first that fails. `value` is the
 * plain JSON value; `extension` is the `_x` sibling of a primitive, which the engine sees merged into the value.
 */
export function checkInvariants(
  invariants: readonly Invariant[],
  value: unknown,
  extension: unknown,
  type: string,
  run: Run
): void {
  for (const invariant of invariants) {
    const holds = invariant.check
      ? invariant.check(value, run.resource)
      : evaluate(invariant.constraint, typedValue(type, value, extension), run);
    if (!holds) {
      const { key, description } = invariant.constraint;
      const diagnostics = JSON.stringify({ fhirpath: invariant.constraint.expression });
      run.report('invariant', run.pathOf('core'), `Constraint ${key} not met: ${description}`, diagnostics);
      return;
    }
  }
}

/** Evaluates the expression as core's validator does, with the same variables; engine errors are reported. */
function evaluate(constraint: Constraint, context: TypedValue, run: Run): boolean {
  const variables: Record<string, TypedValue> = {
    '%context': context,
    '%ucum': toTypedValue(UCUM),
    '%resource': toTypedValue(run.resource),
    '%rootResource': toTypedValue(run.root),
  };
  try {
    const result = evalFhirPathTyped(constraint.expression, [context], variables, parsed);
    return result.length === 1 && result[0]?.value === true;
  } catch (err) {
    const diagnostics = JSON.stringify({ fhirpath: constraint.expression, error: String(err) });
    run.report('processing', run.pathOf('core'), 'Error evaluating invariant expression', diagnostics);
    return false;
  }
}

/** The engine's view of a value: a primitive with a `_x` sibling is a boxed primitive carrying its properties. */
function typedValue(type: string, value: unknown, extension: unknown): TypedValue {
  if (extension === undefined || typeof value === 'object') {
    return { type, value: value ?? extension };
  }
  const boxed: JsonObject = value === undefined || value === null ? {} : Object(value);
  return { type, value: Object.assign(boxed, extension) };
}
