import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

/**
 * Builds the snapshot of a simple constraint profile from its differential and the base definition's snapshot.
 * "Simple" is all Hale's profiles need and all this supports: cardinality, fixed/pattern values, bindings, type
 * narrowing (e.g. fewer Reference targets) and added invariants on elements the base snapshot already lists.
 * A base profile's own slices (vitalsigns' category:VSCat) are carried into the snapshot unchanged. Slicing in the
 * differential and constraints below an element's own data type (e.g. Consent.patient.reference) throw, so a
 * profile that needs them fails loudly here instead of getting a wrong snapshot.
 */
export function withSnapshot(profile: StructureDefinition, base: StructureDefinition): StructureDefinition {
  if (profile.derivation !== 'constraint' || profile.baseDefinition !== base.url || profile.type !== base.type) {
    throw new Error(`${profile.url}: expected a constraint on ${base.url}`);
  }
  const diffById = new Map<string, ElementDefinition>();
  for (const element of profile.differential?.element ?? []) {
    diffById.set(checkedId(profile, element), element);
  }
  const element = (base.snapshot?.element ?? []).map((baseElement) => {
    const diff = baseElement.id === undefined ? undefined : diffById.get(baseElement.id);
    if (!diff) {
      return structuredClone(baseElement);
    }
    diffById.delete(baseElement.id as string);
    return merge(profile, baseElement, diff);
  });
  if (diffById.size > 0) {
    throw new Error(`${profile.url}: no base element for ${[...diffById.keys()].join(', ')}`);
  }
  const { snapshot: _old, differential, ...rest } = profile;
  return {
    ...rest,
    ...(base.mapping ? { mapping: structuredClone(base.mapping) } : {}),
    snapshot: { element },
    differential,
  };
}

function checkedId(profile: StructureDefinition, element: ElementDefinition): string {
  if (!element.id || element.path !== element.id.replace(/:[^.]+/g, '')) {
    throw new Error(`${profile.url}: differential element ${element.id ?? element.path} needs a matching id and path`);
  }
  if (element.sliceName || element.slicing || element.id.includes(':')) {
    throw new Error(`${profile.url}: ${element.id} slices, which this snapshot generator does not support`);
  }
  return element.id;
}

/** The base element with the differential's changes; the differential may only narrow what the base allows. */
function merge(profile: StructureDefinition, base: ElementDefinition, diff: ElementDefinition): ElementDefinition {
  const { id: _id, path: _path, constraint, ...changes } = diff;
  const merged: ElementDefinition = { ...structuredClone(base), ...structuredClone(changes) };
  const where = `${profile.url}: ${base.id}`;
  if ((merged.min ?? 0) < (base.min ?? 0) || maxOf(merged.max) > maxOf(base.max)) {
    throw new Error(`${where}: ${merged.min}..${merged.max} widens the base ${base.min}..${base.max}`);
  }
  if (maxOf(merged.max) < (merged.min ?? 0)) {
    throw new Error(`${where}: min ${merged.min} is above max ${merged.max}`);
  }
  const baseTypes = new Set((base.type ?? []).map((t) => t.code));
  if (diff.type?.some((t) => !baseTypes.has(t.code))) {
    throw new Error(`${where}: type ${diff.type.map((t) => t.code).join('|')} is not in the base types`);
  }
  if (constraint) {
    merged.constraint = [...(base.constraint ?? []), ...constraint.map((c) => ({ ...c, source: profile.url }))];
  }
  return merged;
}

function maxOf(max: string | undefined): number {
  return max === undefined || max === '*' ? Number.POSITIVE_INFINITY : Number(max);
}
