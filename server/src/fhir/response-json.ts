import type { BundleEntry, Resource } from '@medplum/fhirtypes';
import { storedJson } from '../storage/stored-json';

/**
 * The JSON text of a response body. Resources written by this request are spliced in as the text
 * they were stored as (storage/stored-json.ts) instead of being serialized again; everything else
 * goes through JSON.stringify. Pretty output (`_pretty=true`) always re-serializes.
 */
export function responseJson(body: Resource, pretty: boolean): string {
  if (pretty) {
    return JSON.stringify(body, null, 2);
  }
  const own = storedJson(body);
  if (own !== undefined) {
    return own;
  }
  if (body.resourceType !== 'Bundle' || !body.entry?.some((e) => e.resource && storedJson(e.resource))) {
    return JSON.stringify(body);
  }
  const { entry, ...head } = body;
  const headJson = JSON.stringify(head);
  return `${headJson.slice(0, -1)},"entry":[${(entry ?? []).map(entryJson).join(',')}]}`;
}

function entryJson(entry: BundleEntry): string {
  const text = entry.resource ? storedJson(entry.resource) : undefined;
  if (text === undefined) {
    return JSON.stringify(entry);
  }
  const { resource: _resource, ...rest } = entry;
  const restJson = JSON.stringify(rest);
  return restJson === '{}' ? `{"resource":${text}}` : `${restJson.slice(0, -1)},"resource":${text}}`;
}
