/** Plain-JSON predicates shared by the compiled validator; they mirror @medplum/core's notion of "empty". */

export type JsonObject = Record<string, unknown>;

/** A JSON object: not null, not an array. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when an object or array has no own keys (JSON objects never carry inherited enumerable keys). */
export function hasNoKeys(value: object): boolean {
  for (const _key in value) {
    return false;
  }
  return true;
}

/**
 * @medplum/core's isEmpty: null, undefined, '', {} and [] count as absent. Numbers and booleans never do.
 * Core drops such values before validating them, so the compiled validator must treat them the same way.
 */
export function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '') {
    return true;
  }
  return typeof value === 'object' && hasNoKeys(value);
}

/** Describes a JSON value's kind for messages: 'an array', 'an object', 'a string', ... */
export function jsonKind(value: unknown): string {
  if (Array.isArray(value)) {
    return 'an array';
  }
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** `container[index]` for arrays, objects and strings alike, as core's null check reads a partner `_x` array. */
export function itemAt(container: unknown, index: number): unknown {
  if (typeof container === 'string') {
    return container[index];
  }
  return isObject(container) || Array.isArray(container) ? (container as unknown[])[index] : undefined;
}
