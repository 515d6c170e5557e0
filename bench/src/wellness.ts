/**
 * The wellness phase: Observation/$stats over a year of one code for one patient (365 × 24 hourly heart rates), as
 * a whole and per month, and Observation/$lastn for 20 codes (20 × 30 daily readings), p50 of sequential requests.
 * Then Patient/$summary (the dashboard: its vitals part is a $lastn over every vital code of the year's data).
 * Targets (issue 16): $stats ≤ 15 ms, $lastn for 20 codes ≤ 10 ms, $summary ≤ 20 ms. `npm run bench` runs it on the bench's
 * database after the other phases (main.ts); alone, on a fresh database on BENCH_PG_URL:
 *
 *   npm exec -w bench -- tsx src/wellness.ts
 */
import type { Bundle, Observation, Parameters } from '@medplum/fhirtypes';
import { fhirRequest, getJson, useBearerToken } from './http';
import type { CheckedLatency } from './measure';
import { measure } from './measure';
import { createDatabase, databaseUrl, dropDatabase } from './postgres';
import { startHale } from './server-process';
import type { WellnessFloor } from './wellness-floor';
import { wellnessFloor } from './wellness-floor';
import type { ProviderWellnessResult } from './wellness-provider';
import { providerWellness } from './wellness-provider';

export interface WellnessResult {
  readonly readings: number;
  readonly loadMs: number;
  readonly statsYear: CheckedLatency;
  readonly statsYearByMonth: CheckedLatency;
  readonly lastn20: CheckedLatency;
  readonly summary: CheckedLatency;
  /** GET Patient/{id}: the per-request cost every figure above includes. */
  readonly read: CheckedLatency;
  /** The same $stats and $lastn as a provider with a one-month vitals Consent (when the database URL is known). */
  readonly provider?: ProviderWellnessResult;
  /** The same two questions in raw PostgreSQL (wellness-floor.ts), when the database URL is known. */
  readonly floor?: WellnessFloor;
}

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const HOURS = 365 * 24;
const BUNDLE = 500;
/** Vital-sign and lab codes for $lastn: heart rate first (it has the year of readings), then 19 others. */
const CODES = [
  '8867-4', '8480-6', '8462-4', '9279-1', '59408-5', '8310-5', '29463-7', '8302-2', '39156-5', '8280-0',
  '40443-4', '80404-7', '2339-0', '93832-4', '55423-8', '41981-2', '2093-3', '2085-9', '13457-7', '4548-4',
]; // prettier-ignore
const REQUESTS = 100;
const WARM_UP = 10;

function reading(patient: string, code: string, at: Date, value: number): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
    ],
    code: { coding: [{ system: LOINC, code }] },
    subject: { reference: `Patient/${patient}` },
    effectiveDateTime: at.toISOString(),
    valueQuantity: { value, unit: '1', system: UCUM, code: '1' },
  };
}

async function load(fhirBase: string, patient: string): Promise<Observation[]> {
  const all: Observation[] = [];
  const start = Date.UTC(2025, 0, 1);
  for (let h = 0; h < HOURS; h++) {
    all.push(reading(patient, '8867-4', new Date(start + h * 3_600_000), 55 + ((h * 7) % 40)));
  }
  for (const code of CODES.slice(1)) {
    for (let d = 0; d < 30; d++) {
      all.push(reading(patient, code, new Date(Date.UTC(2025, 11, 1 + d, 8)), 100 + d));
    }
  }
  for (let i = 0; i < all.length; i += BUNDLE) {
    const entry = all
      .slice(i, i + BUNDLE)
      .map((resource) => ({ resource, request: { method: 'POST', url: 'Observation' } }));
    await fhirRequest('POST', fhirBase, JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }));
  }
  return all;
}

const countOf = (body: Parameters): number | undefined =>
  body.parameter?.[0]?.part?.find((p) => p.name === 'count')?.valueInteger;

