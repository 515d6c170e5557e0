import type { SearchParameter } from '@medplum/fhirtypes';
import { getResourceTypes, getSearchParams } from '../../fhir/definitions';
import type { CompiledExpression, Extractor } from './expression';
import { compileExpression } from './expression';
import type { IndexRows } from './rows';
import type { ValueKind } from './values';
import { appendRows, isValueKind } from './values';

/*
 * Composite search parameters (Observation code-value-quantity and the like) are stored without a
 * table of their own:
 *
 * - The composite's expression selects base elements: 'Observation' the resource itself,
 *   'Observation | Observation.component' the resource and then each of its components.
 * - For the k-th base element (k = 1, 2, ...) each component's expression (relative to the base
 *   element, e.g. 'code', 'value.ofType(Quantity)') is evaluated, and its values are written to the
 *   table of the component's own SearchParameter type (the `definition` it points at: clinical-code
 *   is a token, Observation-value-quantity a quantity) with sp = the composite's sp and grp = k.
 *
 * So one composite sp id has rows in several tables, told apart by table and grp, and
 * `code-value-quantity=http://loinc.org|8480-6$gt100` becomes, for some g:
 *   EXISTS (idx_token sp=S grp=g matching the code) AND EXISTS (idx_quantity sp=S grp=g value > 100).
 * A base element is written only when every component has rows: a partial group can never match.
 */

interface CompiledComponent {
  kind: ValueKind;
  expression: string;
  /** Extractors per base element type (Observation, ObservationComponent, ...), compiled on first sight. */
  byBaseType: Map<string, CompiledExpression>;
}

export interface CompiledComposite {
  bases: Extractor;
  components: readonly CompiledComponent[];
  slowBranches: readonly string[];
}

let kindsByUrl: Map<string, string> | undefined;

/** The SearchParameter type of each definition URL, for resolving component definitions. */
function searchParamKind(url: string): string | undefined {
  if (!kindsByUrl) {
    kindsByUrl = new Map();
    for (const resourceType of getResourceTypes()) {
      for (const searchParam of Object.values(getSearchParams(resourceType))) {
        if (searchParam.url && searchParam.type) {
          kindsByUrl.set(searchParam.url, searchParam.type);
        }
      }
    }
  }
  return kindsByUrl.get(url);
}

/** Undefined when a component's definition is unknown or is not a type with a table (so no query could use it). */
export function compileComposite(resourceType: string, searchParam: SearchParameter): CompiledComposite | undefined {
  const bases = compileExpression(resourceType, searchParam.expression ?? '');
  const components: CompiledComponent[] = [];
  for (const component of searchParam.component ?? []) {
    const kind = component.definition ? searchParamKind(component.definition) : undefined;
    if (!isValueKind(kind) || !component.expression) {
      return undefined;
    }
    components.push({ kind, expression: component.expression, byBaseType: new Map() });
  }
  if (components.length === 0) {
    return undefined;
  }
  const slowBranches = [...bases.slowBranches];
  for (const baseType of bases.resultTypes) {
    for (const component of components) {
      slowBranches.push(...componentFor(component, baseType).slowBranches);
    }
  }
  return { bases: bases.extract, components, slowBranches };
}

function componentFor(component: CompiledComponent, baseType: string): CompiledExpression {
  let compiled = component.byBaseType.get(baseType);
  if (!compiled) {
    compiled = compileExpression(baseType, component.expression);
    component.byBaseType.set(baseType, compiled);
  }
  return compiled;
}

export function appendCompositeRows(
  composite: CompiledComposite,
  resource: object,
  sp: number,
  rows: IndexRows,
  baseUrl: string
): void {
  const bases = composite.bases(resource);
  let grp = 0;
  for (const base of bases) {
    grp++;
    const start = tableLengths(rows);
    for (const component of composite.components) {
      const before = totalRows(rows);
      const values = componentFor(component, base.type).extract(base.value, resource);
      appendRows(component.kind, values, sp, grp, rows, baseUrl);
      if (totalRows(rows) === before) {
        restoreLengths(rows, start);
        break;
      }
    }
  }
}

type TableLengths = [number, number, number, number, number, number, number];

function tableLengths(rows: IndexRows): TableLengths {
  return [
    rows.token.length,
    rows.string.length,
    rows.date.length,
    rows.number.length,
    rows.quantity.length,
    rows.reference.length,
    rows.uri.length,
  ];
}

function totalRows(rows: IndexRows): number {
  return (
    rows.token.length +
    rows.string.length +
    rows.date.length +
    rows.number.length +
    rows.quantity.length +
    rows.reference.length +
    rows.uri.length
  );
}

function restoreLengths(rows: IndexRows, lengths: TableLengths): void {
  [
    rows.token.length,
    rows.string.length,
    rows.date.length,
    rows.number.length,
    rows.quantity.length,
    rows.reference.length,
    rows.uri.length,
  ] = lengths;
}
