import type { Binary } from '@medplum/fhirtypes';
import type { AuditWriter } from '../../audit/audit-writer';
import type { Database } from '../../db/database';
import type { Logger } from '../../logger';
import { HaleRepository } from '../../storage/repository';
import type { PolicyDeps } from '../caller';
import { policyOfClaims } from '../caller';
import { LineError, importNdjson, lineOutcome } from './ndjson-import';
import type { ImportFile, ImportJob, ImportStore } from './store';

export interface ImportRunDeps extends PolicyDeps {
  db: Database;
  audit: Pick<AuditWriter, 'recordAll'>;
  store: ImportStore;
  logger: Logger;
}

/** The worker is stopping: the file in progress rolls back and the import goes back to pending. */
export class ImportStopped extends Error {}
/** This attempt lost the import (its lease expired and another worker took it): roll back, touch nothing. */
export class ImportLost extends Error {}

/**
 * Runs an import's pending files in order, each in a transaction of its own that also marks the
 * file done, so an interrupted file leaves nothing and is imported again from its first line. A
 * file with a bad line is marked failed with its OperationOutcome; the next file still runs.
 * The caller's access policy is rebuilt from the stored token claims for every file.
 */
export async function runImport(job: ImportJob, deps: ImportRunDeps, signal: AbortSignal): Promise<void> {
  const files = await deps.store.files(job.id);
  for (const file of files) {
    if (file.state !== 'pending') {
      continue;
    }
    const prefix = `file ${file.seq}/${files.length}`;
    if (!(await deps.store.heartbeat(job, `${prefix}: starting`))) {
      throw new ImportLost();
    }
    const repo = new HaleRepository({
      db: deps.db,
      access: await policyOfClaims(job.claims, deps),
      searchParams: deps.searchParams,
      baseUrl: deps.baseUrl,
      validate: true,
      caller: job.claims,
    });
    try {
      const text = await fileText(repo, deps.store, job, file);
      await importNdjson(repo, text, file.type ?? undefined, {
        progress: async (count) => {
          if (signal.aborted) {
            throw new ImportStopped();
          }
          if (!(await deps.store.heartbeat(job, `${prefix}: ${count} resources`))) {
            throw new ImportLost();
          }
        },
        beforeCommit: async (tx, counts) => {
          if (!(await deps.store.markDone(tx, job, file.seq, counts))) {
            throw new ImportLost();
          }
        },
      });
    } catch (err) {
      if (!(err instanceof LineError)) {
        throw err;
      }
      await deps.store.markFailed(job, file.seq, err.outcome);
    }
  }
}

/** The NDJSON of a file: the POSTed body, or a Binary the caller can read now. */
async function fileText(repo: HaleRepository, store: ImportStore, job: ImportJob, file: ImportFile): Promise<string> {
  if (file.source === 'body') {
    return (await store.body(job.id, file.seq)) ?? '';
  }
  try {
    const binary = await repo.readResource<Binary>('Binary', file.source.slice('Binary/'.length));
    return Buffer.from(binary.data ?? '', 'base64').toString('utf8');
  } catch (err) {
    throw new LineError(0, lineOutcome(0, err));
  }
}
