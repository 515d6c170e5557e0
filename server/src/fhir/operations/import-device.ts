import { OperationOutcomeError, allOk, badRequest, contentTooLarge, unsupportedMediaType } from '@medplum/core';
import type { FhirRequest, FhirResponse, FhirRouter } from '@medplum/fhir-router';
import type { OperationDefinition, OperationOutcome } from '@medplum/fhirtypes';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { importDeviceFile } from '../../devices/import';
import { DEVICE_KINDS, KINDS, isDeviceKind } from '../../devices/kinds';
import { MalformedFile } from '../../devices/readings';
import { ImportSummary, failedImportOutcome, summaryParameters } from '../../devices/summary';
import type { HaleRepository } from '../../storage/repository';
import { streamedBodyOf } from '../streamed-body';

export const importDeviceOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Patient-import-device',
  url: 'https://hale.health/fhir/OperationDefinition/Patient-import-device',
  name: 'PatientImportDevice',
  title: "Import a device or app export file into a patient's record",
  status: 'active',
  kind: 'operation',
  code: 'import-device',
  affectsState: true,
  description:
    'POST the export file itself as the body (Apple Health export.xml, a Fitbit Global Export Data JSON file, ' +
    'Garmin Activities.csv, Oura trends CSV, Withings weight/bp/sleep CSV), with `kind` saying which. It is read ' +
    'as it arrives and written as measurement Observations (Hale profiles, UCUM units) with a Device per source ' +
    'device; a reading already stored (same device, code and time) is not written again. See docs/device-imports.md.',
  resource: ['Patient'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'kind', use: 'in', min: 1, max: '1', type: 'code', documentation: DEVICE_KINDS.join(' | ') },
    { name: 'metric', use: 'in', min: 0, max: '1', type: 'code', documentation: 'Fitbit: the file name prefix' },
    { name: 'weight-unit', use: 'in', min: 0, max: '1', type: 'code', documentation: 'Fitbit weight: kg | lb' },
    { name: 'created', use: 'out', min: 1, max: '1', type: 'integer' },
    { name: 'existing', use: 'out', min: 1, max: '1', type: 'integer' },
    { name: 'skipped', use: 'out', min: 1, max: '1', type: 'integer' },
    { name: 'rejected', use: 'out', min: 1, max: '1', type: 'integer' },
    { name: 'measurement', use: 'out', min: 0, max: '*' },
    { name: 'device', use: 'out', min: 0, max: '*' },
    { name: 'skip', use: 'out', min: 0, max: '*' },
    { name: 'rejection', use: 'out', min: 0, max: '*' },
  ],
};

export interface ImportDeviceLimits {
  maxBytes: number;
  bundleMaxEntries: number;
  /** Writes the Devices, which R4's patient compartment leaves out (server/src/devices/batch-writer.ts). */
  systemRepository: () => HaleRepository;
}

const single = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

class TooLarge extends Error {}

/**
 * The body's chunks, stopping with TooLarge past `max` bytes (a chunked body declares no length). Stopping early
 * must not destroy the request: its socket still carries the answer (and the audit reads its address).
 */
async function* limited(stream: Readable, max: number): AsyncGenerator<Buffer> {
  let size = 0;
  for await (const chunk of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      throw new TooLarge();
    }
    yield chunk;
  }
}

/**
 * The body, received into a temporary file before it is read. Node ends a request not received within
 * requestTimeout (5 minutes) with 408, and an import of a large export takes longer than that: reading the upload
 * at the pace of the writes would cut it off. Received at network speed it is done in seconds; the import then
 * streams the file from disk (never all of it in memory) and the answer follows when it is written.
 */
async function spool(stream: Readable, max: number): Promise<{ path: string; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'hale-import-device-'));
  const path = join(dir, 'upload');
  const dispose = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    await pipeline(limited(stream, max), createWriteStream(path));
    return { path, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

function refusal(outcome: OperationOutcome, text: string): OperationOutcomeError {
  return new OperationOutcomeError({
    ...outcome,
    issue: [{ severity: 'error', code: 'not-supported', details: { text } }],
  });
}

/** Refuses what can be refused before a byte is read: the kind, the media type, the declared size, the caller. */
async function checkRequest(req: FhirRequest, repo: HaleRepository, limits: ImportDeviceLimits): Promise<void> {
  const body = streamedBodyOf(req.body);
  const kind = single(req.query.kind);
  if (!isDeviceKind(kind)) {
    throw new OperationOutcomeError(badRequest(`kind must be one of ${DEVICE_KINDS.join(', ')}`, 'kind'));
  }
  const types = KINDS[kind].contentTypes;
  if (!body || !types.includes(body.contentType)) {
    throw refusal(
      unsupportedMediaType,
      `A ${kind} file is sent as ${types.join(', ')}, not '${body?.contentType ?? ''}'`
    );
  }
  if (body.declaredLength !== undefined && body.declaredLength > limits.maxBytes) {
    throw new OperationOutcomeError(contentTooLarge(`The file exceeds the limit of ${limits.maxBytes} bytes`));
  }
  const patientId = req.params.id as string;
  // Write access to this patient's record, before the file is read: a patient app imports for itself only.
  repo.ctx.access.checkWrite('Observation', { compartments: [patientId] }, 'create');
  await repo.readResource('Patient', patientId); // 404/410 for an unknown or hidden patient
}

/** POST Patient/{id}/$import-device?kind=… with the export file as the body (docs/device-imports.md). */
export function importDeviceHandler(limits: ImportDeviceLimits) {
  return async (req: FhirRequest, repo: HaleRepository, router: FhirRouter): Promise<FhirResponse> => {
    await checkRequest(req, repo, limits);
    const body = streamedBodyOf(req.body);
    const kind = single(req.query.kind);
    if (!body || !isDeviceKind(kind)) {
      throw new OperationOutcomeError(badRequest('no file')); // checkRequest refused these already
    }
    const weightUnit = single(req.query['weight-unit']);
    if (weightUnit !== undefined && weightUnit !== 'kg' && weightUnit !== 'lb') {
      throw new OperationOutcomeError(badRequest('weight-unit must be kg or lb', 'weight-unit'));
    }
    const summary = new ImportSummary();
    let upload: Awaited<ReturnType<typeof spool>> | undefined;
    try {
      upload = await spool(body.stream, limits.maxBytes);
      await importDeviceFile(
        {
          repo,
          deviceRepo: limits.systemRepository(),
          router,
          patientId: req.params.id as string,
          kind,
          input: createReadStream(upload.path),
          options: { metric: single(req.query.metric), weightUnit },
          maxEntries: limits.bundleMaxEntries,
        },
        summary
      );
    } catch (err) {
      body.stream.resume(); // the rest of the file is discarded, so the connection can carry the answer
      if (err instanceof MalformedFile) {
        throw new OperationOutcomeError(failedImportOutcome(err.message, err.line, summary));
      }
      if (err instanceof TooLarge) {
        const outcome = failedImportOutcome(
          `The file exceeds the limit of ${limits.maxBytes} bytes`,
          undefined,
          summary
        );
        throw new OperationOutcomeError({ ...contentTooLarge(''), issue: outcome.issue });
      }
      throw err;
    } finally {
      await upload?.dispose();
    }
    return [allOk, summaryParameters(summary)];
  };
}
