import { bindingIssue, bindingProblem } from '../bindings';
import { expandValueSet } from '../terminology';
import { checkInvariants } from './invariants';
import type { JsonObject } from './json';
import { hasNoKeys, isEmpty, isObject, itemAt, jsonKind } from './json';
import type { PropertyPlan } from './plan';
import { nestedPlan, planOf } from './plan';
import type { Run } from './run';
import { checkNestedResource, checkObject, isPresent } from './walk';

const NO_ITEMS: readonly unknown[] = [];

/** A property holding one JSON value (the path is at the property). */
export function checkSingle(property: PropertyPlan, value: unknown, extension: unknown, run: Run): void {
  if (value === null) {
    run.structure('json', 'Invalid null value');
  } else if (value !== undefined) {
    checkShape(property, value, run);
  }
  if (!isPresent(value, extension)) {
    // An empty nested resource ({}) still lacks its resourceType (a {} in place of an array is a shape issue).
    if (property.isResource && isObject(value) && !property.element.isArray) {
      run.report('invalid', run.pathOf('json'), 'Nested resource has no resourceType');
    }
    return;
  }
  if (property.element.isArray) {
    run.structure('core', 'Expected array of values for property');
    // Like core, still look inside the value as if it were the only item.
    descend(property, value ?? extension, run);
  } else if (checkItem(property, value, extension, run) && isObject(extension)) {
    checkExtensionContent(property, extension, undefined, run);
  }
}

/** A property holding a JSON array, or an array-valued `_x` alone (the path is at the property). */
export function checkArray(
  object: JsonObject,
  property: PropertyPlan,
  value: unknown,
  extension: unknown,
  run: Run
): void {
  const values = Array.isArray(value) ? value : NO_ITEMS;
  const extensions = Array.isArray(extension) ? extension : NO_ITEMS;
  if (Array.isArray(value) && value.length === 0) {
    run.structure('json', 'Empty arrays are not allowed: omit the element');
  }
  const count = Math.max(values.length, extensions.length);
  const { isArray, min, max } = property.element;
  if (count > 0 && !isArray) {
    run.structure('core', 'Expected single value for property');
  } else if (count > 0 && (count < min || count > max)) {
    const range = `${min}..${Number.isFinite(max) ? max : '*'}`;
    run.structure('core', `Invalid number of values: expected ${range}, but found ${count}`);
  }
  for (let i = 0; i < count; i++) {
    run.enter(i);
    checkArrayItem(object, property, values, i, extensions[i] ?? undefined, run);
    run.leave();
  }
}

function checkArrayItem(
  object: JsonObject,
  property: PropertyPlan,
  values: readonly unknown[],
  i: number,
  extension: unknown,
  run: Run
): void {
  const item = values[i];
  if (i < values.length) {
    // A null stands for "only an extension here" and is allowed only where `_x` has one.
    if (item === undefined) {
      run.structure('json', 'Invalid undefined value');
    } else if (item === null) {
      if (!itemAt(object[property.extKey], i)) {
        run.structure('json', 'Invalid null value');
      }
    } else if (property.element.isArray) {
      checkShape(property, item, run);
    }
  }
  if (!property.element.isArray) {
    descend(property, item ?? extension, run);
  } else if (checkItem(property, item, extension, run) && isObject(extension)) {
    checkExtensionContent(property, extension, i, run);
  }
}

/** The JSON-shape rules: the right kind of JSON value for the type, and no empty strings or objects. */
function checkShape(property: PropertyPlan, value: unknown, run: Run): void {
  if (property.jsType) {
    if (typeof value === 'object') {
      run.structure('json', `Expected a primitive value, got ${jsonKind(value)}`);
    } else if (value === '') {
      run.structure('json', 'Empty strings are not allowed: omit the element');
    }
  } else if (!isObject(value)) {
    run.structure('json', `Expected a JSON object (${property.code}), got ${jsonKind(value)}`);
  } else if (hasNoKeys(value)) {
    run.structure('json', 'Empty objects are not allowed: omit the element');
  }
}

