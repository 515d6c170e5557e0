import type { SearchParameter } from '@medplum/fhirtypes';
import { getSearchParams } from '../../fhir/definitions';
import { compartmentParamOrder } from './compartments';
import type { CompiledComposite } from './composite';
import { compileComposite } from './composite';
import { derivedParams } from './derived';
import { NOT_INDEXED } from './not-indexed';
import { narrowedReferences } from './reference-rows';
import type { Extractor } from './expression';
import { compileSearchParam } from './expression';
import type { ValueKind } from './values';
import { isValueKind } from './values';

interface PlannedBase {
  readonly code: string;
  readonly searchParam: SearchParameter;
  /** Expression branches evaluated by the FHIRPath engine rather than compiled. */
  readonly slowBranches: readonly string[];
}

export type PlannedParam =
  | (PlannedBase & {
      readonly kind: ValueKind;
      readonly extract: Extractor;
      /**
       * Its references put the resource in a Patient's compartment: its place in compartmentParamOrder,
       * which orders resource.compartments (the first is whom the resource is about).
       */
      readonly compartment: number | undefined;
      /** A reference parameter whose reference rows are another's (reference-rows.ts): only its identifier tokens are written. */
      readonly narrowed: boolean;
    })
  | (PlannedBase & { readonly kind: 'composite'; readonly composite: CompiledComposite });

const plans = new Map<string, readonly PlannedParam[]>();

/** What to index for a resource type, compiled on first use. */
export function indexPlan(resourceType: string): readonly PlannedParam[] {
  let plan = plans.get(resourceType);
  if (!plan) {
    plan = buildPlan(resourceType);
    plans.set(resourceType, plan);
  }
  return plan;
}

function buildPlan(resourceType: string): PlannedParam[] {
  const compartmentParams = compartmentParamOrder(resourceType);
  // Derived parameters are searched through other parameters' rows (derived.ts); none is a reference,
  // so none decides a compartment.
  const derived = derivedParams(resourceType);
  const plan: PlannedParam[] = [];
  for (const [code, searchParam] of Object.entries(getSearchParams(resourceType))) {
    if (NOT_INDEXED.has(code) || !searchParam.expression || derived.has(code)) {
      continue;
    }
    if (searchParam.type === 'composite') {
      const composite = compileComposite(resourceType, searchParam);
      if (composite) {
        plan.push({ code, searchParam, kind: 'composite', composite, slowBranches: composite.slowBranches });
      }
    } else if (isValueKind(searchParam.type)) {
      const { extract, slowBranches } = compileSearchParam(resourceType, searchParam);
      const rank = compartmentParams.indexOf(code);
      const compartment = rank < 0 ? undefined : rank;
      const narrowed = searchParam.type === 'reference' && narrowedReferences(resourceType).has(code);
      plan.push({ code, searchParam, kind: searchParam.type, extract, compartment, narrowed, slowBranches });
    }
    // 'special' parameters (Location near) have no table.
  }
  return plan;
}
