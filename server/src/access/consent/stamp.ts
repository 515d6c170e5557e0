import type { Reference } from '@medplum/fhirtypes';

type Shape = 'one' | 'many' | 'actor-many';

/** Where each type names who made it, and whether that element repeats. */
const AUTHOR_ELEMENTS: Record<string, [string, Shape]> = {
  Observation: ['performer', 'many'],
  DiagnosticReport: ['performer', 'many'],
  CarePlan: ['author', 'one'],
  Goal: ['expressedBy', 'one'],
  Condition: ['recorder', 'one'],
  AllergyIntolerance: ['recorder', 'one'],
  Procedure: ['recorder', 'one'],
  MedicationRequest: ['requester', 'one'],
  MedicationStatement: ['informationSource', 'one'],
  Immunization: ['performer', 'actor-many'],
  DocumentReference: ['author', 'many'],
  Task: ['requester', 'one'],
  ServiceRequest: ['requester', 'one'],
  FamilyMemberHistory: ['recorder', 'one'],
};

/**
 * A provider's additions to a patient's record carry the provider as author/performer, so the
 * patient (and other providers) can tell verified clinical data from self-reported entries.
 * Only an absent element is filled in: a provider recording a colleague's result keeps it.
 */
export function stampAuthor(resource: Record<string, unknown> & { resourceType: string }, author: Reference): void {
  const spec = AUTHOR_ELEMENTS[resource.resourceType];
  if (!spec) {
    return;
  }
  const [element, shape] = spec;
  const current = resource[element];
  if (current !== undefined && !(Array.isArray(current) && current.length === 0)) {
    return;
  }
  resource[element] = shape === 'one' ? author : shape === 'many' ? [author] : [{ actor: author }];
}
