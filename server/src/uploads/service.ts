import { OperationOutcomeError, badRequest, businessRule, contentTooLarge, unsupportedMediaType } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { rm } from 'node:fs/promises';
import { serviceUnavailable } from '../fhir/errors';
import type { StreamedBody } from '../fhir/streamed-body';
import type { BlobStore } from './blob-store';
import { LocalBlobStore } from './blob-store';
import type { UploadConfig } from './config';
import type { ReceivedFile } from './receive';
import { TooLarge, TypeRefused, receive } from './receive';
import type { UploadType } from './sniff';
import { acceptedContentTypes, allowedTypes, declaredType } from './sniff';
import type { VirusScanner } from './scan';
import { ScanUnavailable, commandScanner, noScan } from './scan';

/** What the upload and download handlers need: the limits, the store, the scan hook (wired once in app.ts). */
export interface Uploads {
  maxBytes: number;
  allowed: readonly UploadType[];
  store: BlobStore;
  /** Where uploads are received before they are kept (on the store's file system, so keeping is a rename). */
  spoolDir: string;
  scanner: VirusScanner;
}

export function uploadsOf(config: UploadConfig, scanner?: VirusScanner): Uploads {
  const store = new LocalBlobStore(config.dir);
  return {
    maxBytes: config.maxBytes,
    allowed: allowedTypes(config.allowDicom),
    store,
    spoolDir: store.spoolDir,
    scanner: scanner ?? (config.scanCommand ? commandScanner(config.scanCommand, config.scanTimeoutMs) : noScan),
  };
}

function refusal(base: OperationOutcome, code: 'not-supported' | 'too-long', text: string): OperationOutcomeError {
  return new OperationOutcomeError({ ...base, issue: [{ severity: 'error', code, details: { text } }] });
}

function typeRefusal(u: Uploads, text: string): OperationOutcomeError {
  return refusal(
    unsupportedMediaType,
    'not-supported',
    `${text}; accepted: ${acceptedContentTypes(u.allowed).join(', ')}`
  );
}

/** What can be refused before a byte is read: a declared type not accepted, a declared length over the limit. */
export function checkDeclared(u: Uploads, body: StreamedBody): UploadType {
  const declared = declaredType(body.contentType, u.allowed);
  if (!declared) {
    throw typeRefusal(u, `Content-Type '${body.contentType}' is not accepted for uploads`);
  }
  if (body.declaredLength !== undefined && body.declaredLength > u.maxBytes) {
    throw refusal(contentTooLarge(''), 'too-long', `The file exceeds the upload limit of ${u.maxBytes} bytes`);
  }
  return declared;
}

/**
 * Receives the body into the spool directory and runs the scan hook on it. Every refusal removes what was
 * received; the rest of a refused body is read and discarded, so the connection can carry the answer.
 */
export async function receiveUpload(u: Uploads, body: StreamedBody, declared: UploadType): Promise<ReceivedFile> {
  let file: ReceivedFile;
  try {
    file = await receive(body.stream, { spoolDir: u.spoolDir, maxBytes: u.maxBytes, declared, allowed: u.allowed });
  } catch (err) {
    if (body.stream.readableAborted || (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
      // The client went away mid-file: nobody reads the answer, but the audit records the attempt.
      throw new OperationOutcomeError(badRequest('The upload ended before the whole file arrived'));
    }
    body.stream.resume();
    if (err instanceof TooLarge) {
      throw refusal(contentTooLarge(''), 'too-long', `The file exceeds the upload limit of ${u.maxBytes} bytes`);
    }
    if (err instanceof TypeRefused) {
      throw typeRefusal(
        u,
        err.sniffed
          ? `The content is ${err.sniffed}, not the declared ${body.contentType}`
          : `The content is not a file of an accepted type (declared ${body.contentType})`
      );
    }
    throw err;
  }
  try {
    const verdict = await u.scanner.scan({ path: file.path, contentType: file.contentType, size: file.size });
    if (!verdict.clean) {
      throw new OperationOutcomeError(businessRule('virus-scan', 'The file was refused by the virus scan'));
    }
    return file;
  } catch (err) {
    await rm(file.path, { force: true });
    if (err instanceof ScanUnavailable) {
      throw new OperationOutcomeError({
        ...serviceUnavailable,
        issue: [
          { severity: 'error', code: 'transient', details: { text: 'The virus scan is unavailable; retry later' } },
        ],
      });
    }
    throw err;
  }
}

/**
 * Keeps a received file under `key` once `write` (the Binary and what goes with it, in one database transaction)
 * has succeeded, and before that transaction commits: if the commit fails the file is removed again, if keeping
 * the file fails nothing commits. Either way the spool file is gone afterwards.
 */
export async function keepUpload<T>(
  u: Uploads,
  file: ReceivedFile,
  write: (keep: (key: string) => Promise<void>) => Promise<T>
): Promise<T> {
  let kept: string | undefined;
  try {
    return await write(async (key) => {
      await u.store.put(key, file.path);
      kept = key;
    });
  } catch (err) {
    if (kept) {
      await u.store.remove(kept);
    }
    throw err;
  } finally {
    await rm(file.path, { force: true });
  }
}
