import { OperationOutcomeError, notFound, serverError } from '@medplum/core';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { AccessTokenClaims } from '../../auth/types';
import { FHIR_JSON } from '../../fhir/http';
import { NDJSON } from '../parameters';
import { POLL_SECONDS, audited, informational } from '../routes';
import { auditImport } from './audit';
import type { BulkImports } from './service';
import type { ImportFile, ImportJob } from './store';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ERROR_FILE = /^error-(\d{1,6})\.ndjson$/;

type Handler = (req: Request, res: Response) => Promise<void>;
const route =
  (h: Handler) =>
  (req: Request, res: Response, next: NextFunction): void => {
    h(req, res).catch(next);
  };

/**
 * `[base]/bulkdata/import/{id}` (status) and `…/{id}/error-{n}.ndjson` (the OperationOutcome of
 * failed file n). As for exports, only the client and user that started the import see it.
 */
export function importRoutes(imports: BulkImports): express.Router {
  const router = express.Router();
  router.get(
    '/:id',
    route((req, res) => status(imports, req, res))
  );
  router.delete(
    '/:id',
    route((req, res) => cancel(imports, req, res))
  );
  router.get(
    '/:id/:file',
    route((req, res) => errorFile(imports, req, res))
  );
  return router;
}

async function ownJob(imports: BulkImports, req: Request): Promise<ImportJob> {
  const id = String(req.params.id);
  const claims = req.auth as AccessTokenClaims;
  const job = UUID.test(id) ? await imports.store.get(id) : undefined;
  if (!job || job.client_id !== claims.client_id || job.subject !== claims.sub) {
    throw new OperationOutcomeError(notFound);
  }
  return job;
}

/** The completion body: the export manifest's shape, per input file (`input`: which one). */
export function importManifest(imports: BulkImports, job: ImportJob, files: readonly ImportFile[]): unknown {
  const url = (f: ImportFile): string => `${imports.statusUrl(job.id)}/error-${f.seq}.ndjson`;
  const input = (f: ImportFile): string => (f.source === 'body' ? `body` : f.source);
  return {
    transactionTime: job.created_at,
    request: job.request_url,
    requiresAccessToken: true,
    output: files.flatMap((f) =>
      f.state === 'done' ? Object.entries(f.counts).map(([type, count]) => ({ type, count, input: input(f) })) : []
    ),
    error: files
      .filter((f) => f.state === 'failed')
      .map((f) => ({
        type: 'OperationOutcome',
        count: 1,
        url: url(f),
        input: input(f),
        inputType: f.type ?? undefined,
      })),
  };
}

async function status(imports: BulkImports, req: Request, res: Response): Promise<void> {
  const job = await ownJob(imports, req);
  switch (job.state) {
    case 'pending':
    case 'running':
      res
        .status(202)
        .set({
          'Retry-After': String(POLL_SECONDS),
          'X-Progress': job.progress ?? (job.state === 'pending' ? 'queued' : 'in progress'),
        })
        .end();
      return;
    case 'failed':
      throw new OperationOutcomeError({
        ...serverError(new Error('import failed')),
        issue: [{ severity: 'error', code: 'exception', details: { text: job.error ?? 'The import failed' } }],
      });
    case 'done':
      res
        .status(200)
        .type('application/json')
        .set('Expires', new Date(job.expires_at).toUTCString())
        .send(JSON.stringify(importManifest(imports, job, await imports.store.files(job.id))));
  }
}

/**
 * DELETE: the import is forgotten (its status URL and error files answer 404 from now on). A
 * running one stops within its current file, which rolls back; files already imported stay.
 * Audited before the answer, as the export's cancellation is.
 */
async function cancel(imports: BulkImports, req: Request, res: Response): Promise<void> {
  const job = await ownJob(imports, req);
  const files = await imports.store.files(job.id);
  const was = await imports.store.cancel(job.id);
  if (!was) {
    throw new OperationOutcomeError(notFound);
  }
  await audited(() =>
    auditImport(imports.deps.audit, imports.deps.baseUrl, job, {
      step: 'import-cancelled',
      files,
      url: imports.statusUrl(job.id),
      status: 202,
      requestId: req.id,
      address: req.ip,
    })
  );
  const text =
    was === 'pending' || was === 'running'
      ? 'The import was cancelled; files already imported stay'
      : 'The import was deleted';
  res
    .status(202)
    .type(FHIR_JSON)
    .send(JSON.stringify(informational(text)));
}

async function errorFile(imports: BulkImports, req: Request, res: Response): Promise<void> {
  const job = await ownJob(imports, req);
  const seq = Number(ERROR_FILE.exec(String(req.params.file))?.[1] ?? NaN);
  const file = (await imports.store.files(job.id)).find((f) => f.seq === seq && f.state === 'failed');
  if (!file?.outcome) {
    throw new OperationOutcomeError(notFound);
  }
  res
    .status(200)
    .type(NDJSON)
    .send(`${JSON.stringify(file.outcome)}\n`);
}
