import { OperationOutcomeError, notFound, serverError } from '@medplum/core';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { AccessTokenClaims } from '../../auth/types';
import { NDJSON } from '../parameters';
import { POLL_SECONDS } from '../routes';
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
