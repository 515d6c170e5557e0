/**
 * Accumulates transaction entries. Every entry is a POST with a urn:uuid fullUrl drawn from the
 * patient's PRNG, so references between entries are stable across runs and the server rewrites
 * them to the ids it assigns.
 */
import type { BundleEntry, Reference, Resource } from '@medplum/fhirtypes';
import type { Rng } from './prng';

export class EntryList {
  readonly entries: BundleEntry[] = [];

  constructor(private readonly rng: Rng) {}

  /** A fresh fullUrl, for resources that must be referenced before they are built (cycles). */
  reserve<T extends Resource>(): Reference<T> {
    return { reference: `urn:uuid:${this.rng.uuid()}` };
  }

  /**
   * Adds a resource and returns a reference to it. `ifNoneExist` makes the create conditional,
   * which the shared provider directory uses to avoid duplicates across bundles.
   */
  add<T extends Resource>(resource: T, options: { ref?: Reference<T>; ifNoneExist?: string } = {}): Reference<T> {
    const ref = options.ref ?? this.reserve<T>();
    const fullUrl = ref.reference;
    if (fullUrl === undefined) {
      throw new Error('A reserved reference must carry a fullUrl');
    }
    const request: NonNullable<BundleEntry['request']> = { method: 'POST', url: resource.resourceType };
    if (options.ifNoneExist !== undefined) {
      request.ifNoneExist = options.ifNoneExist;
    }
    this.entries.push({ fullUrl, resource, request });
    return { reference: fullUrl };
  }
}
