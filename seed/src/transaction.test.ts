import { parseSearchRequest } from '@medplum/core';
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import { FhirRouter, MemoryRepository, type FhirRequest } from '@medplum/fhir-router';
import { loadFhirDefinitions } from '../../server/src/fhir/definitions';
import { SYSTEM, generateDirectoryBundle, generatePatientBundle, generatePatientBundles, mrnOf } from './index';

/**
 * Loads generated bundles through @medplum/fhir-router's batch/transaction processing (an
 * independent FHIR implementation, and the one the Hale server builds on): urn:uuid references
 * must be rewritten and conditional creates must deduplicate the provider directory.
 */
async function post(
  router: FhirRouter,
  repo: MemoryRepository,
  bundle: Bundle,
  transactions: boolean
): Promise<Bundle> {
  // fhir-router's type still lists the legacy `pathname`, which its runtime rejects when non-empty.
  const request: FhirRequest = { method: 'POST', url: '/', pathname: '', params: {}, query: {}, body: bundle };
  const [outcome, result] = await router.handleRequest({ ...request, config: { transactions } }, repo);
  expect(outcome.id).toBe('ok');
  const response = result as Bundle;
  expect(response.entry).toHaveLength(bundle.entry?.length ?? 0);
  for (const entry of response.entry ?? []) {
    expect(entry.response?.status).toMatch(/^20[01]/);
  }
  return response;
}

/** Every `reference` string anywhere inside a value. */
function referencesIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    value.forEach((item) => referencesIn(item, found));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'reference' && typeof child === 'string') {
        found.push(child);
      } else {
        referencesIn(child, found);
      }
    }
  }
  return found;
}

beforeAll(() => loadFhirDefinitions());

describe('inline directory (default)', () => {
  const router = new FhirRouter();
  const repo = new MemoryRepository();

  test('every entry succeeds and the directory is created once', async () => {
    const bundles = [
      ...generatePatientBundles({ seed: 1, patients: 8 }),
      generatePatientBundle({ seed: 1, patientIndex: 0 }),
    ];
    for (const bundle of bundles) {
      await post(router, repo, bundle, false);
    }
    const npis = new Set(
      bundles.flatMap((b) => (b.entry ?? []).map((e) => e.request?.ifNoneExist).filter((q) => q !== undefined))
    );
    const organizations = await repo.searchResources(parseSearchRequest('Organization'));
    const practitioners = await repo.searchResources(parseSearchRequest('Practitioner'));
    expect(organizations.length + practitioners.length).toBe(npis.size);
  });

  test('references point at server ids and patients are found by MRN', async () => {
    const search = parseSearchRequest<Patient>(`Patient?identifier=${SYSTEM.mrn}|${mrnOf(1, 3)}`);
    const [patient, ...others] = await repo.searchResources(search);
    expect(others).toHaveLength(0);
    expect(patient?.id).toBeDefined();
    const observations = await repo.searchResources(
      parseSearchRequest<Observation>(`Observation?subject=Patient/${patient?.id}`)
    );
    expect(observations.length).toBeGreaterThan(100);
    for (const observation of observations) {
      expect(observation.subject?.reference).toBe(`Patient/${patient?.id}`);
      expect(observation.encounter?.reference).toMatch(/^Encounter\/[0-9a-f-]{36}$/);
    }
  });
});

describe("'reference' directory, with transactions enforced as the Hale server does", () => {
  const router = new FhirRouter();
  const repo = new MemoryRepository();

  test('the directory batch is idempotent and patient transactions succeed', async () => {
    await post(router, repo, generateDirectoryBundle(), true);
    await post(router, repo, generateDirectoryBundle(), true);
    expect(await repo.searchResources(parseSearchRequest('Organization'))).toHaveLength(5);
    expect(await repo.searchResources(parseSearchRequest('Practitioner'))).toHaveLength(20);
    for (const bundle of generatePatientBundles({ seed: 2, patients: 4, directory: 'reference' })) {
      await post(router, repo, bundle, true);
    }
  });

  test('every conditional reference matches exactly one directory member', async () => {
    const conditional = new Set<string>();
    for (const type of ['Patient', 'Encounter', 'Condition', 'MedicationRequest', 'Appointment'] as const) {
      for (const resource of await repo.searchResources(parseSearchRequest(type))) {
        referencesIn(resource)
          .filter((ref) => ref.includes('?'))
          .forEach((ref) => conditional.add(ref));
      }
    }
    expect(conditional.size).toBeGreaterThan(2);
    for (const ref of conditional) {
      expect(await repo.searchResources(parseSearchRequest(ref))).toHaveLength(1);
    }
  });
});
