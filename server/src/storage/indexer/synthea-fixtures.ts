import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';

/** Test support: the shared Synthea transaction bundles (see the README in that folder). */
import { SYNTHEA_DIR } from '../../test/fixtures';

export { SYNTHEA_DIR };

/**
 * Every resource of every Synthea bundle. With `resolve`, the bundles' `urn:uuid:` references are
 * rewritten to `Type/id` the way a transaction rewrites them before the resources are stored and indexed.
 */
export function loadSyntheaResources(resolve = true): Resource[] {
  const resources: Resource[] = [];
  for (const file of readdirSync(SYNTHEA_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()) {
    const bundle = JSON.parse(readFileSync(join(SYNTHEA_DIR, file), 'utf8')) as Bundle;
    const targets = new Map<string, string>();
    for (const entry of bundle.entry ?? []) {
      if (entry.fullUrl && entry.resource?.id) {
        targets.set(entry.fullUrl, `${entry.resource.resourceType}/${entry.resource.id}`);
      }
    }
    for (const entry of bundle.entry ?? []) {
      if (entry.resource) {
        resources.push(resolve ? (rewriteReferences(entry.resource, targets) as Resource) : entry.resource);
      }
    }
  }
  return resources;
}

function rewriteReferences(value: unknown, targets: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => rewriteReferences(item, targets));
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const target = key === 'reference' && typeof item === 'string' ? targets.get(item) : undefined;
    result[key] = target ?? rewriteReferences(item, targets);
  }
  return result;
}