/**
 * Core's checks of one value: invariants, required binding, then the primitive's format or the complex value
 * itself. Returns whether the `_x` content of a primitive is to be checked too (core skips it after a JSON
 * type error).
 */
function checkItem(property: PropertyPlan, value: unknown, extension: unknown, run: Run): boolean {
  const item = property.jsType ? value : (value ?? extension);
  const invariants = property.element.invariants;
  if (invariants.length > 0) {
    const type = property.isResource && isObject(item) ? resourceTypeOf(item) : property.code;
    const ext = property.jsType ? extension : undefined;
    checkInvariants(invariants, item, ext, type, run);
  }
  if (property.bound && item !== undefined && item !== null) {
    checkBinding(property, item, run);
  }
  if (!property.jsType) {
    if (isEmpty(item)) {
      reportUnlessShapeDid(run, 'Invalid empty non-primitive value');
    }
    descend(property, item, run);
    return false;
  }
  return checkPrimitive(property, value, run);
}

/** The FHIRPath type of a nested resource: its resourceType, or the abstract Resource without one. */
function resourceTypeOf(resource: JsonObject): string {
  return typeof resource.resourceType === 'string' ? resource.resourceType : 'Resource';
}

function checkPrimitive(property: PropertyPlan, value: unknown, run: Run): boolean {
  if (value === undefined || value === null) {
    return true;
  }
  if (typeof value !== property.jsType) {
    // An object here was reported by the shape rules; core would read it as an extension-only primitive.
    if (typeof value !== 'object') {
      run.structure('core', `Invalid JSON type: expected ${property.jsType}, but got ${typeof value}`);
    }
    return false;
  }
  const problem = property.primitive?.(value);
  if (problem) {
    if (value === '') {
      reportUnlessShapeDid(run, problem);
    } else {
      run.structure('core', problem);
    }
  }
  return true;
}

/**
 * Empty values in arrays ('', {}, [], null) usually already have a shape or null issue at the same place;
 * core's own wording of the problem would only repeat it. The issues of this value are the last ones reported.
 */
function reportUnlessShapeDid(run: Run, text: string): void {
  const path = run.pathOf('core');
  for (let i = run.issues.length - 1; i >= 0 && run.issues[i]?.expression?.[0] === path; i--) {
    if (run.issues[i]?.code === 'structure') {
      return;
    }
  }
  run.report('structure', path, text);
}

function checkBinding(property: PropertyPlan, value: unknown, run: Run): void {
  const url = property.element.requiredValueSet as string;
  // A ValueSet we cannot expand completely (filters, SNOMED CT, LOINC, ...) is skipped: never a false rejection.
  const expansion = expandValueSet(url);
  const problem = expansion && bindingProblem(property.code, value, expansion);
  if (problem) {
    run.issues.push(bindingIssue(run.pathOf('core'), problem, url));
  }
}

/** Walks into a complex value: a nested resource by its resourceType, anything else by the element's type. */
function descend(property: PropertyPlan, value: unknown, run: Run): void {
  if (property.jsType || !isObject(value)) {
    return;
  }
  if (property.isResource) {
    checkNestedResource(value, run);
  } else {
    checkObject(value, nestedPlan(property), run);
  }
}

/**
 * The `_x` content of a primitive is an Element (id, extension). Shape problems in it are named by `_x`, core's
 * by the primitive itself, so the property's segment is swapped for its extension segment meanwhile.
 */
function checkExtensionContent(property: PropertyPlan, content: JsonObject, index: number | undefined, run: Run): void {
  const depth = index === undefined ? 0 : 1;
  run.replace(depth, property.extSegment);
  checkObject(content, planOf('Element'), run);
  run.replace(depth, property.segment);
}