export async function wellnessPhase(input: {
  fhirBase: string;
  log: (line: string) => void;
  /** Hale's database, for the provider's account (wellness-provider.ts); without it that half is skipped. */
  databaseUrl?: string;
}): Promise<WellnessResult> {
  const { fhirBase, log } = input;
  const started = performance.now();
  const patient = (await fhirRequest<{ id: string }>('POST', `${fhirBase}/Patient`, '{"resourceType":"Patient"}')).body
    .id;
  const loaded = await load(fhirBase, patient);
  const readings = loaded.length;
  const loadMs = performance.now() - started;
  log(`Wellness: ${readings} Observations of one patient in ${(loadMs / 1000).toFixed(1)} s`);
  const items = Array.from({ length: REQUESTS + WARM_UP }, (_, i) => i);
  const statsUrl = (p: string): string =>
    `${fhirBase}/Observation/$stats?patient=${p}&code=${LOINC}|8867-4&start=2025-01-01&end=2025-12-31`;
  const year = statsUrl(patient);
  const statsYear = await measure(items, WARM_UP, async () => {
    const { ms, body } = await getJson<Parameters>(year);
    return { ms, problem: countOf(body) === HOURS ? undefined : `$stats counted ${countOf(body)}, not ${HOURS}` };
  });
  const statsYearByMonth = await measure(items, WARM_UP, async () => {
    const { ms, body } = await getJson<Parameters>(`${year}&interval=month`);
    const months = body.parameter?.length ?? 0;
    return { ms, problem: months === 12 ? undefined : `$stats per month gave ${months} series` };
  });
  const codes = CODES.map((c) => `${LOINC}|${c}`).join(',');
  const lastnUrl = (p: string): string => `${fhirBase}/Observation/$lastn?patient=${p}&code=${codes}`;
  const lastn20 = await measure(items, WARM_UP, async () => {
    const { ms, body } = await getJson<Bundle>(lastnUrl(patient));
    const n = body.entry?.length ?? 0;
    return { ms, problem: n === CODES.length ? undefined : `$lastn returned ${n} Observations` };
  });
  const summary = await measure(items, WARM_UP, async () => {
    const { ms, body } = await getJson<Parameters>(`${fhirBase}/Patient/${patient}/$summary`);
    const vitals = body.parameter?.find((p) => p.name === 'vitals')?.resource as Bundle | undefined;
    const n = vitals?.entry?.length ?? 0;
    return { ms, problem: n === CODES.length ? undefined : `$summary gave ${n} latest vitals` };
  });
  // What any request costs here (token, routing, audit, JSON): the part of each figure no index can remove.
  const read = await measure(items, WARM_UP, async () => {
    const { ms, body } = await getJson<{ id?: string }>(`${fhirBase}/Patient/${patient}`);
    return { ms, problem: body.id === patient ? undefined : 'Patient read' };
  });
  const line = (name: string, r: CheckedLatency, target: string): string =>
    `  ${name}: p50 ${r.latency.p50.toFixed(2)} ms, p99 ${r.latency.p99.toFixed(2)} ms (target ${target})` +
    (r.errors ? `, ${r.errors} wrong: ${r.errorExamples.join('; ')}` : '');
  log(line('$stats, a year of one code', statsYear, 'p50 ≤ 15 ms'));
  log(line('$stats, a year of one code per month', statsYearByMonth, 'p50 ≤ 15 ms'));
  log(line('$lastn, 20 codes', lastn20, 'p50 ≤ 10 ms'));
  log(line('Patient/$summary', summary, 'p50 ≤ 20 ms'));
  log(line('a Patient read, for comparison', read, 'none'));
  const provider = input.databaseUrl
    ? await providerWellness({
        fhirBase,
        databaseUrl: input.databaseUrl,
        patient,
        statsUrl,
        lastnUrl,
        items,
        warmUp: WARM_UP,
      })
    : undefined;
  const floor = input.databaseUrl ? await wellnessFloor(input.databaseUrl, loaded, CODES, items, WARM_UP) : undefined;
  if (floor) {
    const ratio = (hale: CheckedLatency, raw: CheckedLatency): string =>
      `${(hale.latency.p50 / raw.latency.p50).toFixed(1)}×`;
    log(
      `  raw-pg floor (same run): $stats p50 ${floor.stats.latency.p50.toFixed(2)} ms (Hale ${ratio(statsYear, floor.stats)}), ` +
        `$lastn p50 ${floor.lastn.latency.p50.toFixed(2)} ms (Hale ${ratio(lastn20, floor.lastn)})`
    );
  }
  if (provider) {
    log(line('$stats, a year of one code, as a provider sharing December', provider.statsYear, 'p50 ≤ 15 ms'));
    log(line('$lastn, 20 codes, as that provider', provider.lastn20, 'p50 ≤ 10 ms'));
  }
  return { readings, loadMs, statsYear, statsYearByMonth, lastn20, summary, read, provider, floor };
}

/** Alone: a fresh database and Hale, the phase, and both removed again. */
async function standalone(): Promise<void> {
  const pgUrl = (process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
  const name = `hale_bench_wellness_${process.pid}`;
  await createDatabase(pgUrl, name);
  try {
    const url = databaseUrl(pgUrl, name);
    const hale = await startHale(url);
    try {
      useBearerToken(hale.token);
      await wellnessPhase({ fhirBase: hale.fhirBase, databaseUrl: url, log: (l) => process.stderr.write(`${l}\n`) });
    } finally {
      await hale.stop();
    }
  } finally {
    await dropDatabase(pgUrl, name);
  }
}

if (require.main === module) {
  standalone().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
