import type { InternalSchemaElement, TypedValue } from '@medplum/core';
import { capitalize, evalFhirPathTyped, parseFhirPath, tryGetDataType } from '@medplum/core';
import type { Reference, Resource, SearchParameter } from '@medplum/fhirtypes';
import type { Branch, Step } from './branches';
import { branchesFor } from './branches';
import { QUANTITY_TYPES } from './numeric';
import { referenceTargetType } from './reference';

/**
 * Extracts the values a search parameter expression selects from an element whose type was fixed at
 * compile time. `resource` is the resource holding that element when it is not the element itself
 * (composite components may refer to it as %resource).
 */
export type Extractor = (value: object, resource?: object) => TypedValue[];

export interface CompiledExpression {
  extract: Extractor;
  /** Branches outside the compiled subset, evaluated by the FHIRPath engine (correct, ~100x slower). */
  slowBranches: readonly string[];
  /** The types the compiled branches can yield ('Resource' for any resource); the FHIRPath branches' are unknown. */
  resultTypes: ReadonlySet<string>;
}

/**
 * Appends the values selected from `value` to `out`. Compiled against the static FHIR type of
 * `value`, so it reads JSON properties directly and knows each result's type without looking.
 */
type Node = (value: any, out: TypedValue[], resource?: object) => void;

interface Candidate {
  key: string;
  type: string;
}

const cache = new Map<string, CompiledExpression>();

/** The extractor for one search parameter on one resource type, compiled on first use. */
export function compileSearchParam(resourceType: string, searchParam: SearchParameter): CompiledExpression {
  const key = resourceType + '\u0000' + searchParam.code;
  let compiled = cache.get(key);
  if (!compiled) {
    compiled = compileExpression(resourceType, searchParam.expression ?? '');
    cache.set(key, compiled);
  }
  return compiled;
}

/**
 * Compiles `expression` for elements of `type`: a resource type, or (for composite components)
 * the type of the element the component expressions are relative to, such as ObservationComponent.
 */
export function compileExpression(type: string, expression: string): CompiledExpression {
  const nodes: Node[] = [];
  const slowBranches: string[] = [];
  const resultTypes = new Set<string>();
  for (const branch of branchesFor(type, expression)) {
    const leaves = new Set<string>();
    const node = branch.steps && compileSteps(branch.steps, 0, type, false, leaves);
    if (node) {
      nodes.push(node);
      leaves.forEach((leafType) => resultTypes.add(leafType));
    } else {
      nodes.push(fhirPathNode(type, branch));
      slowBranches.push(branch.text);
    }
  }
  return { extract: joinNodes(nodes), slowBranches, resultTypes };
}

function joinNodes(nodes: Node[]): Extractor {
  const [first, second] = nodes;
  if (!first) {
    return () => [];
  }
  if (!second) {
    return (value, resource) => {
      const out: TypedValue[] = [];
      first(value, out, resource);
      return out;
    };
  }
  return (value, resource) => {
    const out: TypedValue[] = [];
    for (const node of nodes) {
      node(value, out, resource);
    }
    return out;
  };
}

/**
 * Evaluates a branch with the FHIRPath engine. An error there (say a singleton expected, several found)
 * means the data does not fit the definition; the branch then indexes nothing rather than failing the write.
 */
function fhirPathNode(type: string, branch: Branch): Node {
  const atom = parseFhirPath(branch.text);
  return (value, out, resource) => {
    const root = resource ?? value;
    const variables = { '%resource': { type: (root as Resource).resourceType, value: root } };
    let results: TypedValue[];
    try {
      results = evalFhirPathTyped(atom, [{ type, value }], variables);
    } catch {
      return;
    }
    for (const result of results) {
      out.push({ type: result.type, value: result.value });
    }
  };
}

/** `multi` says whether the collection reaching step i can hold several items (then `[n]` cannot be compiled). */
function compileSteps(
  steps: readonly Step[],
  i: number,
  type: string,
  multi: boolean,
  leaves: Set<string>
): Node | undefined {
  const step = steps[i];
  if (!step) {
    return leaf(type, leaves);
  }
  switch (step.kind) {
    case 'prop':
      return compileProperty(steps, i, type, multi, leaves);
    case 'ofType':
      return matchesType(type, step.type) ? compileSteps(steps, i + 1, type, multi, leaves) : undefined;
    case 'whereResolveIs':
      return type === 'Reference'
        ? compileResolveIs(step.type, compileSteps(steps, i + 1, type, multi, leaves))
        : undefined;
    case 'whereEquals':
      return compileWhereEquals(step.prop, step.literal, type, compileSteps(steps, i + 1, type, multi, leaves));
    case 'index':
      return undefined;
  }
}

function leaf(type: string, leaves: Set<string>): Node {
  leaves.add(type);
  if (type === 'Resource') {
    return (value, out) => {
      out.push({ type: value.resourceType, value });
    };
  }
  return (value, out) => {
    if (value !== '' && !isEmptyObject(value)) {
      out.push({ type, value });
    }
  };
}

function isEmptyObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  for (const key in value) {
    if (Object.hasOwn(value, key)) {
      return false;
    }
  }
  return true;
}

