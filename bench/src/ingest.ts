/**
 * Ingest through Hale: every patient bundle POSTed as a FHIR transaction to the base URL. The
 * first share of the patients goes one bundle at a time (the latency a single client sees), the
 * rest `concurrency` at a time (throughput on this 2-core machine), into the same database, so
 * the concurrent phase also writes into tables that already hold data. RSS is sampled throughout.
 */
import type { Bundle } from '@medplum/fhirtypes';
import type { PatientData } from './dataset';
import { createDirectory, directoryOf, withoutDirectory } from './directory';
import { FhirHttpError, fhirRequest } from './http';
import { memoryProfile, RssSampler, type MemoryProfile } from './memory';
import { summarize, type LatencySummary } from './stats';

export interface StoredRef {
  readonly type: string;
  readonly id: string;
}

/** A bundle as it will be sent: the generated one, or its rewrite when Hale rejected that. */
export interface IngestItem {
  readonly patient: PatientData;
  readonly json: string;
  readonly entries: number;
}

export interface IngestPhase {
  readonly concurrency: number;
  readonly bundles: number;
  /** Bundle entries sent (conditional creates of the shared directory included). */
  readonly resources: number;
  readonly ms: number;
  readonly resourcesPerSecond: number;
  readonly bundleLatency: LatencySummary;
}

export interface IngestResult {
  /** Whether the first generated bundle, sent untouched, was accepted (else the error, and the workaround was used). */
  readonly asGenerated: { readonly accepted: true } | { readonly accepted: false; readonly error: string };
  readonly directoryResources: number;
  readonly phases: IngestPhase[];
  /** Server id of each patient, by patient index. */
  readonly patientIds: string[];
  /** Every resource the transactions created (201), for random reads. */
  readonly created: StoredRef[];
  /** Entries answered 200 (a conditional create that found the directory entry already stored). */
  readonly matchedExisting: number;
  readonly memory: MemoryProfile;
}

// `Type/id`, absolute or relative, with or without `/_history/n`.
const LOCATION = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[^/]+)?$/;

function readResponse(
  item: IngestItem,
  response: Bundle,
  created: StoredRef[]
): { patientId: string; existing: number } {
  const { patient } = item;
  const entries = response.entry ?? [];
  if (response.type !== 'transaction-response' || entries.length !== item.entries) {
    throw new Error(
      `Patient ${patient.index}: expected a transaction-response with ${item.entries} entries, got ${response.type} with ${entries.length}`
    );
  }
  let patientId: string | undefined;
  let existing = 0;
  for (const [i, entry] of entries.entries()) {
    const status = entry.response?.status ?? '';
    const m = LOCATION.exec(entry.response?.location ?? '');
    if (!/^20[01]/.test(status) || !m?.[1] || !m[2]) {
      throw new Error(`Patient ${patient.index}: entry ${i} answered ${status} at ${entry.response?.location}`);
    }
    if (status.startsWith('200')) {
      existing++;
      continue;
    }
    created.push({ type: m[1], id: m[2] });
    if (m[1] === 'Patient') {
      patientId = m[2];
    }
  }
  if (!patientId) {
    throw new Error(`Patient ${patient.index}: no Patient was created`);
  }
  return { patientId, existing };
}

async function runPhase(
  fhirBase: string,
  items: readonly IngestItem[],
  concurrency: number,
  onBundle: (item: IngestItem, response: Bundle) => void
): Promise<IngestPhase> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as IngestItem;
      const { ms, body } = await fhirRequest<Bundle>('POST', fhirBase, item.json);
      latencies.push(ms);
      onBundle(item, body);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  const ms = performance.now() - start;
  const resources = items.reduce((n, p) => n + p.entries, 0);
  return {
    concurrency,
    bundles: items.length,
    resources,
    ms,
    resourcesPerSecond: (resources / ms) * 1000,
    bundleLatency: summarize(latencies),
  };
}

/**
 * Sends the first generated bundle untouched. If Hale accepts it, every bundle goes as generated
 * (the first one, already stored, is left out of the timed phases). If Hale rejects it, the
 * error is kept for the report and all bundles go through the directory workaround instead.
 */
async function prepare(
  fhirBase: string,
  patients: readonly PatientData[],
  onBundle: (item: IngestItem, response: Bundle) => void,
  log: (line: string) => void
): Promise<{ items: IngestItem[]; asGenerated: IngestResult['asGenerated']; directoryResources: number }> {
  const [first] = patients;
  if (!first) {
    throw new Error('No patients to ingest');
  }
  const firstItem: IngestItem = { patient: first, json: first.json, entries: first.entries };
  try {
    const { body } = await fhirRequest<Bundle>('POST', fhirBase, first.json);
    onBundle(firstItem, body);
    const rest = patients.slice(1).map((p) => ({ patient: p, json: p.json, entries: p.entries }));
    return { items: rest, asGenerated: { accepted: true }, directoryResources: 0 };
  } catch (err) {
    if (!(err instanceof FhirHttpError) || err.status !== 400) {
      throw err;
    }
    const error = `POST ${err.url} (transaction, ${first.entries} entries) answered ${err.status}: ${err.body}`;
    log(`  Hale rejected the generated transaction: ${err.body}`);
    log('  using the workaround: directory created first, bundles refer to it by conditional reference');
    const directory = directoryOf(patients);
    await createDirectory(fhirBase, directory);
    const items = patients.map((patient) => ({ patient, ...withoutDirectory(patient) }));
    return { items, asGenerated: { accepted: false, error }, directoryResources: directory.length };
  }
}

export async function ingest(
  fhirBase: string,
  serverPid: number,
  patients: readonly PatientData[],
  options: { serialShare: number; concurrency: number; log: (line: string) => void }
): Promise<IngestResult> {
  const patientIds: string[] = [];
  const created: StoredRef[] = [];
  let matchedExisting = 0;
  let done = 0;
  const onBundle = (item: IngestItem, response: Bundle): void => {
    const { patientId, existing } = readResponse(item, response, created);
    patientIds[item.patient.index] = patientId;
    matchedExisting += existing;
    done++;
    if (done % Math.max(1, Math.round(patients.length / 10)) === 0) {
      options.log(`  ingested ${done}/${patients.length} bundles`);
    }
  };
  const { items, asGenerated, directoryResources } = await prepare(fhirBase, patients, onBundle, options.log);
  const serialCount = Math.max(1, Math.round(items.length * options.serialShare));
  const before = done;
  const sampler = new RssSampler(serverPid, () => done).begin();
  let phases: IngestPhase[];
  try {
    const serial = await runPhase(fhirBase, items.slice(0, serialCount), 1, onBundle);
    const concurrent = await runPhase(fhirBase, items.slice(serialCount), options.concurrency, onBundle);
    phases = [serial, concurrent];
  } finally {
    sampler.end();
  }
  return {
    asGenerated,
    directoryResources,
    phases,
    patientIds,
    created,
    matchedExisting,
    memory: memoryProfile(sampler.samples, before, before + serialCount, done),
  };
}
