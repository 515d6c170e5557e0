/**
 * Many requests in one round trip: a bot that handles a batch of events reads and writes through FHIR batch and
 * transaction Bundles instead of a request per event (each request to the server is a token check, an audit
 * record and a loopback HTTP exchange).
 */
import type { MedplumClient } from '@medplum/core';
import type { Bundle, BundleEntry, Resource, ResourceType } from '@medplum/fhirtypes';

export interface Search {
  readonly resourceType: ResourceType;
  readonly query: readonly (readonly [string, string])[];
}

/** Largest list of values put in one search parameter (a subject list, an identifier list). */
export const VALUES_PER_SEARCH = 50;

export function chunks<T>(items: readonly T[], size = VALUES_PER_SEARCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

function failure(entry: BundleEntry | undefined, what: string): Error {
  const outcome = entry?.response?.outcome;
  const text = outcome?.issue?.map((i) => i.details?.text ?? i.diagnostics ?? i.code).join('; ');
  return new Error(`${what} failed (${entry?.response?.status ?? 'no answer'})${text ? `: ${text}` : ''}`);
}

const isOk = (entry: BundleEntry | undefined): boolean => /^2\d\d/.test(entry?.response?.status ?? '');

/**
 * Runs the searches in one batch request and returns every match of each, in order (following a search's
 * `next` links when it has more than a page). Throws when any search fails, so the run is retried whole.
 */
export async function searchBatch(medplum: MedplumClient, searches: readonly Search[]): Promise<Resource[][]> {
  if (searches.length === 0) {
    return [];
  }
  const request: Bundle = {
    resourceType: 'Bundle',
    type: 'batch',
    entry: searches.map((s) => ({
      request: {
        method: 'GET',
        url: `${s.resourceType}?${new URLSearchParams(s.query.map(([k, v]): [string, string] => [k, v]))}`,
      },
    })),
  };
  const response = await medplum.executeBatch(request);
  const results: Resource[][] = [];
  for (const [i, search] of searches.entries()) {
    const entry = response.entry?.[i];
    if (!isOk(entry) || entry?.resource?.resourceType !== 'Bundle') {
      throw failure(entry, `searching ${search.resourceType}`);
    }
    let page = entry.resource;
    const found: Resource[] = [];
    for (;;) {
      found.push(...(page.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])));
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      if (!next) {
        break;
      }
      page = await medplum.get<Bundle>(next);
    }
    results.push(found);
  }
  return results;
}

/** What a conditional create in a transaction ended as: the stored resource's `Type/id`, and whether it is new. */
export interface Written {
  readonly reference: string;
  readonly created: boolean;
}

/**
 * Creates the resources in one transaction, each unless a resource matching its `ifNoneExist` query exists (then
 * that one is the answer, and what other entries' references to its fullUrl become): all or nothing, so a failed
 * run writes none of them and its retry writes them once.
 */
export async function createAllOnce(
  medplum: MedplumClient,
  items: readonly { resource: Resource; ifNoneExist: string; fullUrl?: string }[]
): Promise<Written[]> {
  if (items.length === 0) {
    return [];
  }
  const response = await medplum.executeBatch(
    {
      resourceType: 'Bundle',
      type: 'transaction',
      // A fullUrl (urn:uuid) lets other entries point to the resource; it becomes the stored reference.
      entry: items.map(({ resource, ifNoneExist, fullUrl }) => ({
        ...(fullUrl ? { fullUrl } : {}),
        resource,
        request: { method: 'POST', url: resource.resourceType, ifNoneExist },
      })),
    },
    // Only each entry's location and status are read: the stored resources would be sent back for nothing.
    { headers: { Prefer: 'return=minimal' } }
  );
  return items.map(({ resource }, i) => {
    const entry = response.entry?.[i];
    const location = entry?.response?.location ?? '';
    const fromLocation = /^(?:.*\/)?([A-Z][A-Za-z]+\/[^/]+)(?:\/_history\/[^/]+)?$/.exec(location)?.[1];
    const stored = entry?.resource;
    const reference = fromLocation ?? (stored?.id ? `${stored.resourceType}/${stored.id}` : undefined);
    if (!isOk(entry) || !reference) {
      throw failure(entry, `creating ${resource.resourceType}`);
    }
    return { reference, created: entry?.response?.status?.startsWith('201') ?? false };
  });
}
