import type { InternalTypeSchema, ValidatorOptions } from '@medplum/core';
import { getAllDataTypes, getDataType, parseStructureDefinition, validateTypedValue } from '@medplum/core';
import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';

/**
 * Validating against a profile without parsing it each time.
 *
 * @medplum/core's `validateResource(resource, { profile })` parses the StructureDefinition on every call: for a
 * Hale measurement profile that is ~1.6 ms, twenty times the check itself (~0.1 ms), and every reading a patient
 * app or a device import writes names one. Core's API takes only the StructureDefinition, not a parsed schema,
 * but its validator looks a resource's schema up by the TypedValue's type in the global type table when no
 * profile is given. So the parsed profile is placed there under a name no FHIR type can have, for the length of
 * one synchronous call, and the resource is validated as a value of that type: the same validator, walking the
 * same parsed schema, without the parse. This leans on how core's validator reads the table (below); the pinned
 * version is held to it by the test. profile-schemas.test.ts holds the outcomes to core's own, issue for issue.
 */

/** Parsed once per StructureDefinition object; a re-registered profile is a new object and is parsed anew. */
const schemas = new WeakMap<StructureDefinition, InternalTypeSchema>();

/** No FHIR type name contains a space, so this cannot shadow one. */
const TYPE_PREFIX = 'hale profile ';

function schemaOf(profile: StructureDefinition): InternalTypeSchema {
  let schema = schemas.get(profile);
  if (!schema) {
    schema = parseStructureDefinition(profile);
    schemas.set(profile, schema);
  }
  return schema;
}

/**
 * What `validateResource(resource, { ...options, profile })` does: throws core's OperationOutcomeError when an
 * error is found, returns the warnings otherwise, and fills `options.collect` either way.
 */
export function validateAgainstProfile(
  resource: Resource,
  profile: StructureDefinition,
  options: Omit<ValidatorOptions, 'profile'>
): OperationOutcomeIssue[] {
  const types = getAllDataTypes();
  const type = TYPE_PREFIX + (profile.url ?? '');
  const profileSchema = schemaOf(profile);
  const baseSchema = getDataType(resource.resourceType);
  // The validator looks the type up once, when it is built, and takes the profile from it. Every later lookup
  // reads the resource's properties (FHIRPath, the crawl), which core's own profile path does with the base type,
  // so a choice the profile narrows (value[x] to Quantity) is still read as the base type and reported as core
  // reports it, by the profile's element, not as an unknown property.
  let built = false;
  Object.defineProperty(types, type, {
    configurable: true,
    enumerable: false,
    get: (): InternalTypeSchema => {
      const schema = built ? baseSchema : profileSchema;
      built = true;
      return schema;
    },
  });
  try {
    return validateTypedValue({ type, value: resource }, options);
  } finally {
    // Nothing else may see the entry: core enumerates the table (e.g. for resource type lists).
    delete types[type];
  }
}
