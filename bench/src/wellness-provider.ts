/**
 * The wellness phase's Consent-filtered half: the same $stats and $lastn as a provider whom the patient shares
 * vitals with for December 2025 only (a Consent in Hale's profile shape), so every reading of the series passes
 * the caller's access filter (storage/access.ts, ReadHint.row 'series') rather than none. The answers are checked
 * against the system token's answers over that month.
 */
import type { Bundle, Consent, Parameters } from '@medplum/fhirtypes';
import { insertAccounts, mintUserToken } from './consent-load';
import { FHIR_JSON, fhirRequest, getJson } from './http';
import type { CheckedLatency } from './measure';
import { measure } from './measure';

export interface ProviderWellnessResult {
  readonly statsYear: CheckedLatency;
  readonly lastn20: CheckedLatency;
}

const WINDOW = { start: '2025-12-01', end: '2025-12-31' };

/** A Hale sharing Consent of the vitals category to the Practitioner, for `dataPeriod` when given (the fault suite's too). */
export function vitalsConsent(
  patient: string,
  practitioner: string,
  dataPeriod?: { start: string; end: string }
): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patient}` },
    dateTime: '2025-12-01T00:00:00Z',
    policy: [{ uri: 'https://hale.health/fhir/policy/patient-directed-sharing' }],
    provision: {
      type: 'permit',
      period: { start: '2020-01-01' },
      actor: [
        {
          role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
          reference: { reference: `Practitioner/${practitioner}` },
        },
      ],
      action: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code: 'access' }] }],
      class: [{ system: 'https://hale.health/fhir/CodeSystem/data-category', code: 'vitals' }],
      ...(dataPeriod ? { dataPeriod } : {}),
    },
  };
}

async function getAs<T>(token: string, url: string): Promise<{ ms: number; body: T; status: number }> {
  const start = performance.now();
  const response = await fetch(url, { headers: { accept: FHIR_JSON, authorization: `Bearer ${token}` } });
  const body = (await response.json()) as T;
  return { ms: performance.now() - start, body, status: response.status };
}

const countOf = (body: Parameters): number | undefined =>
  body.parameter?.[0]?.part?.find((p) => p.name === 'count')?.valueInteger;

export async function providerWellness(input: {
  fhirBase: string;
  databaseUrl: string;
  patient: string;
  statsUrl: (patient: string) => string;
  lastnUrl: (patient: string) => string;
  items: number[];
  warmUp: number;
}): Promise<ProviderWellnessResult> {
  const { fhirBase, patient, items, warmUp } = input;
  const practitioner = (
    await fhirRequest<{ id: string }>('POST', `${fhirBase}/Practitioner`, '{"resourceType":"Practitioner"}')
  ).body.id;
  await fhirRequest('POST', `${fhirBase}/Consent`, JSON.stringify(vitalsConsent(patient, practitioner, WINDOW)));
  const [email] = await insertAccounts(input.databaseUrl, [practitioner]);
  const token = await mintUserToken(input.databaseUrl, fhirBase, email as string);
  const month = input.statsUrl(patient).replace(/start=[^&]*&end=[^&]*/, `start=${WINDOW.start}&end=${WINDOW.end}`);
  const expected = countOf((await getJson<Parameters>(month)).body);
  const statsYear = await measure(items, warmUp, async () => {
    const { ms, body, status } = await getAs<Parameters>(token, input.statsUrl(patient));
    const n = countOf(body);
    return {
      ms,
      problem: status === 200 && n === expected ? undefined : `$stats as provider: ${status}, ${n} not ${expected}`,
    };
  });
  const lastn20 = await measure(items, warmUp, async () => {
    const { ms, body, status } = await getAs<Bundle>(token, input.lastnUrl(patient));
    const n = body.entry?.length ?? 0;
    return { ms, problem: status === 200 && n === 20 ? undefined : `$lastn as provider: ${status}, ${n} Observations` };
  });
  return { statsYear, lastn20 };
}
