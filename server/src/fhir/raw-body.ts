import type { Resource } from '@medplum/fhirtypes';

const RAW = Symbol('hale.raw-body');

interface Raw {
  [RAW]: { body: string; contentType: string };
}

/**
 * An answer that is not a FHIR resource (what a bot's `$execute` returned), carried through the
 * router as a Binary-shaped value and sent as it is, with its own content type.
 */
export function rawBody(body: string, contentType: string): Resource {
  const value: Raw & { resourceType: 'Binary'; contentType: string } = {
    resourceType: 'Binary',
    contentType,
    [RAW]: { body, contentType },
  };
  return value;
}

export function rawBodyOf(resource: Resource | undefined): { body: string; contentType: string } | undefined {
  return resource ? (resource as unknown as Partial<Raw>)[RAW] : undefined;
}
