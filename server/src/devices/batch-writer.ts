import type { OperationOutcomeError } from '@medplum/core';
import type { FhirRequest, FhirRouter } from '@medplum/fhir-router';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { bundleHandler } from '../fhir/bundle/process';
import { EntryError } from '../fhir/bundle/entries';
import { outcomeStatus } from '../fhir/http';
import type { HaleRepository } from '../storage/repository';
import type { Reading, SourceDevice } from './readings';
import type { ImportSummary } from './summary';
import {
  DEVICE_IDENTIFIER,
  READING_IDENTIFIER,
  deviceKey,
  deviceIdentifier,
  deviceResource,
  observationOf,
  problemOf,
  readingIdentifier,
} from './to-fhir';

interface Pending {
  reading: Reading;
  identifier: string;
}

interface WriterOptions {
  repo: HaleRepository;
  /**
   * Writes the Device resources. R4's patient compartment has no Device, so a patient app may neither write nor
   * read one: they are written with system access, once the caller's right to write to the patient is checked.
   */
  deviceRepo: HaleRepository;
  router: FhirRouter;
  patientId: string;
  /** Readings per transaction Bundle. */
  batchSize: number;
  maxEntries: number;
}

/**
 * Writes readings as transaction Bundles through the FHIR batch/transaction handler — the same path a client's
 * Bundle takes, so validation, profiles, unit conversion, access checks, the audit trail and the measurement
 * series index all apply. Each Observation and each new Device is a conditional create on its deterministic
 * identifier: the handler looks them up in one query and takes an advisory lock per identifier (in key order),
 * so a re-import finds what is stored and two imports of the same file at once cannot both create a reading.
 *
 * A Bundle is all or nothing; an entry the server refuses (a value its profile does not allow) is taken out,
 * reported as rejected with its line, and the rest written again.
 */
export class BatchWriter {
  private pending: Pending[] = [];
  private readonly inBatch = new Set<string>();
  /** Device key → `Device/id`, once a committed Bundle has created or found it. */
  private readonly devices = new Map<string, string>();

  constructor(
    private readonly options: WriterOptions,
    readonly summary: ImportSummary
  ) {}

  async add(reading: Reading): Promise<void> {
    const problem = problemOf(reading);
    if (problem) {
      this.summary.reject(reading.line, problem);
      return;
    }
    const identifier = readingIdentifier(this.options.patientId, reading);
    if (this.inBatch.has(identifier)) {
      this.summary.count(this.summary.skipped, `a second ${reading.key} reading of the same device and time`);
      return;
    }
    this.inBatch.add(identifier);
    this.pending.push({ reading, identifier });
    if (this.pending.length >= this.options.batchSize) {
      await this.flush();
    }
  }

  async flush(): Promise<void> {
    let batch = this.pending;
    this.pending = [];
    this.inBatch.clear();
    await this.resolveDevices(batch);
    while (batch.length > 0) {
      const { patientId } = this.options;
      const entries = batch.map(({ reading, identifier }) => {
        const device = this.devices.get(deviceKey(reading.device)) as string;
        return conditionalCreate(observationOf(patientId, reading, device), READING_IDENTIFIER, identifier);
      });
      try {
        const answer = await this.run(this.options.repo, entries);
        batch.forEach(({ reading }, i) => {
          const created = answer.entry?.[i]?.response?.status === '201';
          this.summary.count(created ? this.summary.created : this.summary.existing, reading.key);
        });
        return;
      } catch (err) {
        const index = err instanceof EntryError ? err.index : -1;
        const invalid = err instanceof EntryError && [400, 422].includes(outcomeStatus(err.outcome));
        if (!(err instanceof EntryError) || !invalid || index >= batch.length) {
          throw err; // not one reading's fault (access, the database): the import stops
        }
        const refused = batch[index] as Pending;
        this.summary.reject(refused.reading.line, outcomeText(err));
        batch = batch.filter((_, i) => i !== index);
      }
    }
  }

  /** Creates (or finds) the Devices of the batch's readings not seen yet, in a transaction before the batch. */
  private async resolveDevices(batch: readonly Pending[]): Promise<void> {
    const { patientId } = this.options;
    const fresh = new Map<string, SourceDevice>();
    for (const { reading } of batch) {
      const key = deviceKey(reading.device);
      if (!this.devices.has(key)) {
        fresh.set(key, reading.device);
      }
    }
    if (fresh.size === 0) {
      return;
    }
    const devices = [...fresh.values()];
    const entries = devices.map((d) =>
      conditionalCreate(deviceResource(patientId, d), DEVICE_IDENTIFIER, deviceIdentifier(patientId, d))
    );
    const answer = await this.run(this.options.deviceRepo, entries);
    devices.forEach((device, i) => {
      const reference = referenceOf(answer.entry?.[i]);
      this.devices.set(deviceKey(device), reference);
      this.summary.devices.set(reference, answer.entry?.[i]?.response?.status === '201');
    });
  }

  private async run(repo: HaleRepository, entries: BundleEntry[]): Promise<Bundle> {
    const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries };
    const req: FhirRequest = {
      method: 'POST',
      url: '',
      pathname: '',
      params: {},
      query: {},
      body: bundle,
      headers: { prefer: 'return=minimal' },
    };
    const { router, maxEntries } = this.options;
    const [, answer] = await bundleHandler(req, repo, router, Math.max(maxEntries, entries.length));
    return answer as Bundle;
  }
}

function conditionalCreate(resource: Resource, system: string, value: string): BundleEntry {
  return {
    resource,
    request: { method: 'POST', url: resource.resourceType, ifNoneExist: `identifier=${system}|${value}` },
  };
}

/** `Device/id` from an entry's response location (`…/Device/id/_history/1`). */
function referenceOf(entry: BundleEntry | undefined): string {
  const m = /(Device\/[^/]+)(\/_history\/[^/]+)?$/.exec(entry?.response?.location ?? '');
  if (!m?.[1]) {
    throw new Error(`the import's Device entry answered without a location: ${JSON.stringify(entry?.response)}`);
  }
  return m[1];
}

function outcomeText(err: OperationOutcomeError): string {
  const issue = err.outcome.issue?.[0];
  const text = issue?.details?.text ?? issue?.diagnostics ?? 'refused';
  return text.replace(/^Bundle\.entry\[\d+\]: /, '');
}
