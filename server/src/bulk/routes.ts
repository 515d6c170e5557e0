import { OperationOutcomeError, forbidden, notFound, serverError, tooManyRequests } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { AuditUnavailableError } from '../audit/request-audit';
import { parseScopes } from '../auth/oauth';
import type { AccessTokenClaims } from '../auth/types';
import { FHIR_JSON, withResponseHeaders } from '../fhir/http';
import { auditStep } from './audit';
import { policyOfClaims, scopesCover } from './caller';
import { manifestOf } from './manifest';
import { NDJSON } from './parameters';
import type { BulkExports } from './service';
import type { ExportFile, ExportJob } from './store';
import { importRoutes } from './import/routes';

/** Seconds a client is asked to wait between status requests while an export runs. */
export const POLL_SECONDS = 2;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FILE = /^[A-Za-z]+-\d{1,6}\.ndjson$/;

type Handler = (req: Request, res: Response) => Promise<void>;
const route =
  (h: Handler) =>
  (req: Request, res: Response, next: NextFunction): void => {
    h(req, res).catch(next);
  };

/**
 * The status URL and the output files of an export: `[base]/bulkdata/export/{id}` (GET status,
 * DELETE cancel) and `[base]/bulkdata/export/{id}/{file}`. Mounted under the FHIR base after the
 * bearer middleware; only the client and user that started an export see it (anyone else: 404,
 * as for an export that does not exist). Errors go to the app's one error handler (OperationOutcome).
 */
export function bulkRoutes(bulk: BulkExports): express.Router {
  const router = express.Router();
  router.use('/import', importRoutes(bulk.imports));
  router.get(
    '/export/:id',
    route((req, res) => status(bulk, req, res))
  );
  router.delete(
    '/export/:id',
    route((req, res) => cancel(bulk, req, res))
  );
  router.get(
    '/export/:id/:file',
    route((req, res) => download(bulk, req, res))
  );
  return router;
}

async function ownJob(bulk: BulkExports, req: Request): Promise<ExportJob> {
  const id = String(req.params.id);
  const claims = req.auth as AccessTokenClaims;
  const job = UUID.test(id) ? await bulk.store.get(id) : undefined;
  if (!job || job.state === 'cancelled' || job.client_id !== claims.client_id || job.subject !== claims.sub) {
    throw new OperationOutcomeError(notFound);
  }
  return job;
}

export function informational(text: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'information', code: 'informational', details: { text } }],
  };
}

async function status(bulk: BulkExports, req: Request, res: Response): Promise<void> {
  const job = await ownJob(bulk, req);
  if (!bulk.notePoll(job.id)) {
    const text = `Polled too often: wait ${POLL_SECONDS} s between status requests (Retry-After)`;
    throw new OperationOutcomeError(
      withResponseHeaders(
        { ...tooManyRequests, issue: [{ severity: 'error', code: 'throttled', details: { text } }] },
        { 'Retry-After': String(POLL_SECONDS) }
      )
    );
  }
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
        ...serverError(new Error('export failed')),
        issue: [{ severity: 'error', code: 'exception', details: { text: job.error ?? 'The export failed' } }],
      });
    case 'cancelled':
      throw new OperationOutcomeError(notFound);
    case 'done': {
      const files = await bulk.store.files(job.id);
      const manifest = manifestOf(job, files, (name) => bulk.fileUrl(job.id, name));
      res
        .status(200)
        .type('application/json')
        .set('Expires', new Date(job.expires_at).toUTCString())
        .send(JSON.stringify(manifest));
      return;
    }
  }
}

/** DELETE: a running export stops at its next page; any other is deleted with its files now. Then 404. */
async function cancel(bulk: BulkExports, req: Request, res: Response): Promise<void> {
  const job = await ownJob(bulk, req);
  const resources = (await bulk.store.files(job.id)).reduce((n, f) => n + (f.kind === 'output' ? f.count : 0), 0);
  const was = await bulk.store.cancel(job.id);
  if (!was) {
    throw new OperationOutcomeError(notFound);
  }
  if (was !== 'running') {
    await bulk.removeFiles(job.id);
  }
  await audited(() =>
    auditStep(auditDeps(bulk), job, undefined, {
      step: 'export-cancelled',
      url: bulk.statusUrl(job.id),
      resources,
      requestId: req.id,
      address: req.ip,
      status: 202,
    })
  );
  const text = was === 'done' ? 'The export and its files were deleted' : 'The export was cancelled';
  res
    .status(202)
    .type(FHIR_JSON)
    .send(JSON.stringify(informational(text)));
}

/**
 * An output file. The token must still cover what the file holds (its type; for the deletions and
 * messages, every type the kick-off's token could read). The download is audited before a byte is
 * sent, as every read is, and streamed from disk.
 */
async function download(bulk: BulkExports, req: Request, res: Response): Promise<void> {
  const job = await ownJob(bulk, req);
  const name = String(req.params.file);
  const file = job.state === 'done' && FILE.test(name) ? await bulk.store.file(job.id, name) : undefined;
  if (!file) {
    throw new OperationOutcomeError(notFound);
  }
  const claims = req.auth as AccessTokenClaims;
  if (!covers(claims, job, file)) {
    throw new OperationOutcomeError({
      ...forbidden,
      issue: [{ severity: 'error', code: 'forbidden', details: { text: 'The access token does not cover this file' } }],
    });
  }
  const path = bulk.filePath(job, name);
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    throw new OperationOutcomeError(notFound); // another replica's disk (BULK_DIR must be shared), or swept
  }
  await audited(async () =>
    auditStep(auditDeps(bulk), job, await policyOfClaims(job.claims, bulk.deps), {
      step: 'file-download',
      fileName: name,
      url: bulk.fileUrl(job.id, name),
      resources: file.count,
      requestId: req.id,
      address: req.ip,
    })
  );
  const done = bulk.downloading(job.id);
  res.status(200).type(NDJSON).set('Content-Length', String(info.size));
  const stream = createReadStream(path);
  res.on('close', () => {
    stream.destroy();
    done();
  });
  stream.on('error', (err) => {
    bulk.deps.logger.warn({ err, export: job.id, file: name }, 'bulk export file could not be read');
    res.destroy(err);
  });
  stream.pipe(res);
}

const auditDeps = (bulk: BulkExports) => ({ audit: bulk.deps.audit, store: bulk.store, baseUrl: bulk.deps.baseUrl });

/** An answer goes out only once its AuditEvents are committed (500, or 503 on a lost connection, otherwise). */
export async function audited(record: () => Promise<void>): Promise<void> {
  try {
    await record();
  } catch (err) {
    throw new AuditUnavailableError(err);
  }
}

function covers(claims: AccessTokenClaims, job: ExportJob, file: ExportFile): boolean {
  const now = parseScopes(claims.scope).resources;
  if (file.kind === 'output') {
    return scopesCover(now, file.type);
  }
  const readable = parseScopes(job.claims.scope).resources.filter(
    (s) => s.permissions.has('r') || s.permissions.has('s')
  );
  return readable.every((s) => scopesCover(now, s.resourceType)); // a '*' scope is covered only by a '*' scope
}
