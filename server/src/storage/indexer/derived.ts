import type { SearchParameter } from '@medplum/fhirtypes';
import { getSearchParamByUrl, getSearchParams } from '../../fhir/definitions';
import type { Step } from './branches';
import { branchesFor } from './branches';
import { NOT_INDEXED } from './not-indexed';
import { QUANTITY_TYPES } from './numeric';
import type { ValueKind } from './values';
import { isValueKind } from './values';

/*
 * Search parameters whose rows would repeat other parameters' rows are not stored; searches
 * answer them from those rows instead. On Observation they are 36% of all index rows:
 *
 * - a union: `combo-code` is `Observation.code | Observation.component.code`, exactly the
 *   branches of `code` and `component-code`, so `combo-code=x` is a test on the rows of either;
 * - a composite over the resource itself: `code-value-quantity` has one base element (the
 *   Observation), so "code and value match in the same element" is "some code row matches and
 *   some value-quantity row matches";
 * - a composite over several bases: `combo-code-value-quantity` (bases Observation and
 *   Observation.component) is the composite over the resource itself OR the stored composite
 *   `component-code-value-quantity`, whose rows keep their element number (grp).
 *
 * Branches are compared as compiled navigation steps, after dropping branches that can never give
 * a row of the kind (SampledData under a quantity parameter), so a derivation holds only when the
 * rows would be the very same. Reference parameters are not derived here: one narrowed by target
 * type reads another's reference rows instead (reference-rows.ts), keeping its own id for its
 * identifier tokens.
 */

/** How a derived parameter is searched. */
export type Derivation =
  | { readonly kind: 'union'; readonly valueKind: ValueKind; readonly codes: readonly string[] }
  | { readonly kind: 'composite'; readonly terms: readonly CompositeTerm[] };

export type CompositeTerm =
  /** Over the resource itself: each component is a stored parameter's rows (grp 0). */
  | { readonly kind: 'conjunction'; readonly components: readonly { code: string; valueKind: ValueKind }[] }
  /** Over repeating elements: a stored composite parameter, matched within one grp. */
  | { readonly kind: 'grouped'; readonly code: string };

const cache = new Map<string, ReadonlyMap<string, Derivation>>();

/** The parameters of a resource type that have no rows of their own, with how to search them. */
export function derivedParams(resourceType: string): ReadonlyMap<string, Derivation> {
  let derived = cache.get(resourceType);
  if (!derived) {
    derived = derive(resourceType);
    cache.set(resourceType, derived);
  }
  return derived;
}

export function derivationOf(resourceType: string, code: string): Derivation | undefined {
  return derivedParams(resourceType).get(code);
}

interface Candidate {
  code: string;
  param: SearchParameter;
  /** Keys of the branches that can give rows; undefined when a branch is outside the compiled subset. */
  keys: ReadonlySet<string> | undefined;
}

function derive(resourceType: string): Map<string, Derivation> {
  const derived = new Map<string, Derivation>();
  const stored: Candidate[] = [];
  const candidates: Candidate[] = [];
  for (const [code, param] of Object.entries(getSearchParams(resourceType))) {
    if (NOT_INDEXED.has(code) || !param.expression) {
      continue;
    }
    const kind = param.type;
    const keys = isValueKind(kind) ? branchKeys(resourceType, param.expression, kind) : undefined;
    candidates.push({ code, param, keys });
  }
  // Fewer branches first, so a union is decided after the parameters it could be made of.
  candidates.sort((a, b) => size(a) - size(b) || a.code.localeCompare(b.code));
  for (const c of candidates) {
    if (c.param.type === 'composite' || c.param.type === 'reference' || !c.keys || c.keys.size === 0) {
      continue;
    }
    const union = unionOf(c, stored);
    if (union) {
      derived.set(c.code, union);
    } else {
      stored.push(c);
    }
  }
  const composites = candidates
    .filter((c) => c.param.type === 'composite')
    .map((c) => ({ c, bases: branchesFor(resourceType, c.param.expression ?? '') }))
    .sort((a, b) => a.bases.length - b.bases.length || a.c.code.localeCompare(b.c.code));
  const storedComposites: { code: string; base: string; components: string }[] = [];
  for (const { c, bases } of composites) {
    const components = componentKeys(resourceType, c.param);
    const terms: CompositeTerm[] = [];
    for (const base of bases) {
      const term =
        components && base.steps ? compositeTerm(base.steps, components, stored, storedComposites) : undefined;
      if (!term) {
        break;
      }
      terms.push(term);
    }
    if (components && terms.length === bases.length && terms.length > 0) {
      derived.set(c.code, { kind: 'composite', terms });
    } else if (components && bases.length === 1 && bases[0]?.steps) {
      storedComposites.push({ code: c.code, base: stepsKey(bases[0].steps), components: signature(components) });
    }
  }
  return derived;
}

