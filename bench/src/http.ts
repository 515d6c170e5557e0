/** FHIR over HTTP with the global fetch (undici keeps connections alive), timed with performance.now(). */
import type { Bundle, Resource } from '@medplum/fhirtypes';

export const FHIR_JSON = 'application/fhir+json';

export class FhirHttpError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly body: string
  ) {
    super(`${method} ${url} answered ${status}: ${body.slice(0, 600)}`);
  }
}

export interface Timed<T> {
  readonly ms: number;
  readonly body: T;
}

/** One request; the time covers sending, the server's work and reading the whole body (JSON parsing excluded). */
let authorization: Record<string, string> = {};

/** Every request of the run carries this access token. */
export function useBearerToken(token: string): void {
  authorization = { authorization: `Bearer ${token}` };
}

export async function fhirRequest<T = Resource>(method: 'GET' | 'POST', url: string, body?: string): Promise<Timed<T>> {
  const start = performance.now();
  const response = await fetch(url, {
    method,
    headers:
      body === undefined
        ? { accept: FHIR_JSON, ...authorization }
        : { accept: FHIR_JSON, 'content-type': FHIR_JSON, ...authorization },
    body,
  });
  const text = await response.text();
  const ms = performance.now() - start;
  if (response.status < 200 || response.status > 299) {
    throw new FhirHttpError(method, url, response.status, text);
  }
  return { ms, body: JSON.parse(text) as T };
}

export const getJson = <T = Resource>(url: string): Promise<Timed<T>> => fhirRequest<T>('GET', url);

/** Matches in a searchset (leaves out included resources and OperationOutcome warnings). */
export function matches(bundle: Bundle): Resource[] {
  return (bundle.entry ?? [])
    .filter((e) => e.search?.mode !== 'outcome' && e.search?.mode !== 'include')
    .map((e) => e.resource as Resource);
}

/** Ignored-parameter warnings Hale adds to a searchset: a bench query must not rely on an unsupported parameter. */
export function searchWarnings(bundle: Bundle): string[] {
  return (bundle.entry ?? [])
    .filter((e) => e.search?.mode === 'outcome')
    .flatMap((e) => (e.resource?.resourceType === 'OperationOutcome' ? e.resource.issue : []))
    .map((i) => i.details?.text ?? i.diagnostics ?? i.code);
}

export function nextLink(bundle: Bundle): string | undefined {
  return bundle.link?.find((l) => l.relation === 'next')?.url;
}
