import type { JsonObject } from './json';
import { hasNoKeys, isEmpty, isObject } from './json';

/**
 * Plain-JSON versions of the FHIRPath navigation @medplum/core's engine performs, for the hand-written
 * invariants: a property's value merged with its `_x` sibling, an empty value dropped, arrays flattened.
 */

/** A property and its `_x` sibling, by their JSON names (precomputed: no string concatenation per call). */
export interface PropertyKeys {
  readonly key: string;
  readonly extKey: string;
}

export function keys(key: string): PropertyKeys {
  return { key, extKey: '_' + key };
}

/**
 * `inputs.key` in FHIRPath: the values of the property on every input, arrays flattened. Like the engine, it
 * drops a property whose whole value is empty but keeps empty items inside an array ([{}] is one item).
 */
export function children(inputs: readonly unknown[], property: PropertyKeys): unknown[] {
  const result: unknown[] = [];
  for (const input of inputs) {
    if (typeof input === 'object' && input !== null) {
      appendValue(result, propertyValue(input as JsonObject, property));
    }
  }
  return result;
}

/**
 * `input.name` for a choice element `name[x]`. Like core, the first type (in the element's type order) whose
 * property or `_x` sibling is present decides, even when that value is empty.
 */
export function choiceValues(input: unknown, choices: readonly PropertyKeys[]): unknown[] {
  if (!isObject(input)) {
    return [];
  }
  for (const choice of choices) {
    if (input[choice.key] !== undefined || input[choice.extKey] !== undefined) {
      return children([input], choice);
    }
  }
  return [];
}

/** FHIRPath `exists()`: the engine also requires every item to be non-empty. */
export function exists(values: readonly unknown[]): boolean {
  return values.length > 0 && values.every((value) => !isEmpty(value));
}

/** FHIRPath `empty()`: the engine counts a collection of empty items ([{}]) as empty. */
export function empty(values: readonly unknown[]): boolean {
  return values.every(isEmpty);
}

/** FHIRPath `values = 'literal'` is true only for a single value equal to the literal. */
export function equalsLiteral(values: readonly unknown[], literal: string): boolean {
  return values.length === 1 && valueOf(values[0]) === literal;
}

/** A property's value as core's getTypedPropertyValue merges it: undefined when absent or empty. */
function propertyValue(input: JsonObject, property: PropertyKeys): unknown {
  const value = input[property.key];
  const extension = input[property.extKey];
  const merged = extension ? mergeExtension(value, extension) : value;
  return isEmpty(merged) ? undefined : merged;
}

function mergeExtension(value: unknown, extension: unknown): unknown {
  if (Array.isArray(value)) {
    if (!Array.isArray(extension)) {
      return value;
    }
    const length = Math.max(value.length, extension.length);
    return Array.from({ length }, (_, i) => mergeItem(value[i], extension[i]));
  }
  if (!value && Array.isArray(extension)) {
    return extension.map((item) => mergeItem(undefined, item));
  }
  return mergeItem(value, extension);
}

/**
 * Core assigns the `_x` object's properties onto the value (boxing primitives); we copy instead of mutating.
 * Where core throws on a malformed `_x` (not an object), the value is taken as it is.
 */
function mergeItem(value: unknown, extension: unknown): unknown {
  if (!extension || typeof extension !== 'object' || Array.isArray(extension)) {
    return value;
  }
  if (typeof value === 'object' && value !== null) {
    return hasNoKeys(value) ? { ...extension } : value;
  }
  return Object.assign(value === undefined || value === null ? {} : Object(value), extension);
}

function appendValue(result: unknown[], value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      result.push(item);
    }
  } else if (value !== undefined) {
    result.push(value);
  }
}

function valueOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? value.valueOf() : value;
}