function size(c: Candidate): number {
  return c.keys?.size ?? Number.MAX_SAFE_INTEGER;
}

/** Derived when the stored parameters whose branches it contains cover all of its branches. */
function unionOf(c: Candidate, stored: readonly Candidate[]): Derivation | undefined {
  const keys = c.keys as ReadonlySet<string>;
  const parts = stored.filter((s) => s.param.type === c.param.type && [...(s.keys ?? [])].every((k) => keys.has(k)));
  const covered = new Set(parts.flatMap((s) => [...(s.keys ?? [])]));
  if (parts.length === 0 || covered.size !== keys.size) {
    return undefined;
  }
  return { kind: 'union', valueKind: c.param.type as ValueKind, codes: parts.map((s) => s.code) };
}

interface ComponentKey {
  valueKind: ValueKind;
  /** Keys of the component expression's branches, relative to the base element. */
  keys: ReadonlySet<string>;
}

function componentKeys(resourceType: string, param: SearchParameter): ComponentKey[] | undefined {
  const out: ComponentKey[] = [];
  for (const component of param.component ?? []) {
    const valueKind = component.definition ? getSearchParamByUrl(component.definition)?.type : undefined;
    const keys =
      isValueKind(valueKind) && component.expression
        ? branchKeys(resourceType, component.expression, valueKind)
        : undefined;
    if (!isValueKind(valueKind) || !keys || keys.size === 0) {
      return undefined;
    }
    out.push({ valueKind, keys });
  }
  return out.length > 0 ? out : undefined;
}

function compositeTerm(
  base: readonly Step[],
  components: readonly ComponentKey[],
  stored: readonly Candidate[],
  storedComposites: readonly { code: string; base: string; components: string }[]
): CompositeTerm | undefined {
  if (base.length === 0) {
    const parts = components.map((component) => {
      const match = stored.find((s) => s.param.type === component.valueKind && sameKeys(s.keys, component.keys));
      return match ? { code: match.code, valueKind: component.valueKind } : undefined;
    });
    return parts.every((p) => p !== undefined) ? { kind: 'conjunction', components: parts } : undefined;
  }
  const baseKey = stepsKey(base);
  const wanted = signature(components);
  const grouped = storedComposites.find((s) => s.base === baseKey && s.components === wanted);
  return grouped ? { kind: 'grouped', code: grouped.code } : undefined;
}

function signature(components: readonly ComponentKey[]): string {
  return JSON.stringify(components.map((c) => [c.valueKind, [...c.keys].sort()]));
}

function sameKeys(a: ReadonlySet<string> | undefined, b: ReadonlySet<string>): boolean {
  return a !== undefined && a.size === b.size && [...a].every((k) => b.has(k));
}

/**
 * Keys of the branches of `expression` that can give rows of `kind`. Branches are relative to the
 * resource (or, for composite components, to the base element, which compiles the same way).
 */
function branchKeys(resourceType: string, expression: string, kind: ValueKind): ReadonlySet<string> | undefined {
  const keys = new Set<string>();
  for (const branch of branchesFor(resourceType, expression)) {
    if (!branch.steps) {
      return undefined;
    }
    if (!givesNoRows(branch.steps, kind)) {
      keys.add(stepsKey(branch.steps));
    }
  }
  return keys;
}

/** A branch selecting only a type the kind's table skips (quantity rows: Quantity and its profiles, Money). */
function givesNoRows(steps: readonly Step[], kind: ValueKind): boolean {
  const last = steps[steps.length - 1];
  return kind === 'quantity' && last?.kind === 'ofType' && !QUANTITY_TYPES.has(last.type) && last.type !== 'Money';
}

function stepsKey(steps: readonly Step[]): string {
  return JSON.stringify(steps);
}
