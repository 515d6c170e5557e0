import type { InternalSchemaElement, InternalTypeSchema } from '@medplum/core';
import { capitalize, fhirTypeToJsType, isResourceType, tryGetDataType } from '@medplum/core';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

type JsonObject = Record<string, unknown>;

/** How a JSON property maps to its element: the element (for isArray) and the concrete FHIR type code. */
interface PropertyType {
  element: InternalSchemaElement;
  code: string;
}

/**
 * Checks the JSON shape of every element where @medplum/core's validator is blind. Core treats '', {} and []
 * as absent, accepts any object in a primitive slot (it reads it as an extension-only primitive, and it skips
 * 'resourceType' keys everywhere) and accepts numbers or booleans where a complex type belongs, so e.g.
 * `"active": {}`, `"issued": {"resourceType": "Foo"}` or `"class": 5` would be stored. Problems core does
 * report (wrong primitive JSON type, unknown or missing elements, cardinality) are left to it. Malformed `_x`
 * properties are reported here too: core throws plain Errors on them.
 */
export function checkJsonShape(resource: JsonObject, resourceType: string): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const schema = tryGetDataType(resourceType);
  if (schema) {
    visitObject(resource, schema, resourceType, true, issues);
  }
  return issues;
}

function visitObject(
  object: JsonObject,
  schema: InternalTypeSchema,
  path: string,
  isResource: boolean,
  issues: OperationOutcomeIssue[]
): void {
  const properties = propertyTypes(schema);
  for (const key of Object.keys(object)) {
    const value = object[key];
    const property = properties.get(key);
    if (property) {
      visitProperty(value, property, `${path}.${key}`, issues);
    } else if (key.startsWith('_') && properties.has(key.slice(1))) {
      visitPrimitiveExtension(value, object[key.slice(1)], `${path}.${key}`, issues);
    } else if (key === 'resourceType' && !isResource) {
      issues.push(issue(`${path}.${key}`, 'Only resources have a resourceType'));
    }
  }
}

function visitProperty(value: unknown, property: PropertyType, path: string, issues: OperationOutcomeIssue[]): void {
  if (!Array.isArray(value)) {
    // A single value where an array belongs is reported by core ('Expected array of values').
    visitValue(value, property.code, path, issues);
  } else if (value.length === 0) {
    issues.push(issue(path, 'Empty arrays are not allowed: omit the element'));
  } else if (property.element.isArray) {
    value.forEach((item, i) => visitValue(item, property.code, `${path}[${i}]`, issues));
  }
}

function visitValue(value: unknown, code: string, path: string, issues: OperationOutcomeIssue[]): void {
  // null and undefined are reported by core (checkObjectForNull), or are placeholders next to `_x` arrays.
  if (value === null || value === undefined) {
    return;
  }
  if (code in fhirTypeToJsType) {
    visitPrimitive(value, path, issues);
  } else if (!isObject(value)) {
    issues.push(issue(path, `Expected a JSON object (${code}), got ${jsonKind(value)}`));
  } else if (Object.keys(value).length === 0) {
    issues.push(issue(path, 'Empty objects are not allowed: omit the element'));
  } else {
    visitComplex(value, code, path, issues);
  }
}

function visitPrimitive(value: unknown, path: string, issues: OperationOutcomeIssue[]): void {
  if (typeof value === 'object') {
    issues.push(issue(path, `Expected a primitive value, got ${jsonKind(value)}`));
  } else if (value === '') {
    issues.push(issue(path, 'Empty strings are not allowed: omit the element'));
  }
}

function visitComplex(value: JsonObject, code: string, path: string, issues: OperationOutcomeIssue[]): void {
  if (code === 'Resource') {
    // Nested resources of unknown or missing type are reported by the nested-resource check.
    const resourceType = value.resourceType;
    const schema = typeof resourceType === 'string' && isResourceType(resourceType) && tryGetDataType(resourceType);
    if (schema) {
      visitObject(value, schema, path, true, issues);
    }
    return;
  }
  const schema = tryGetDataType(code);
  if (schema) {
    visitObject(value, schema, path, false, issues);
  }
}

/**
 * `_x` carries the id/extensions of primitive `x`: an object, or next to an array of primitives an array of
 * objects and nulls. Core throws plain Errors on other shapes instead of reporting them.
 */
function visitPrimitiveExtension(
  value: unknown,
  primitive: unknown,
  path: string,
  issues: OperationOutcomeIssue[]
): void {
  const problem = primitiveExtensionProblem(value, primitive);
  if (problem) {
    issues.push(issue(path, `Invalid primitive extension: ${problem}`));
    return;
  }
  const element = tryGetDataType('Element');
  for (const item of Array.isArray(value) ? value : [value]) {
    if (element && item !== null) {
      visitObject(item as JsonObject, element, path, false, issues);
    }
  }
}

function primitiveExtensionProblem(extension: unknown, primitive: unknown): string | undefined {
  if (Array.isArray(extension)) {
    if (primitive !== undefined && !Array.isArray(primitive)) {
      return 'an array, but the value it extends is not';
    }
    return extension.some((item) => item !== null && !isObject(item)) ? 'items must be objects or null' : undefined;
  }
  if (!isObject(extension)) {
    return `expected an object, got ${jsonKind(extension)}`;
  }
  if (Array.isArray(primitive)) {
    return 'must be an array, like the value it extends';
  }
  return isObject(primitive) ? 'only primitive values have primitive extensions' : undefined;
}

/** JSON property name → element and type, with choice elements expanded (value[x] → valueString, ...). */
const propertyTypeCache = new WeakMap<InternalTypeSchema, Map<string, PropertyType>>();

function propertyTypes(schema: InternalTypeSchema): Map<string, PropertyType> {
  let map = propertyTypeCache.get(schema);
  if (!map) {
    map = new Map();
    for (const [name, element] of Object.entries(schema.elements)) {
      if (name.endsWith('[x]')) {
        const prefix = name.slice(0, -3);
        for (const type of element.type) {
          map.set(prefix + capitalize(type.code), { element, code: type.code });
        }
      } else if (element.type.length === 1 && element.type[0]) {
        map.set(name, { element, code: element.type[0].code });
      }
    }
    propertyTypeCache.set(schema, map);
  }
  return map;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) {
    return 'an array';
  }
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function issue(path: string, text: string): OperationOutcomeIssue {
  return { severity: 'error', code: 'structure', details: { text }, expression: [path] };
}
