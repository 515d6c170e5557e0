import type { Resource } from '@medplum/fhirtypes';
import type { Location, MutationKind } from './mutation-kinds';
import { MUTATION_KINDS } from './mutation-kinds';

/**
 * Deterministic mutations of valid resources, for comparing validators: each mutant is a copy of a source
 * resource with one targeted defect (wrong JSON type, unknown element, cardinality, bad code or format, empty
 * value, malformed `_x`, nested resources, broken invariants, conflicting choice types, ...).
 */
export interface Mutant {
  kind: string;
  description: string;
  resource: Resource;
}

/** A small, fast, seedable PRNG (mulberry32), so the same seed always yields the same mutants. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` mutants, cycling through the mutation kinds so each gets an equal share; generated lazily. */
export function* mutants(sources: readonly Resource[], count: number, seed: number): Generator<Mutant> {
  const random = seededRandom(seed);
  const all = sources.map((source) => ({ source, found: locations(source as unknown as JsonObject) }));
  // Per kind, the sources it applies to and where: some kinds fit few resources (extensions are rare).
  const targets = new Map<MutationKind, { source: Resource; candidates: Found[] }[]>();
  for (let i = 0; i < count; i++) {
    const kind = MUTATION_KINDS[i % MUTATION_KINDS.length] as MutationKind;
    let list = targets.get(kind);
    if (!list) {
      list = all
        .map(({ source, found }) => ({ source, candidates: found.filter((location) => kind.applies(location)) }))
        .filter(({ candidates }) => candidates.length > 0);
      targets.set(kind, list);
    }
    const target = list[Math.floor(random() * list.length)];
    if (target) {
      yield mutate(target.source, target.candidates, kind, random);
    }
  }
}

/** Mutates a copy of the source at one of the candidate places (the source stays intact). */
function mutate(source: Resource, candidates: Found[], kind: MutationKind, random: () => number): Mutant {
  const chosen = candidates[Math.floor(random() * candidates.length)] as Found;
  const resource = structuredClone(source);
  const location = locate(resource as unknown as JsonObject, stepsTo(chosen));
  const description = kind.apply(location, random);
  return { kind: kind.name, description: `${location.path}: ${description}`, resource };
}

type JsonObject = Record<string, unknown>;

/** A location plus the location of its parent, to find the same place in a copy. */
type Found = Location & { up: Found | undefined };

/** Every value in the resource with its parent, including the resource itself (its `resourceType` excluded). */
function locations(root: JsonObject): Found[] {
  const top: Found = { parent: undefined, key: '', value: root, path: '', root, up: undefined };
  const result: Found[] = [top];
  const visit = (found: Found): void => {
    const value = found.value;
    if (typeof value !== 'object' || value === null) {
      return;
    }
    const entries: [string | number, unknown][] = Array.isArray(value) ? [...value.entries()] : Object.entries(value);
    for (const [key, child] of entries) {
      if (value !== root || key !== 'resourceType') {
        const next: Found = { parent: value as JsonObject, key, value: child, path: '', root, up: found };
        result.push(next);
        visit(next);
      }
    }
  };
  visit(top);
  return result;
}

function stepsTo(found: Found): (string | number)[] {
  const steps: (string | number)[] = [];
  for (let at: Found | undefined = found; at?.up; at = at.up) {
    steps.unshift(at.key);
  }
  return steps;
}

/** The location reached by `steps` in `root`, with its FHIRPath-like path for descriptions. */
function locate(root: JsonObject, steps: (string | number)[]): Location {
  let parent: JsonObject | unknown[] | undefined;
  let value: unknown = root;
  let path = String(root.resourceType);
  for (const step of steps) {
    parent = value as JsonObject | unknown[];
    value = (parent as JsonObject)[step];
    path += typeof step === 'number' ? `[${step}]` : `.${step}`;
  }
  return { parent, key: steps[steps.length - 1] ?? '', value, path, root };
}
