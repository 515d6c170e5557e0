import { parseSearchRequest } from '@medplum/core';
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import { FhirRouter, MemoryRepository, type FhirRequest } from '@medplum/fhir-router';
import { loadFhirDefinitions } from '../../server/src/fhir/definitions';
import { SYSTEM, generatePatientBundle, generatePatientBundles, mrnOf } from './index';

/**
 * Loads generated bundles through @medplum/fhir-router's transaction processing (an independent
 * FHIR implementation): urn:uuid references must be rewritten and the conditional creates must
 * deduplicate the provider directory across bundles.
 */
describe('generated transactions in a FHIR transaction engine', () => {
  const router = new FhirRouter();
  const repo = new MemoryRepository();

  async function post(bundle: Bundle): Promise<Bundle> {
    // fhir-router's type still lists the legacy `pathname`, which its runtime rejects when non-empty.
    const request: FhirRequest = { method: 'POST', url: '/', pathname: '', params: {}, query: {}, body: bundle };
    const [outcome, result] = await router.handleRequest(request, repo);
    expect(outcome.id).toBe('ok');
    return result as Bundle;
  }

  beforeAll(() => loadFhirDefinitions());

  test('every entry succeeds and the directory is created once', async () => {
    const bundles = [
      ...generatePatientBundles({ seed: 1, patients: 8 }),
      generatePatientBundle({ seed: 1, patientIndex: 0 }),
    ];
    for (const bundle of bundles) {
      const response = await post(bundle);
      expect(response.entry).toHaveLength(bundle.entry?.length ?? 0);
      for (const entry of response.entry ?? []) {
        expect(entry.response?.status).toMatch(/^20[01]/);
      }
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
