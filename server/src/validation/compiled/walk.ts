import { isResourceType } from '@medplum/core';
import { checkArray, checkSingle } from './items';
import type { JsonObject } from './json';
import { hasNoKeys, isEmpty, isObject, itemAt } from './json';
import type { ElementPlan, PropertyPlan, TypePlan } from './plan';
import { planOf } from './plan';
import type { Run } from './run';

const EMPTY_OBJECT = 'Empty objects are not allowed: omit the element';

/**
 * Walks one JSON object against its type: every property once, in the object's own order, then the required
 * elements. Issues use the expressions and codes of the reference implementation (@medplum/core's validator
 * plus Hale's JSON-shape and nested-resource checks); see run.ts for why elements are named two ways.
 */
export function checkObject(object: JsonObject, plan: TypePlan, run: Run): void {
  for (const key in object) {
    const value = object[key];
    if (value === undefined) {
      continue;
    }
    const ref = plan.properties.get(key);
    if (ref === undefined) {
      checkUnknownKey(key, value, plan, run);
    } else if (ref.isExtension) {
      checkExtensionKey(object, ref.property, value, run);
    } else if (isChosen(object, ref.property, run)) {
      checkProperty(object, ref.property, value, object[ref.property.extKey], run);
    }
  }
  for (const element of plan.required) {
    if (!isElementPresent(object, element)) {
      run.structure('core', 'Missing required property', element.name);
    }
  }
}

/** Validates a nested resource against its own resourceType; unknown or missing types are reported instead. */
export function checkNestedResource(resource: JsonObject, run: Run): void {
  if (!('resourceType' in resource)) {
    run.report('invalid', run.pathOf('json'), 'Nested resource has no resourceType');
    // Like core, still check what an untyped resource may carry (id, meta, implicitRules, language).
    checkObject(resource, planOf('Resource'), run);
    return;
  }
  const type = resource.resourceType;
  if (typeof type !== 'string') {
    run.report('invalid', run.pathOf('json'), 'Nested resource has no resourceType');
  } else if (!isResourceType(type)) {
    run.report('invalid', run.pathOf('json'), `Unknown resource type ${JSON.stringify(type)}`);
  } else {
    run.resources.push(resource);
    checkObject(resource, planOf(type), run);
    run.resources.pop();
  }
}

function checkUnknownKey(key: string, value: unknown, plan: TypePlan, run: Run): void {
  if (value === null) {
    run.structure('json', 'Invalid null value', key);
  }
  if (key !== 'resourceType') {
    run.structure('core', `Invalid additional property "${key}"`, key);
  } else if (!plan.isResource) {
    run.structure('json', 'Only resources have a resourceType', key);
  }
}

/**
 * A choice element holds one value. Core validates the first of its types (in type order) that is present and
 * only warns about the others, which would then be stored unchecked; we reject them.
 */
function isChosen(object: JsonObject, property: PropertyPlan, run: Run, key = property.key): boolean {
  if (property.element.members.length === 1 || chosenMember(object, property.element) === property) {
    return true;
  }
  const chosen = chosenMember(object, property.element)?.key ?? '';
  run.structure('json', `Conflicting choice of type properties: "${key}", "${chosen}"`, key);
  return false;
}

/** `_x` carries the id and extensions of primitive `x`; it is validated with `x`, or alone when `x` is absent. */
function checkExtensionKey(object: JsonObject, property: PropertyPlan, extension: unknown, run: Run): void {
  if (!isChosen(object, property, run, property.extKey)) {
    return;
  }
  const value = object[property.key];
  run.enter(property.extSegment);
  checkExtensionShape(extension, value, run);
  run.leave();
  if (value === undefined) {
    checkProperty(object, property, undefined, extension, run);
  }
}

function checkProperty(object: JsonObject, property: PropertyPlan, value: unknown, extension: unknown, run: Run): void {
  const usable = extension === undefined ? undefined : usableExtension(extension, value);
  run.enter(property.segment);
  if (Array.isArray(value) || (value === undefined && Array.isArray(usable))) {
    checkArray(object, property, value, usable, run);
  } else {
    checkSingle(property, value, usable, run);
  }
  run.leave();
}

/** The JSON-shape rules for `_x`, with the null checks core applies to its items. */
function checkExtensionShape(extension: unknown, value: unknown, run: Run): void {
  if (extension === null) {
    run.structure('json', 'Invalid null value');
    return;
  }
  const problem = extensionProblem(extension, value);
  if (problem) {
    run.structure('json', `Invalid primitive extension: ${problem}`);
  } else if (isObject(extension) && hasNoKeys(extension)) {
    run.structure('json', EMPTY_OBJECT);
  }
  if (Array.isArray(extension)) {
    extension.forEach((item, i) => checkExtensionItem(item, i, value, run));
  }
}

/**
 * A null stands for "no extension here" and is allowed only where the value array has a value. An empty object
 * says nothing either (ele-1, which core skips): it is rejected like empty objects everywhere else.
 */
function checkExtensionItem(item: unknown, i: number, value: unknown, run: Run): void {
  const problem = item === null ? (itemAt(value, i) ? undefined : 'Invalid null value') : undefined;
  const empty = isObject(item) && hasNoKeys(item) ? EMPTY_OBJECT : undefined;
  if (problem ?? empty) {
    run.enter(i);
    run.structure('json', (problem ?? empty) as string);
    run.leave();
  }
}

/** A well-formed `_x`, or undefined when it is malformed or empty (reported by checkExtensionShape). */
function usableExtension(extension: unknown, value: unknown): unknown {
  if (extension === null || extensionProblem(extension, value) !== undefined) {
    return undefined;
  }
  // Core boxes a number or boolean with an empty `_x` into an empty object and then reads the value as absent.
  return isObject(extension) && hasNoKeys(extension) ? undefined : extension;
}

function extensionProblem(extension: unknown, value: unknown): string | undefined {
  if (Array.isArray(extension)) {
    if (value !== undefined && !Array.isArray(value)) {
      return 'an array, but the value it extends is not';
    }
    return extension.some((item) => item !== null && !isObject(item)) ? 'items must be objects or null' : undefined;
  }
  if (!isObject(extension)) {
    return `expected an object, got ${extension === null ? 'null' : typeof extension}`;
  }
  if (Array.isArray(value)) {
    return 'must be an array, like the value it extends';
  }
  return isObject(value) ? 'only primitive values have primitive extensions' : undefined;
}

/** The member of a choice element core validates: the first type whose property or `_x` sibling is present. */
function chosenMember(object: JsonObject, element: ElementPlan): PropertyPlan | undefined {
  for (const member of element.members) {
    if (object[member.key] !== undefined || object[member.extKey] !== undefined) {
      return member;
    }
  }
  return undefined;
}

function isElementPresent(object: JsonObject, element: ElementPlan): boolean {
  const member = chosenMember(object, element);
  if (!member) {
    return false;
  }
  const value = object[member.key];
  const extension = object[member.extKey];
  return isPresent(value, extension === undefined ? undefined : usableExtension(extension, value));
}

/**
 * Whether core sees a value once a (well-formed, non-empty) `_x` is merged into it: empty values count as
 * absent unless the `_x` carries something.
 */
export function isPresent(value: unknown, extension: unknown): boolean {
  if (extension === undefined) {
    return !isEmpty(value);
  }
  if (Array.isArray(extension)) {
    return Math.max(Array.isArray(value) ? value.length : 0, extension.length) > 0;
  }
  return true;
}