function compileProperty(
  steps: readonly Step[],
  i: number,
  type: string,
  multi: boolean,
  leaves: Set<string>
): Node | undefined {
  const step = steps[i] as { kind: 'prop'; name: string };
  const property = lookupProperty(type, step.name);
  if (!property) {
    return undefined;
  }
  let next = i + 1;
  let candidates = property.candidates;
  const following = steps[next];
  if (following?.kind === 'ofType') {
    candidates = candidates.filter((c) => matchesType(c.type, following.type));
    next++;
  }
  let index: number | undefined;
  const indexer = steps[next];
  if (indexer?.kind === 'index') {
    if (multi) {
      return undefined;
    }
    index = indexer.index;
    next++;
  }
  const childMulti = index === undefined && (multi || property.element.isArray === true);
  const compiled: { key: string; child: Node }[] = [];
  for (const candidate of candidates) {
    const child = compileSteps(steps, next, candidate.type, childMulti, leaves);
    if (child) {
      compiled.push({ key: candidate.key, child });
    } else if (candidates.length === 1 || !lacksProperty(steps[next], candidate.type)) {
      return undefined;
    }
  }
  const [only] = compiled;
  if (!only) {
    return undefined;
  }
  if (index !== undefined) {
    return compiled.length === 1 ? indexedNode(only.key, index, only.child) : undefined;
  }
  return compiled.length === 1 ? propertyNode(only.key, only.child) : choiceNode(compiled);
}

/** Of a choice element's types, those without the next property simply select nothing (Observation.value.text). */
function lacksProperty(step: Step | undefined, type: string): boolean {
  return step?.kind === 'prop' && lookupProperty(type, step.name) === undefined;
}

function propertyNode(key: string, child: Node): Node {
  return (value, out) => {
    const property = value[key];
    if (property === undefined || property === null) {
      return;
    }
    if (Array.isArray(property)) {
      for (const item of property) {
        if (item !== undefined && item !== null) {
          child(item, out);
        }
      }
    } else {
      child(property, out);
    }
  };
}

/** A choice element has one of its typed properties set; the first present one wins, as in the FHIRPath engine. */
function choiceNode(compiled: { key: string; child: Node }[]): Node {
  const nodes = compiled.map(({ key, child }) => ({ key, node: propertyNode(key, child) }));
  return (value, out) => {
    for (const { key, node } of nodes) {
      if (value[key] !== undefined) {
        node(value, out);
        return;
      }
    }
  };
}

function indexedNode(key: string, index: number, child: Node): Node {
  return (value, out) => {
    const property = value[key];
    const item = Array.isArray(property) ? property[index] : index === 0 ? property : undefined;
    if (item !== undefined && item !== null) {
      child(item, out);
    }
  };
}

function compileResolveIs(targetType: string, child: Node | undefined): Node | undefined {
  if (!child) {
    return undefined;
  }
  return (value, out) => {
    if (referenceTargetType(value as Reference) === targetType) {
      child(value, out);
    }
  };
}

/** `where(system = 'email')`: only on a single-valued primitive property compared with a string literal. */
function compileWhereEquals(prop: string, literal: string, type: string, child: Node | undefined): Node | undefined {
  const element = tryGetDataType(type)?.elements[prop];
  const propType = element?.type[0]?.code;
  if (!child || !element || element.isArray || element.type.length !== 1 || !propType || !isPrimitive(propType)) {
    return undefined;
  }
  return (value, out) => {
    if (value[prop] === literal) {
      child(value, out);
    }
  };
}

function isPrimitive(type: string): boolean {
  const first = type.charCodeAt(0);
  return first >= 97 && first <= 122;
}

/**
 * Type names in search parameter definitions are not always spelled as in the model
 * (R4's Observation-code-value-date uses `ofType(DateTime)`), so primitives match case-insensitively.
 */
function matchesType(type: string, wanted: string): boolean {
  if (type === wanted) {
    return true;
  }
  if (wanted === 'Quantity') {
    return QUANTITY_TYPES.has(type);
  }
  return isPrimitive(type) && type.toLowerCase() === wanted.toLowerCase();
}

/**
 * The element `name` of `type` with the JSON properties that may hold it: one for an ordinary element,
 * one per type for a choice element named without its type (`value`), one for a typed name (`valueQuantity`).
 */
function lookupProperty(
  type: string,
  name: string
): { element: InternalSchemaElement; candidates: Candidate[] } | undefined {
  const elements = tryGetDataType(type)?.elements;
  if (!elements) {
    return undefined;
  }
  const plain = elements[name];
  const plainType = plain?.type[0]?.code;
  if (plain && plainType && !plain.path.endsWith('[x]')) {
    return { element: plain, candidates: [{ key: name, type: plainType }] };
  }
  const choice = plain ?? elements[name + '[x]'];
  if (choice) {
    return { element: choice, candidates: choice.type.map((t) => ({ key: name + capitalize(t.code), type: t.code })) };
  }
  for (let i = 1; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const element = c >= 65 && c <= 90 ? elements[name.slice(0, i) + '[x]'] : undefined;
    const typed = element?.type.find((t) => capitalize(t.code) === name.slice(i));
    if (element && typed) {
      return { element, candidates: [{ key: name, type: typed.code }] };
    }
  }
  return undefined;
}
