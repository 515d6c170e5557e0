import type { TypedValue } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import { getSearchParamByUrl } from '../../fhir/definitions';
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

/** Undefined when a component's definition is unknown or is not a type with a table (so no query could use it). */
export function compileComposite(resourceType: string, searchParam: SearchParameter): CompiledComposite | undefined {
  const bases = compileExpression(resourceType, searchParam.expression ?? '');
  const components: CompiledComponent[] = [];
  for (const component of searchParam.component ?? []) {
    // The search compiler resolves component types the same way, so rows and queries agree.
    const kind = component.definition ? getSearchParamByUrl(component.definition)?.type : undefined;
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
  const { components } = composite;
  const values: TypedValue[][] = [];
  let grp = 0;
  for (const base of composite.bases(resource)) {
    grp++;
    // Extracting is cheap and converting is not: most Observations lack some component (a value[x] of the wanted type).
    values.length = 0;
    for (const component of components) {
      const componentValues = componentFor(component, base.type).extract(base.value, resource);
      if (componentValues.length === 0) {
        break;
      }
      values.push(componentValues);
    }
    if (values.length === components.length) {
      appendGroup(components, values, sp, grp, rows, baseUrl);
    }
  }
}

/** Values can still make no rows (a Quantity without a value); then the group's rows are taken back. */
function appendGroup(
  components: readonly CompiledComponent[],
  values: readonly TypedValue[][],
  sp: number,
  grp: number,
  rows: IndexRows,
  baseUrl: string
): void {
  const start = tableLengths(rows);
  for (let k = 0; k < components.length; k++) {
    const before = totalRows(rows);
    appendRows((components[k] as CompiledComponent).kind, values[k] as TypedValue[], sp, grp, rows, baseUrl);
    if (totalRows(rows) === before) {
      restoreLengths(rows, start);
      return;
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
