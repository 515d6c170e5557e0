/**
 * Ingest through Hale: every patient bundle POSTed as a FHIR transaction to the base URL. The
 * first share of the patients goes one bundle at a time (the latency a single client sees), the
 * rest `concurrency` at a time (throughput on this 2-core machine), into the same database, so
 * the concurrent phase also writes into tables that already hold data. RSS is sampled throughout.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { generatePatientBundle, type DirectoryMode } from '../../seed/src';
import type { Dataset, PatientData } from './dataset';
import type { CpuMeter, CpuShare } from './cpu';
import type { WaitSampler, WaitShare } from './waits';
import { FhirHttpError, fhirRequest } from './http';
import { memoryProfile, RssSampler, type MemoryProfile } from './memory';
import { summarize, type LatencySummary } from './stats';

export interface StoredRef {
  readonly type: string;
  readonly id: string;
}

/** Whether Hale takes the seed's default bundles, which carry the provider directory as conditional creates. */
export interface Probe {
  /** The directory mode the workload has to use. */
  readonly directory: DirectoryMode;
  /** Hale's answer to patient 0's inline bundle, when it accepted it (that patient is then already stored). */
  readonly stored?: Bundle;
  /** The request and Hale's error, when it rejected it. */
  readonly rejection?: string;
}

export interface IngestPhase {
  /** Bundles sent right after start, before the timed phases: JIT compilation, first table growth. */
  readonly warmup: boolean;
  readonly concurrency: number;
  readonly bundles: number;
  readonly resources: number;
  readonly ms: number;
  readonly resourcesPerSecond: number;
  readonly bundleLatency: LatencySummary;
  readonly cpu: CpuShare;
  readonly waits: WaitShare[];
}

export interface IngestResult {
  readonly phases: IngestPhase[];
  /** Server id of each patient, by patient index. */
  readonly patientIds: string[];
  /** Every resource the transactions created (201), for random reads. */
  readonly created: StoredRef[];
  /** Entries answered 200: conditional creates that found the directory entry already stored. */
  readonly matchedExisting: number;
  readonly memory: MemoryProfile;
}

// `Type/id`, absolute or relative, with or without `/_history/n`.
const LOCATION = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[^/]+)?$/;

/**
 * POSTs patient 0's default ('inline') bundle. A rejection (before anything is written) means
 * the workload switches to the seed's 'reference' mode; the error goes into the report.
 */
export async function probeInlineTransactions(fhirBase: string, seed: number): Promise<Probe> {
  const json = JSON.stringify(generatePatientBundle({ seed, patientIndex: 0 }));
  try {
    const { body } = await fhirRequest<Bundle>('POST', fhirBase, json);
    return { directory: 'inline', stored: body };
  } catch (err) {
    if (!(err instanceof FhirHttpError) || err.status !== 400) {
      throw err;
    }
    return { directory: 'reference', rejection: `${err.message.replace(/\s+/g, ' ')}` };
  }
}

function entryRef(status: string, location: string | undefined, what: string): StoredRef {
  const m = LOCATION.exec(location ?? '');
  if (!/^20[01]/.test(status) || !m?.[1] || !m[2]) {
    throw new Error(`${what} answered ${status} at ${location}`);
  }
  return { type: m[1], id: m[2] };
}

async function loadDirectory(fhirBase: string, json: string): Promise<void> {
  const { body } = await fhirRequest<Bundle>('POST', fhirBase, json);
  (body.entry ?? []).forEach((e, i) =>
    entryRef(e.response?.status ?? '', e.response?.location, `Directory entry ${i}`)
  );
}

class Progress {
  readonly patientIds: string[] = [];
  readonly created: StoredRef[] = [];
  matchedExisting = 0;
  done = 0;

  constructor(
    private readonly total: number,
    private readonly log: (line: string) => void
  ) {}

  record(patient: PatientData, response: Bundle): void {
    const entries = response.entry ?? [];
    if (response.type !== 'transaction-response' || entries.length !== patient.entries) {
      throw new Error(
        `Patient ${patient.index}: expected a transaction-response with ${patient.entries} entries, got ${response.type} with ${entries.length}`
      );
    }
    for (const [i, entry] of entries.entries()) {
      const status = entry.response?.status ?? '';
      const ref = entryRef(status, entry.response?.location, `Patient ${patient.index}, entry ${i}`);
      if (status.startsWith('200')) {
        this.matchedExisting++;
        continue;
      }
      this.created.push(ref);
      if (ref.type === 'Patient') {
        this.patientIds[patient.index] = ref.id;
      }
    }
    if (!this.patientIds[patient.index]) {
      throw new Error(`Patient ${patient.index}: no Patient was created`);
    }
    this.done++;
    if (this.done % Math.max(1, Math.round(this.total / 10)) === 0) {
      this.log(`  ingested ${this.done}/${this.total} bundles`);
    }
  }
}

async function runPhase(
  fhirBase: string,
  patients: readonly PatientData[],
  concurrency: number,
  progress: Progress,
  observers: { meter: CpuMeter; waits: WaitSampler },
  warmup = false
): Promise<IngestPhase> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < patients.length) {
      const patient = patients[next++] as PatientData;
      const { ms, body } = await fhirRequest<Bundle>('POST', fhirBase, patient.json);
      latencies.push(ms);
      progress.record(patient, body);
    }
  };
  await observers.meter.start();
  await observers.waits.start();
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  const ms = performance.now() - start;
  const waits = await observers.waits.stop();
  const cpu = await observers.meter.stop();
  const resources = patients.reduce((n, p) => n + p.entries, 0);
  return {
    warmup,
    concurrency,
    bundles: patients.length,
    resources,
    ms,
    resourcesPerSecond: (resources / ms) * 1000,
    bundleLatency: summarize(latencies),
    cpu,
    waits,
  };
}

export async function ingest(
  fhirBase: string,
  serverPid: number,
  data: Dataset,
  probe: Probe,
  options: {
    serialShare: number;
    concurrency: number;
    /** Bundles sent one at a time before the timed phases (reported, not judged). */
    warmupBundles: number;
    meter: CpuMeter;
    waits: WaitSampler;
    log: (line: string) => void;
  }
): Promise<IngestResult> {
  const progress = new Progress(data.patients.length, options.log);
  let patients = data.patients;
  const [first] = patients;
  if (probe.stored && first) {
    progress.record(first, probe.stored); // the probe already stored patient 0
    patients = patients.slice(1);
  }
  if (data.directoryJson) {
    await loadDirectory(fhirBase, data.directoryJson);
  }
  const before = progress.done;
  const sampler = new RssSampler(serverPid, () => progress.done).begin();
  const phases: IngestPhase[] = [];
  let concurrentFrom = before;
  try {
    const warm = Math.min(options.warmupBundles, patients.length - 2);
    if (warm > 0) {
      phases.push(await runPhase(fhirBase, patients.slice(0, warm), 1, progress, options, true));
      patients = patients.slice(warm);
    }
    const serialCount = Math.max(1, Math.round(patients.length * options.serialShare));
    phases.push(await runPhase(fhirBase, patients.slice(0, serialCount), 1, progress, options));
    concurrentFrom = progress.done;
    phases.push(await runPhase(fhirBase, patients.slice(serialCount), options.concurrency, progress, options));
  } finally {
    sampler.end();
  }
  return {
    phases,
    patientIds: progress.patientIds,
    created: progress.created,
    matchedExisting: progress.matchedExisting,
    memory: memoryProfile(sampler.samples, before, concurrentFrom, progress.done),
  };
}
