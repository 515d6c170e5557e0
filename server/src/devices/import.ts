import type { FhirRouter } from '@medplum/fhir-router';
import type { HaleRepository } from '../storage/repository';
import { BatchWriter } from './batch-writer';
import type { DeviceKind, KindOptions } from './kinds';
import { KINDS } from './kinds';
import { ImportSummary } from './summary';

/** Readings per transaction Bundle: large enough that a Bundle's fixed costs vanish, small enough to stream. */
export const IMPORT_BATCH = 1000;

export interface DeviceImport {
  repo: HaleRepository;
  /** Writes the Devices (batch-writer.ts says why): the system repository. */
  deviceRepo: HaleRepository;
  router: FhirRouter;
  patientId: string;
  kind: DeviceKind;
  input: AsyncIterable<Buffer | string>;
  options?: KindOptions;
  maxEntries: number;
  batchSize?: number;
  /** Called after each committed batch with the summary so far (the CLI's progress). */
  progress?: (summary: ImportSummary) => void;
}

/**
 * Reads an export file as a stream and writes its readings in batches (batch-writer.ts). A file that cannot be
 * read on throws MalformedFile part-way: the batches before it have committed, and `summary` says what they
 * stored (the caller reports it, failedImportOutcome).
 */
export async function importDeviceFile(job: DeviceImport, summary = new ImportSummary()): Promise<ImportSummary> {
  const batchSize = job.batchSize ?? IMPORT_BATCH;
  const writer = new BatchWriter(
    {
      repo: job.repo,
      deviceRepo: job.deviceRepo,
      router: job.router,
      patientId: job.patientId,
      batchSize,
      maxEntries: job.maxEntries,
    },
    summary
  );
  let sinceProgress = 0;
  for await (const event of KINDS[job.kind].read(job.input, job.options ?? {})) {
    if (event.kind === 'reading') {
      await writer.add(event.reading);
      if (++sinceProgress >= batchSize) {
        sinceProgress = 0;
        job.progress?.(summary);
      }
    } else if (event.kind === 'skip') {
      summary.count(summary.skipped, event.reason);
    } else {
      summary.reject(event.line, event.reason);
    }
  }
  await writer.flush();
  job.progress?.(summary);
  return summary;
}
