import { readFileSync, readdirSync } from 'node:fs';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { SYNTHEA_DIR } from '../../test/fixtures';

/** Every resource of the Synthea fixture bundles (3,409, all valid), in file order. */
export function syntheaResources(): Resource[] {
  return readdirSync(SYNTHEA_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => (JSON.parse(readFileSync(`${SYNTHEA_DIR}/${f}`, 'utf8')) as Bundle).entry ?? [])
    .map((entry) => entry.resource as Resource);
}

/** Best of a few rounds: a single pass mostly measures JIT warm-up and whatever else the machine is doing. */
export function bestMicrosPerItem<T>(items: readonly T[], fn: (item: T) => unknown, rounds = 7): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    for (const item of items) {
      fn(item);
    }
    best = Math.min(best, ((performance.now() - start) * 1000) / items.length);
  }
  return best;
}

/**
 * Resources that nest others, built from the fixtures (all valid): a small transaction Bundle and a collection
 * Bundle per fixture file, and Parameters carrying resources in parameters and parts.
 */
export function syntheaContainers(): Resource[] {
  return readdirSync(SYNTHEA_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => {
      const bundle = JSON.parse(readFileSync(`${SYNTHEA_DIR}/${f}`, 'utf8')) as Bundle;
      const entries = (bundle.entry ?? []).slice(0, 6);
      const collection = entries.map(({ fullUrl, resource }) => ({ fullUrl, resource }));
      const [first, second] = entries.map((entry) => entry.resource as Resource);
      const parameters: Resource = {
        resourceType: 'Parameters',
        parameter: [
          { name: 'resource', resource: first },
          { name: 'count', valueInteger: entries.length },
          { name: 'nested', part: [{ name: 'resource', resource: second }] },
        ],
      };
      return [
        { ...bundle, entry: entries },
        { resourceType: 'Bundle', type: 'collection', entry: collection },
        parameters,
      ];
    });
}
